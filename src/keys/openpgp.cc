// OpenPGP keys through librnp: the key a fingerprint names, checked by RNP,
// its numbers (RNP's JSON description of the key, read with json-c) handed
// to OpenSSL.
#include "mtas/openpgp.h"

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include <cctype>
#include <cstring>
#include <memory>

#include "common/ossl.h"
#include "common/shared_library.h"
#include "mtas/address.h"
#include "mtas/key_service.h"

namespace mtas {
namespace {

constexpr size_t kMaxData = 1024 * 1024;
// The shape of a key block librnp is given (UnusualShape): one primary key
// with its subkeys, user IDs and signatures, nothing else.
constexpr int kMaxSubkeys = 16, kMaxUserIds = 32, kMaxSignatures = 256;
constexpr int kMaxRsaBits = 8192, kMaxRsaExponentBits = 33;

// librnp and json-c, loaded at first use (common/shared_library.h says why:
// librnp brings Botan and a dozen more objects that signing never needs).
struct RnpLibrary {
  decltype(&rnp_ffi_create) ffi_create;
  decltype(&rnp_ffi_destroy) ffi_destroy;
  decltype(&rnp_input_from_memory) input_from_memory;
  decltype(&rnp_input_destroy) input_destroy;
  decltype(&rnp_import_keys) import_keys;
  decltype(&rnp_locate_key) locate_key;
  decltype(&rnp_key_handle_destroy) key_handle_destroy;
  decltype(&rnp_key_is_valid) key_is_valid;
  decltype(&rnp_key_is_revoked) key_is_revoked;
  decltype(&rnp_key_is_expired) key_is_expired;
  decltype(&rnp_key_allows_usage) key_allows_usage;
  decltype(&rnp_key_is_primary) key_is_primary;
  decltype(&rnp_key_get_primary_fprint) key_get_primary_fprint;
  decltype(&rnp_key_get_uid_count) key_get_uid_count;
  decltype(&rnp_key_get_uid_handle_at) key_get_uid_handle_at;
  decltype(&rnp_uid_get_data) uid_get_data;
  decltype(&rnp_uid_is_valid) uid_is_valid;
  decltype(&rnp_uid_is_revoked) uid_is_revoked;
  decltype(&rnp_uid_handle_destroy) uid_handle_destroy;
  decltype(&rnp_key_have_secret) key_have_secret;
  decltype(&rnp_key_is_protected) key_is_protected;
  decltype(&rnp_key_to_json) key_to_json;
  decltype(&rnp_buffer_destroy) buffer_destroy;
  decltype(&rnp_identifier_iterator_create) iterator_create;
  decltype(&rnp_identifier_iterator_next) iterator_next;
  decltype(&rnp_identifier_iterator_destroy) iterator_destroy;
  decltype(&rnp_result_to_string) result_to_string;
  decltype(&rnp_dearmor) dearmor;
  decltype(&rnp_output_to_memory) output_to_memory;
  decltype(&rnp_output_memory_get_buf) output_memory_get_buf;
  decltype(&rnp_output_destroy) output_destroy;
  decltype(&rnp_uid_get_type) uid_get_type;
  decltype(&rnp_buffer_clear) buffer_clear;
  decltype(&json_tokener_parse) json_parse;
  decltype(&json_pointer_get) pointer_get;
  decltype(&json_object_get_string) json_get_string;
  decltype(&json_object_put) json_put;
  std::string error;
};

RnpLibrary LoadRnp() {
  RnpLibrary r{};
  SharedLibrary rnp("librnp.so.0");
  rnp.Bind(r.ffi_create, "rnp_ffi_create");
  rnp.Bind(r.ffi_destroy, "rnp_ffi_destroy");
  rnp.Bind(r.input_from_memory, "rnp_input_from_memory");
  rnp.Bind(r.input_destroy, "rnp_input_destroy");
  rnp.Bind(r.import_keys, "rnp_import_keys");
  rnp.Bind(r.locate_key, "rnp_locate_key");
  rnp.Bind(r.key_handle_destroy, "rnp_key_handle_destroy");
  rnp.Bind(r.key_is_valid, "rnp_key_is_valid");
  rnp.Bind(r.key_is_revoked, "rnp_key_is_revoked");
  rnp.Bind(r.key_is_expired, "rnp_key_is_expired");
  rnp.Bind(r.key_allows_usage, "rnp_key_allows_usage");
  rnp.Bind(r.key_is_primary, "rnp_key_is_primary");
  rnp.Bind(r.key_get_primary_fprint, "rnp_key_get_primary_fprint");
  rnp.Bind(r.key_get_uid_count, "rnp_key_get_uid_count");
  rnp.Bind(r.key_get_uid_handle_at, "rnp_key_get_uid_handle_at");
  rnp.Bind(r.uid_get_data, "rnp_uid_get_data");
  rnp.Bind(r.uid_is_valid, "rnp_uid_is_valid");
  rnp.Bind(r.uid_is_revoked, "rnp_uid_is_revoked");
  rnp.Bind(r.uid_handle_destroy, "rnp_uid_handle_destroy");
  rnp.Bind(r.key_have_secret, "rnp_key_have_secret");
  rnp.Bind(r.key_is_protected, "rnp_key_is_protected");
  rnp.Bind(r.key_to_json, "rnp_key_to_json");
  rnp.Bind(r.buffer_destroy, "rnp_buffer_destroy");
  rnp.Bind(r.iterator_create, "rnp_identifier_iterator_create");
  rnp.Bind(r.iterator_next, "rnp_identifier_iterator_next");
  rnp.Bind(r.iterator_destroy, "rnp_identifier_iterator_destroy");
  rnp.Bind(r.result_to_string, "rnp_result_to_string");
  rnp.Bind(r.dearmor, "rnp_dearmor");
  rnp.Bind(r.output_to_memory, "rnp_output_to_memory");
  rnp.Bind(r.output_memory_get_buf, "rnp_output_memory_get_buf");
  rnp.Bind(r.output_destroy, "rnp_output_destroy");
  rnp.Bind(r.uid_get_type, "rnp_uid_get_type");
  rnp.Bind(r.buffer_clear, "rnp_buffer_clear");
  SharedLibrary json("libjson-c.so.5");
  json.Bind(r.json_parse, "json_tokener_parse");
  json.Bind(r.pointer_get, "json_pointer_get");
  json.Bind(r.json_get_string, "json_object_get_string");
  json.Bind(r.json_put, "json_object_put");
  if (!rnp.ok())
    r.error = "librnp: " + rnp.error();
  else if (!json.ok())
    r.error = "json-c: " + json.error();
  return r;
}

Result<const RnpLibrary*> Rnp() {
  static const RnpLibrary loaded = LoadRnp();  // once, thread-safe
  if (!loaded.error.empty()) return Status::Unsupported(loaded.error + " (install librnp0)");
  return &loaded;
}

// RAII for the handles of one read.
struct Handles {
  const RnpLibrary* rnp;
  rnp_ffi_t ffi = nullptr;
  rnp_key_handle_t key = nullptr;
  ~Handles() {
    if (key) rnp->key_handle_destroy(key);
    if (ffi) rnp->ffi_destroy(ffi);
  }
};

// A string librnp made, wiped (it may hold secret numbers) and freed.
struct RnpString {
  const RnpLibrary* rnp;
  char* s = nullptr;
  ~RnpString() {
    if (!s) return;
    rnp->buffer_clear(s, std::strlen(s));
    rnp->buffer_destroy(s);
  }
};

bool Flag(rnp_result_t (*fn)(rnp_key_handle_t, bool*), rnp_key_handle_t key) {
  bool b = false;
  return fn(key, &b) == RNP_SUCCESS && b;
}

// The address domains of a primary key's valid, unrevoked user IDs.
std::vector<std::string> UserIdDomains(const RnpLibrary& rnp, rnp_key_handle_t primary) {
  std::vector<std::string> out;
  size_t count = 0;
  if (rnp.key_get_uid_count(primary, &count) != RNP_SUCCESS) return out;
  for (size_t i = 0; i < count && i < static_cast<size_t>(kMaxUserIds); ++i) {
    rnp_uid_handle_t uid = nullptr;
    if (rnp.key_get_uid_handle_at(primary, i, &uid) != RNP_SUCCESS) continue;
    bool valid = false, revoked = true;
    uint32_t type = 0;
    void* data = nullptr;
    size_t size = 0;
    if (rnp.uid_get_type(uid, &type) == RNP_SUCCESS && type == RNP_USER_ID &&
        rnp.uid_is_valid(uid, &valid) == RNP_SUCCESS && valid && rnp.uid_is_revoked(uid, &revoked) == RNP_SUCCESS &&
        !revoked && rnp.uid_get_data(uid, &data, &size) == RNP_SUCCESS) {
      std::string domain = OpenPgpUserIdDomain(std::string_view(static_cast<const char*>(data), size));
      if (!domain.empty()) out.push_back(std::move(domain));
    }
    if (data) rnp.buffer_destroy(data);
    rnp.uid_handle_destroy(uid);
  }
  return out;
}

// One number of RNP's JSON description ("/public key/mpis/n"), as bytes,
// left-padded with zeros to `width` when given (OpenPGP MPIs drop leading
// zeros; raw keys keep them).
Result<std::string> Number(const RnpLibrary& rnp, json_object* json, const char* pointer, size_t width = 0) {
  json_object* value = nullptr;
  if (rnp.pointer_get(json, pointer, &value) != 0 || !value)
    return Status::Malformed(std::string("OpenPGP key without ") + pointer);
  const char* hex = rnp.json_get_string(value);
  std::string text = hex ? hex : "";
  if (text.size() % 2) text.insert(text.begin(), '0');
  std::string bytes;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
    if (!std::isxdigit(static_cast<unsigned char>(text[i])) || !std::isxdigit(static_cast<unsigned char>(text[i + 1])))
      return Status::Malformed(std::string("OpenPGP key number is not hex: ") + pointer);
    bytes.push_back(static_cast<char>(digit(text[i]) * 16 + digit(text[i + 1])));
  }
  if (width) {
    if (bytes.size() > width) return Status::Malformed(std::string("OpenPGP key number too long: ") + pointer);
    bytes.insert(0, width - bytes.size(), '\0');
  }
  return bytes;
}

std::string Text(const RnpLibrary& rnp, json_object* json, const char* pointer) {
  json_object* value = nullptr;
  if (rnp.pointer_get(json, pointer, &value) != 0 || !value) return "";
  const char* s = rnp.json_get_string(value);
  return s ? s : "";
}

using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BIGNUM, BN_clear_free>>;
using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

BnPtr Bn(const std::string& bytes) {
  return BnPtr(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

Result<ossl::PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) <= 0)
    return Status::Malformed(std::string("OpenPGP ") + type + " key numbers OpenSSL does not take");
  ossl::PkeyPtr out(key);
  if (selection == EVP_PKEY_KEYPAIR) {  // the secret must be the public key's: p·q = n, d·e ≡ 1, d·G = Q
    ossl::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, out.get(), nullptr));
    if (!check || EVP_PKEY_check(check.get()) != 1)
      return Status::Malformed(std::string("OpenPGP ") + type + " secret key does not belong to its public key");
  }
  return out;
}

