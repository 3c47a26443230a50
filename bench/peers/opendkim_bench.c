/*
 * Peer benchmark harness for libopendkim (Debian: libopendkim-dev).
 *
 *   opendkim_bench sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR
 *
 * Same interface as every harness driven by bench/peers.sh: all the *.eml in CORPUS_DIR
 * are read into memory and the key is loaded before the clock starts; `sign`
 * signs every message in passes until MTAS_BENCH_SECONDS (default 2) have elapsed,
 * at least one full pass; `verify` signs every message once (untimed), then
 * verifies in passes and aborts unless each verification passes. One JSON line
 * goes to stdout: {"impl":"opendkim","alg":..,"op":..,"messages":N,"bytes":B,"seconds":S}
 * (totals over all passes; bytes counts the unsigned messages).
 *
 * rsa-sha256 / ed25519-sha256, relaxed/relaxed, the header list the opendkim
 * filter signs by default (dkim_should_signhdrs).
 *
 * Key handling: dkim_sign() takes the private key as a NUL-terminated PEM
 * string (strlen() on it rules out DER) and parses it again for every message
 * with PEM_read_bio_PrivateKey(), which costs about 1 ms with OpenSSL 3.0 and
 * would dominate every signing number. To measure OpenDKIM with its key parsed
 * once, like every other harness, this program defines PEM_read_bio_PrivateKey
 * itself (the executable's definition interposes on libopendkim's call) and,
 * when the PEM is the benchmark key, hands out a reference to the key parsed
 * at startup; anything else goes to OpenSSL's function. OPENDKIM_KEY_CACHE=0
 * turns that off and measures the library exactly as its API forces.
 *
 * DNS: replaced by an in-memory table of KEY_DIR/keys.txt, served through
 * dkim_set_key_lookup(). With OPENDKIM_QUERY=file the library's own
 * DKIM_QUERY_FILE method reads keys.txt instead (it reopens the file on every
 * verification).
 *
 * Build: cc -O2 -o opendkim_bench opendkim_bench.c -lopendkim -lcrypto
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#define DOMAIN "bench.example"

struct msg {
  unsigned char *data;
  size_t len;       /* what is fed to the library (signed message for verify) */
  size_t orig_len;  /* the corpus file's size, what "bytes" counts */
};

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "opendkim_bench: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) die("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n + 1);
  if (buf == NULL || fread(buf, 1, n, f) != (size_t)n) die("cannot read %s", path);
  buf[n] = '\0';
  fclose(f);
  *len = n;
  return buf;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.eml in DIR (sorted by name). */
static struct msg *load_corpus(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (d == NULL) die("cannot open corpus %s", dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0) continue;
    if (n == cap) names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  if (n == 0) die("no *.eml in %s", dir);
  qsort(names, n, sizeof *names, cmp_names);
  struct msg *msgs = calloc(n, sizeof *msgs);
  for (size_t i = 0; i < n; i++) {
    char *path;
    if (asprintf(&path, "%s/%s", dir, names[i]) < 0) die("%s", "out of memory");
    msgs[i].data = read_file(path, &msgs[i].len);
    msgs[i].orig_len = msgs[i].len;
    free(path);
    free(names[i]);
  }
  free(names);
  *count = n;
  return msgs;
}

/* The parsed-once private key (see the header comment). */
static const unsigned char *cached_pem;
static size_t cached_pem_len;
static EVP_PKEY *cached_pkey;

typedef EVP_PKEY *(*pem_read_fn)(BIO *, EVP_PKEY **, pem_password_cb *, void *);

static pem_read_fn real_pem_read(void) {
  static pem_read_fn real;
  if (real == NULL) real = (pem_read_fn)dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");
  if (real == NULL) die("%s", "cannot find OpenSSL's PEM_read_bio_PrivateKey");
  return real;
}

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u) {
  char *data;
  long len = BIO_get_mem_data(bp, &data);
  if (cached_pkey != NULL && x == NULL && len == (long)cached_pem_len &&
      memcmp(data, cached_pem, cached_pem_len) == 0) {
    EVP_PKEY_up_ref(cached_pkey);  /* libopendkim frees its reference */
    return cached_pkey;
  }
  return real_pem_read()(bp, x, cb, u);
}