// An RSA key from n, e and, with the secret, d, p, q; OpenSSL's CRT
// numbers are computed (OpenPGP's u is p⁻¹ mod q, not OpenSSL's q⁻¹ mod p).
Result<ossl::PkeyPtr> RsaKey(const RnpLibrary& rnp, json_object* json, bool secret) {
  auto n = Number(rnp, json, "/public key/mpis/n");
  auto e = Number(rnp, json, "/public key/mpis/e");
  if (!n.ok()) return n.status();
  if (!e.ok()) return e.status();
  BldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr bn_n = Bn(*n), bn_e = Bn(*e);
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  BnPtr d, p, q, dp, dq, qinv;
  if (secret) {
    auto sd = Number(rnp, json, "/secret key/mpis/d");
    auto sp = Number(rnp, json, "/secret key/mpis/p");
    auto sq = Number(rnp, json, "/secret key/mpis/q");
    if (!sd.ok() || !sp.ok() || !sq.ok()) return Status::Malformed("OpenPGP RSA secret key without d, p or q");
    d = Bn(*sd), p = Bn(*sp), q = Bn(*sq);
    dp.reset(BN_new()), dq.reset(BN_new()), qinv.reset(BN_new());
    std::unique_ptr<BN_CTX, ossl::Deleter<BN_CTX, BN_CTX_free>> ctx(BN_CTX_new());
    BnPtr p1(BN_dup(p.get())), q1(BN_dup(q.get()));
    if (!ctx || !p1 || !q1 || !BN_sub_word(p1.get(), 1) || !BN_sub_word(q1.get(), 1) ||
        !BN_mod(dp.get(), d.get(), p1.get(), ctx.get()) || !BN_mod(dq.get(), d.get(), q1.get(), ctx.get()) ||
        !BN_mod_inverse(qinv.get(), q.get(), p.get(), ctx.get()))
      return Status::Malformed("OpenPGP RSA secret key with inconsistent numbers");
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get());
  }
  return FromParams("RSA", bld.get(), secret ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

// Ed25519: OpenPGP's point is 0x40 followed by the 32 key bytes; the secret
// is the 32-byte seed of RFC 8032.
Result<ossl::PkeyPtr> Ed25519Key(const RnpLibrary& rnp, json_object* json, bool secret) {
  auto point = Number(rnp, json, "/public key/mpis/point");
  if (!point.ok()) return point.status();
  if (point->size() != 33 || (*point)[0] != 0x40)
    return Status::Malformed("OpenPGP Ed25519 point is not 0x40 || 32 bytes");
  const auto* pub = reinterpret_cast<const unsigned char*>(point->data() + 1);
  if (!secret) {
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub, 32);
    if (!key) return Status::Malformed("OpenPGP Ed25519 key OpenSSL does not take");
    return ossl::PkeyPtr(key);
  }
  auto seed = Number(rnp, json, "/secret key/mpis/x", 32);
  if (!seed.ok()) return seed.status();
  ossl::PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                 reinterpret_cast<const unsigned char*>(seed->data()), 32));
  OPENSSL_cleanse(seed->data(), seed->size());
  unsigned char derived[32];
  size_t len = sizeof derived;
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), derived, &len) != 1 || CRYPTO_memcmp(derived, pub, 32) != 0)
    return Status::Malformed("OpenPGP Ed25519 secret key does not belong to its public key");
  return key;
}

// ECDSA on a NIST curve: an uncompressed point and the secret scalar.
Result<ossl::PkeyPtr> EcdsaKey(const RnpLibrary& rnp, json_object* json, const char* group, size_t width, bool secret) {
  auto point = Number(rnp, json, "/public key/mpis/point");
  if (!point.ok()) return point.status();
  BldPtr bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point->data(), point->size());
  BnPtr x;
  if (secret) {
    auto sx = Number(rnp, json, "/secret key/mpis/x", width);
    if (!sx.ok()) return sx.status();
    x = Bn(*sx);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, x.get());
  }
  return FromParams("EC", bld.get(), secret ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

// The OpenSSL key for RNP's description of an OpenPGP key.
Result<ossl::PkeyPtr> KeyOf(const RnpLibrary& rnp, rnp_key_handle_t handle, bool secret) {
  RnpString text{&rnp};
  uint32_t flags = RNP_JSON_PUBLIC_MPIS | (secret ? RNP_JSON_SECRET_MPIS : 0);
  if (rnp.key_to_json(handle, flags, &text.s) != RNP_SUCCESS || !text.s)
    return Status::Malformed("OpenPGP key RNP cannot describe");
  struct Json {
    const RnpLibrary& rnp;
    json_object* j;
    ~Json() {
      if (j) rnp.json_put(j);
    }
  } json{rnp, rnp.json_parse(text.s)};
  if (!json.j) return Status::Malformed("OpenPGP key description is not JSON");
  std::string type = Text(rnp, json.j, "/type"), curve = Text(rnp, json.j, "/curve");
  if (type == "RSA") return RsaKey(rnp, json.j, secret);
  if (type == "EDDSA" && curve == "Ed25519") return Ed25519Key(rnp, json.j, secret);
  if (type == "ECDSA" && curve == "NIST P-256") return EcdsaKey(rnp, json.j, "P-256", 32, secret);
  return Status::Unsupported("OpenPGP key of algorithm " + type + (curve.empty() ? "" : " " + curve) +
                             " (mtas verifies RSA, Ed25519 and ECDSA P-256)");
}

// Every key RNP read that holds its secret and may sign.
std::vector<std::string> SigningSecretKeys(const RnpLibrary& rnp, rnp_ffi_t ffi) {
  std::vector<std::string> out;
  rnp_identifier_iterator_t it = nullptr;
  if (rnp.iterator_create(ffi, &it, "fingerprint") != RNP_SUCCESS) return out;
  const char* fpr = nullptr;
  while (rnp.iterator_next(it, &fpr) == RNP_SUCCESS && fpr) {
    rnp_key_handle_t key = nullptr;
    if (rnp.locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS || !key) continue;
    bool sign = false;
    if (Flag(rnp.key_have_secret, key) && rnp.key_allows_usage(key, "sign", &sign) == RNP_SUCCESS && sign)
      out.push_back(fpr);
    rnp.key_handle_destroy(key);
  }
  rnp.iterator_destroy(it);
  return out;
}

// Why librnp should not be given this (binary) key block, or "" when its
// shape is ordinary. librnp verifies every self-signature as it imports and
// sets no bound of its own on RSA sizes: a key with a 16384-bit modulus and
// exponent makes each check cost a second. So the packets (RFC 4880 §4.2,
// §5.5.2) are walked first, as only their framing needs reading: one
// primary key, then subkeys, user IDs and signatures within bounds; RSA
// keys of at most 8192 bits with an exponent below 2^33; DSA, whose checks
// cost as much and which mtas never verifies with, refused; any other packet
// (compressed data above all) refused.
std::string UnusualShape(std::string_view bin) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(bin[i]); };
  size_t pos = 0;
  int primaries = 0, subkeys = 0, user_ids = 0, signatures = 0;
  while (pos < bin.size()) {
    const size_t at = pos;
    const unsigned char header = byte(pos++);
    if (!(header & 0x80)) return "no OpenPGP packet at byte " + std::to_string(at);
    int tag;
    size_t len = 0, len_bytes;
    if (header & 0x40) {  // new format
      tag = header & 0x3f;
      if (pos >= bin.size()) return "truncated packet";
      const unsigned char first = byte(pos);
      if (first < 192) {
        len_bytes = 1, len = first;
      } else if (first < 224) {
        len_bytes = 2;
        if (pos + 1 < bin.size()) len = ((first - 192u) << 8) + byte(pos + 1) + 192;
      } else if (first == 255) {
        len_bytes = 5;
        for (size_t i = 1; i < 5 && pos + i < bin.size(); ++i) len = (len << 8) | byte(pos + i);
      } else {
        return "a packet of partial lengths at byte " + std::to_string(at);
      }
    } else {  // old format
      tag = (header >> 2) & 0x0f;
      if ((header & 3) == 3) return "a packet of indeterminate length at byte " + std::to_string(at);
      len_bytes = size_t{1} << (header & 3);
      for (size_t i = 0; i < len_bytes && pos + i < bin.size(); ++i) len = (len << 8) | byte(pos + i);
    }
    if (len_bytes > bin.size() - pos || len > bin.size() - pos - len_bytes) return "truncated packet";
    pos += len_bytes;
    std::string_view body = bin.substr(pos, len);
    pos += len;
    if (at == 0 && tag != 5 && tag != 6) return "no primary key first";
    switch (tag) {
      case 5:  // secret key
      case 6:  // public key
        if (++primaries > 1) return "more than one primary key";
        break;
      case 7:   // secret subkey
      case 14:  // public subkey
        if (++subkeys > kMaxSubkeys) return "more than " + std::to_string(kMaxSubkeys) + " subkeys";
        break;
      case 13:  // user ID
      case 17:  // user attribute
        if (++user_ids > kMaxUserIds) return "more than " + std::to_string(kMaxUserIds) + " user IDs";
        continue;
      case 2:
        if (++signatures > kMaxSignatures) return "more than " + std::to_string(kMaxSignatures) + " signatures";
        continue;
      case 12:  // trust
        continue;
      default:
        return "a packet of type " + std::to_string(tag) + " in a key block";
    }
    // A key packet: version 4, creation time, algorithm, then its numbers.
    if (body.size() < 6 || body[0] != 4) continue;  // other versions: librnp refuses them
    const unsigned char algorithm = static_cast<unsigned char>(body[5]);
    if (algorithm == 17) return "a DSA key";
    if (algorithm > 3) continue;  // not RSA
    size_t off = 6;
    for (int mpi = 0; mpi < 2; ++mpi) {  // n, then e
      if (body.size() < off + 2) return "truncated RSA key";
      const int bits = (static_cast<unsigned char>(body[off]) << 8) | static_cast<unsigned char>(body[off + 1]);
      if (mpi == 0 && bits > kMaxRsaBits) return "an RSA key over " + std::to_string(kMaxRsaBits) + " bits";
      if (mpi == 1 && bits > kMaxRsaExponentBits) return "an RSA public exponent of " + std::to_string(bits) + " bits";
      off += 2 + (static_cast<size_t>(bits) + 7) / 8;
    }
  }
  return primaries ? "" : "no key";
}