static void cache_key(const unsigned char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  cached_pkey = real_pem_read()(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (cached_pkey == NULL) die("%s", "cannot parse the private key");
  cached_pem = pem;
  cached_pem_len = len;
}

/* keys.txt: "sel._domainkey.domain record" per line. */
static char key_names[8][4096];
static char key_records[8][4096];
static int nkeys;

static void load_key_records(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) die("cannot open %s", path);
  char line[4096];
  while (nkeys < 8 && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    char *sp = strchr(line, ' ');
    if (sp == NULL) continue;
    *sp = '\0';
    snprintf(key_names[nkeys], sizeof key_names[0], "%s", line);
    snprintf(key_records[nkeys], sizeof key_records[0], "%s", sp + 1);
    nkeys++;
  }
  fclose(f);
}

/* The key lookup callback standing in for DNS. */
static DKIM_CBSTAT lookup_key(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen) {
  (void)dkim;
  char name[300];
  snprintf(name, sizeof name, "%s._domainkey.%s", dkim_sig_getselector(sig), dkim_sig_getdomain(sig));
  for (int i = 0; i < nkeys; i++) {
    if (strcasecmp(name, key_names[i]) == 0) {
      snprintf((char *)buf, buflen, "%s", key_records[i]);
      return DKIM_CBSTAT_CONTINUE;
    }
  }
  return DKIM_CBSTAT_NOTFOUND;
}

/* Signs one message; returns a malloc'd "DKIM-Signature: ...\r\n" header. */
static char *sign_one(DKIM_LIB *lib, const struct msg *m, const unsigned char *key,
                      const char *selector, dkim_alg_t alg) {
  DKIM_STAT st;
  DKIM *dkim = dkim_sign(lib, (const u_char *)"bench", NULL, (dkim_sigkey_t)key,
                         (const u_char *)selector, (const u_char *)DOMAIN, DKIM_CANON_RELAXED,
                         DKIM_CANON_RELAXED, alg, -1, &st);
  if (dkim == NULL) die("dkim_sign: %s", dkim_getresultstr(st));
  if ((st = dkim_chunk(dkim, m->data, m->len)) != DKIM_STAT_OK ||
      (st = dkim_chunk(dkim, NULL, 0)) != DKIM_STAT_OK || (st = dkim_eom(dkim, NULL)) != DKIM_STAT_OK)
    die("signing failed: %s", dkim_geterror(dkim) ? dkim_geterror(dkim) : dkim_getresultstr(st));
  u_char *hdr = NULL;
  size_t hlen = 0;
  const char *prefix = DKIM_SIGNHEADER ": ";
  if ((st = dkim_getsighdr_d(dkim, strlen(prefix), &hdr, &hlen)) != DKIM_STAT_OK)
    die("dkim_getsighdr_d: %s", dkim_getresultstr(st));
  char *out;
  if (asprintf(&out, "%s%.*s\r\n", prefix, (int)hlen, (const char *)hdr) < 0) die("%s", "out of memory");
  dkim_free(dkim);
  return out;
}