// The key block as binary packets: ASCII armour (what key servers send)
// removed by librnp.
Result<std::string> Binary(const RnpLibrary& rnp, std::string_view data) {
  if (data.find("-----BEGIN PGP") == std::string_view::npos) return std::string(data);
  rnp_input_t input = nullptr;
  rnp_output_t output = nullptr;
  std::string out;
  bool ok =
      rnp.input_from_memory(&input, reinterpret_cast<const uint8_t*>(data.data()), data.size(), false) == RNP_SUCCESS &&
      rnp.output_to_memory(&output, kMaxData) == RNP_SUCCESS && rnp.dearmor(input, output) == RNP_SUCCESS;
  uint8_t* buf = nullptr;
  size_t len = 0;
  if (ok && rnp.output_memory_get_buf(output, &buf, &len, false) == RNP_SUCCESS && buf)
    out.assign(reinterpret_cast<const char*>(buf), len);
  else
    ok = false;
  if (!out.empty()) rnp.buffer_clear(buf, len);  // a secret key block passes here too
  if (output) rnp.output_destroy(output);
  if (input) rnp.input_destroy(input);
  if (!ok) return Status::Malformed("OpenPGP armour librnp cannot read");
  return out;
}

Result<OpenPgpKey> Read(std::string_view data, std::string_view fingerprint, bool secret) {
  auto lib = Rnp();
  if (!lib.ok()) return lib.status();
  const RnpLibrary& rnp = **lib;
  if (data.size() > kMaxData) return Status::Malformed("OpenPGP data larger than 1 MB");
  auto binary = Binary(rnp, data);
  if (!binary.ok()) return binary.status();
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{*binary};
  if (std::string why = UnusualShape(*binary); !why.empty())
    return Status::Malformed("not an OpenPGP key block mtas reads: " + why);
  Handles h{&rnp};
  if (rnp.ffi_create(&h.ffi, "GPG", "GPG") != RNP_SUCCESS) return Status::CryptoFailure("RNP did not start");
  rnp_input_t input = nullptr;
  if (rnp.input_from_memory(&input, reinterpret_cast<const uint8_t*>(binary->data()), binary->size(), false) !=
      RNP_SUCCESS)
    return Status::CryptoFailure("RNP did not take the data");
  uint32_t flags = RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_PERMISSIVE | (secret ? RNP_LOAD_SAVE_SECRET_KEYS : 0);
  rnp_result_t imported = rnp.import_keys(h.ffi, input, flags, nullptr);
  rnp.input_destroy(input);
  if (imported != RNP_SUCCESS)
    return Status::Malformed(std::string("not OpenPGP key data (") + rnp.result_to_string(imported) + ")");

  std::string fpr;
  if (fingerprint.empty() && secret) {
    std::vector<std::string> candidates = SigningSecretKeys(rnp, h.ffi);
    if (candidates.size() != 1)
      return Status::InvalidArgument(candidates.empty() ? "no secret key that may sign"
                                                        : "several secret keys may sign: name one by fingerprint");
    fpr = candidates[0];
  } else {
    auto normal = NormalizeOpenPgpFingerprint(fingerprint);
    if (!normal.ok()) return normal.status();
    fpr = *normal;
  }
  if (rnp.locate_key(h.ffi, "fingerprint", fpr.c_str(), &h.key) != RNP_SUCCESS || !h.key)
    return Status::NotFound("no OpenPGP key " + fpr);

  // Unusable keys, most specific reason first. RNP's validity covers the
  // self-signature (or the binding signature of a subkey), revocation and
  // expiry of the key and, for a subkey, of its primary key.
  if (Flag(rnp.key_is_revoked, h.key)) return Status::InvalidArgument("OpenPGP key " + fpr + " is revoked");
  if (Flag(rnp.key_is_expired, h.key)) return Status::InvalidArgument("OpenPGP key " + fpr + " has expired");
  if (!Flag(rnp.key_is_valid, h.key))
    return Status::InvalidArgument("OpenPGP key " + fpr +
                                   " is not valid (no good self-signature, or its primary key is revoked or expired)");
  bool sign = false;
  if (rnp.key_allows_usage(h.key, "sign", &sign) != RNP_SUCCESS || !sign)
    return Status::InvalidArgument("OpenPGP key " + fpr + " is not allowed to sign");

  OpenPgpKey out;
  out.fingerprint = fpr;
  if (Flag(rnp.key_is_primary, h.key)) {
    out.user_id_domains = UserIdDomains(rnp, h.key);
  } else {
    RnpString primary_fpr{&rnp};
    rnp_key_handle_t primary = nullptr;
    if (rnp.key_get_primary_fprint(h.key, &primary_fpr.s) == RNP_SUCCESS && primary_fpr.s &&
        rnp.locate_key(h.ffi, "fingerprint", primary_fpr.s, &primary) == RNP_SUCCESS && primary) {
      out.user_id_domains = UserIdDomains(rnp, primary);
      rnp.key_handle_destroy(primary);
    }
  }
  if (out.user_id_domains.empty())
    return Status::InvalidArgument("OpenPGP key " + fpr + " has no valid user ID with an address");

  if (secret) {
    if (!Flag(rnp.key_have_secret, h.key)) return Status::InvalidArgument("no secret for OpenPGP key " + fpr);
    if (Flag(rnp.key_is_protected, h.key))
      return Status::InvalidArgument("OpenPGP secret key " + fpr +
                                     " is protected by a passphrase: export it without one (gpg --passwd, empty)");
  }
  auto key = KeyOf(rnp, h.key, secret);
  if (!key.ok()) return key.status();
  if (secret && EVP_PKEY_is_a(key->get(), "RSA") && EVP_PKEY_get_bits(key->get()) < 2048)
    return Status::InvalidArgument("OpenPGP key " + fpr + " is RSA under 2048 bits, which mtas does not sign with");
  if (secret) {
    ossl::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_PrivateKey(bio.get(), key->get(), nullptr, nullptr, 0, nullptr, nullptr))
      return Status::CryptoFailure("writing the key as PEM: " + ossl::LastError());
    char* pem = nullptr;
    long len = BIO_get_mem_data(bio.get(), &pem);
    out.secret_pem.assign(pem, static_cast<size_t>(len));
  }
  out.key = PublicKey::Adopt(key->release());
  return out;
}

}  // namespace