static void verify_one(DKIM_LIB *lib, const struct msg *m) {
  DKIM_STAT st;
  DKIM *dkim = dkim_verify(lib, (const u_char *)"bench", NULL, &st);
  if (dkim == NULL) die("dkim_verify: %s", dkim_getresultstr(st));
  dkim_chunk(dkim, m->data, m->len);
  dkim_chunk(dkim, NULL, 0);
  st = dkim_eom(dkim, NULL);
  DKIM_SIGINFO *sig = dkim_getsignature(dkim);
  if (st != DKIM_STAT_OK || sig == NULL || !DKIM_SIG_CHECK(sig)) {
    fprintf(stderr, "opendkim_bench: verification did not pass (%s; %s)\n", dkim_getresultstr(st),
            sig ? dkim_sig_geterrorstr(dkim_sig_geterror(sig)) : "no signature");
    exit(1);
  }
  dkim_free(dkim);
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[1], "sign") != 0 && strcmp(argv[1], "verify") != 0)) {
    fprintf(stderr, "usage: %s sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR\n", argv[0]);
    return 64;
  }
  const char *op = argv[1], *algname = argv[2];
  bool verify = strcmp(op, "verify") == 0;
  dkim_alg_t alg;
  const char *selector;
  if (strcmp(algname, "ed25519") == 0) {
    alg = DKIM_SIGN_ED25519SHA256;
    selector = "ed";
  } else if (strcmp(algname, "rsa2048") == 0) {
    alg = DKIM_SIGN_RSASHA256;
    selector = "rsa";
  } else {
    die("unsupported algorithm %s", algname);
  }
  const char *env = getenv("MTAS_BENCH_SECONDS");
  double min_seconds = env ? atof(env) : 2.0;

  /* Untimed setup: corpus, key, library handle. */
  size_t n;
  struct msg *msgs = load_corpus(argv[3], &n);
  char *path;
  size_t keylen;
  if (asprintf(&path, "%s/%s.key.pem", argv[4], algname) < 0) die("%s", "out of memory");
  unsigned char *key = read_file(path, &keylen);
  free(path);
  const char *kc = getenv("OPENDKIM_KEY_CACHE");
  if (kc == NULL || strcmp(kc, "0") != 0) cache_key(key, keylen);
  if (asprintf(&path, "%s/keys.txt", argv[4]) < 0) die("%s", "out of memory");
  load_key_records(path);

  DKIM_LIB *lib = dkim_init(NULL, NULL);
  if (lib == NULL) die("%s", "dkim_init failed");
  if (alg == DKIM_SIGN_ED25519SHA256 && !dkim_libfeature(lib, DKIM_FEATURE_ED25519)) {
    fprintf(stderr, "opendkim_bench: this libopendkim was built without Ed25519\n");
    return 3;  /* n/a in the report */
  }
  dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, dkim_should_signhdrs, sizeof(u_char **));
  const char *q = getenv("OPENDKIM_QUERY");
  if (q != NULL && strcmp(q, "file") == 0) {
    dkim_query_t method = DKIM_QUERY_FILE;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof method);
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, path, strlen(path));
  } else {
    dkim_set_key_lookup(lib, lookup_key);
  }

  /* For verify: sign everything first (untimed), the signature header prepended. */
  if (verify) {
    for (size_t i = 0; i < n; i++) {
      char *hdr = sign_one(lib, &msgs[i], key, selector, alg);
      size_t hl = strlen(hdr);
      unsigned char *signed_msg = malloc(hl + msgs[i].len + 1);
      memcpy(signed_msg, hdr, hl);
      memcpy(signed_msg + hl, msgs[i].data, msgs[i].len + 1);
      free(hdr);
      free(msgs[i].data);
      msgs[i].data = signed_msg;
      msgs[i].len += hl;
      verify_one(lib, &msgs[i]);  /* fail before the clock starts */
    }
  }
  size_t pass_bytes = 0;
  for (size_t i = 0; i < n; i++) pass_bytes += msgs[i].orig_len;

  /* Timed: whole passes until min_seconds. */
  unsigned long long messages = 0, bytes = 0;
  double start = now(), elapsed;
  do {
    for (size_t i = 0; i < n; i++) {
      if (verify)
        verify_one(lib, &msgs[i]);
      else
        free(sign_one(lib, &msgs[i], key, selector, alg));
    }
    messages += n;
    bytes += pass_bytes;
    elapsed = now() - start;
  } while (elapsed < min_seconds);

  printf("{\"impl\":\"opendkim\",\"alg\":\"%s\",\"op\":\"%s\",\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n",
         algname, op, messages, bytes, elapsed);
  dkim_close(lib);
  return 0;
}