Result<std::string> NormalizeOpenPgpFingerprint(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  std::string out;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::Malformed("an OpenPGP fingerprint is 40 hex digits: " + std::string(text.substr(0, 64)));
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (out.size() != 40) return Status::Malformed("an OpenPGP fingerprint is 40 hex digits: " + out.substr(0, 64));
  return out;
}

std::string OpenPgpUserIdDomain(std::string_view user_id) {
  auto mailboxes = ParseAddressList(user_id);
  if (!mailboxes.ok() || mailboxes->size() != 1) return "";
  return (*mailboxes)[0].domain;
}

Result<std::string> HkpLookupUrl(std::string_view server, std::string_view fingerprint) {
  auto fpr = NormalizeOpenPgpFingerprint(fingerprint);
  if (!fpr.ok()) return fpr.status();
  const std::string text(server);
  size_t colon = text.find("://");
  if (colon == std::string::npos) return Status::Malformed("not a key server URL: " + text);
  std::string scheme = text.substr(0, colon), authority = text.substr(colon + 3);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!authority.empty() && authority.back() == '/') authority.pop_back();
  std::string default_port;
  if (scheme == "hkp") {
    scheme = "http", default_port = "11371";
  } else if (scheme == "hkps") {
    scheme = "https";
  } else if (scheme != "http" && scheme != "https") {
    return Status::Malformed("a key server URL is hkp, hkps, http or https: " + text);
  }
  // HOST[:PORT] and nothing else: a path, user, %-escape or address literal
  // would let the host checked against the signer's domain differ from the
  // one connected to, or reach a file anyone may put under that host.
  if (authority.find_first_of("/?#") != std::string::npos || !HasPlainHost(scheme + "://" + authority))
    return Status::Malformed("a key server is SCHEME://HOST[:PORT], a host name written plainly: " + text);
  if (authority.find(':') == std::string::npos && !default_port.empty()) authority += ":" + default_port;
  return scheme + "://" + authority + kHkpLookup + *fpr;
}

Result<OpenPgpKey> ReadOpenPgpKey(std::string_view data, std::string_view fingerprint) {
  return Read(data, fingerprint, false);
}

Result<OpenPgpKey> ReadOpenPgpSecretKey(std::string_view data, std::string_view fingerprint) {
  return Read(data, fingerprint, true);
}

}  // namespace mtas
