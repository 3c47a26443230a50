#include "commands.h"

#include <fcntl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "args.h"
#include "config.h"  // mtasd.conf, for dns-record --check --config
#include "mtas/address.h"
#include "mtas/hop.h"
#include "mtas/key_records.h"
#include "mtas/key_service.h"
#include "mtas/key_sources.h"
#include "mtas/keys.h"
#include "mtas/policy.h"
#include "mtas/report.h"
#include "mtas/result_headers.h"
#include "mtas/sign.h"
#include "mtas/source.h"
#include "mtas/trace.h"
#include "mtas/verify.h"
#include "mtas/view.h"

namespace mtas::cli {
namespace {

class FileSink final : public ByteSink {
 public:
  explicit FileSink(std::FILE* f) : f_(f) {}
  void Write(const char* p, size_t n) override {
    if (n && std::fwrite(p, 1, n, f_) != n) failed_ = true;
  }
  bool failed() const { return failed_ || std::ferror(f_); }

 private:
  std::FILE* f_;
  bool failed_ = false;
};

// An input file (or stdin for "" / "-").
struct Input {
  int fd = -1;
  bool owned = false;
  std::string name;
  std::unique_ptr<FdSource> file;
  std::unique_ptr<RangeSource> after_separator;  // the message after an mbox "From " line
  MessageSource* source = nullptr;               // the message: one of the two above
  ~Input() {
    after_separator.reset();
    file.reset();
    if (owned) ::close(fd);
  }
};

// A message in mbox form (as Exim's content scanning writes it, or a
// mailbox's single message) starts with a "From " separator line, which is
// no header field: the message starts after it, as readers parse it. But
// "From :" (space before the colon, RFC 5322 §4.5.3) is a From field that
// readers display: that line is the message's own and is never skipped.
Status SkipMboxSeparator(Input* in) {
  char head[4096];  // an mbox separator line is far shorter
  MTAS_RETURN_IF_ERROR(in->file->Rewind());
  size_t got = 0;
  while (got < sizeof head) {
    auto n = in->file->Read(head + got, sizeof head - got);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    got += *n;
  }
  MTAS_RETURN_IF_ERROR(in->file->Rewind());
  std::string_view start(head, got);
  size_t eol = start.find('\n');
  if (start.substr(0, 5) != "From " || eol == std::string_view::npos) return Status::Ok();
  size_t next = start.find_first_not_of(" \t", 5);
  if (next == std::string_view::npos || next >= eol || start[next] == ':' || start[next] == '\r')
    return Status::Ok();  // a From field, or nothing after "From"
  in->after_separator = std::make_unique<RangeSource>(*in->file, eol + 1, UINT64_MAX);
  in->source = in->after_separator.get();
  return Status::Ok();
}

Status OpenInput(const std::string& path, Input* in) {
  if (path.empty() || path == "-") {
    in->fd = 0;
    in->name = "stdin";
  } else {
    in->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
    in->owned = true;
    in->name = path;
  }
  in->file = std::make_unique<FdSource>(in->fd, in->name);
  in->source = in->file.get();
  return SkipMboxSeparator(in);
}

// Writes through `write` to OUTPUT atomically (temporary file + rename), or
// stdout. An OUTPUT that exists and is not a regular file (/dev/null, a
// FIFO, /dev/stdout) is written in place: a rename would replace it.
Status WriteOutput(const std::string& path, const std::function<Status(ByteSink&)>& write) {
  if (path.empty() || path == "-") {
    FileSink sink(stdout);
    MTAS_RETURN_IF_ERROR(write(sink));
    if (std::fflush(stdout) != 0 || sink.failed()) return Status::IoError("writing stdout failed");
    return Status::Ok();
  }
  auto write_to = [&](const std::string& file) {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) return Status::IoError(file + ": " + std::strerror(errno));
    FileSink sink(f);
    Status status = write(sink);
    bool failed = sink.failed();
    if (std::fclose(f) != 0) failed = true;
    if (status.ok() && failed) status = Status::IoError(path + ": write failed");
    return status;
  };
  if (struct stat st; ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return write_to(path);
  std::string tmp = path + ".mtas-tmp";
  Status st = write_to(tmp);
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) st = Status::IoError(path + ": " + std::strerror(errno));
  if (!st.ok()) std::remove(tmp.c_str());
  return st;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = (::close(fd) == 0) && ok;
  return ok ? Status::Ok() : Status::IoError(path + ": write failed");
}

Result<NewKey> WriteNewKey(const std::string& algorithm, const std::string& signer, const std::string& selector,
                           const std::string& out_dir, int days, bool https) {
  if (selector.empty() || selector.find('/') != std::string::npos)
    return Status::InvalidArgument("--selector must be a label without '/'");
  auto keys = GenerateKey(algorithm, signer, days);
  if (!keys.ok()) return keys.status();
  NewKey made;
  std::string base = out_dir + "/" + selector;
  made.key_path = base + ".key.pem";
  made.cert_path = base + ".crt.pem";
  made.zone_path = base + ".zone";
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Status::IoError(out_dir + ": " + ec.message());
  for (auto [path, data, mode] :
       {std::tuple{made.key_path, keys->key_pem, 0600}, std::tuple{made.cert_path, keys->cert_pem, 0644},
        std::tuple{base + ".crt.der", keys->cert_der, 0644}}) {
    MTAS_RETURN_IF_ERROR(WriteFile(path, data, static_cast<mode_t>(mode)));
    std::printf("wrote %s\n", path.c_str());
  }
  auto cert = Certificate::FromDer(keys->cert_der);
  if (!cert.ok()) return cert.status();
  auto zone = ZoneRecords(signer, selector, *cert, https);  // with https, SELECTOR.crt.der is served too
  if (!zone.ok()) return zone.status();
  MTAS_RETURN_IF_ERROR(WriteFile(made.zone_path, *zone, 0644));
  std::printf("wrote %s\n", made.zone_path.c_str());
  made.services = ServicesFor(selector, PublicKey::Adopt(X509_get_pubkey(cert->get())).algorithm(), https);
  return made;
}

Result<int> ParseDays(const std::string& text) {
  int days = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
      ec != std::errc() || end != text.data() + text.size() || days < 1 || days > 36500)
    return Status::InvalidArgument("--days wants a number of days (1..36500)");
  return days;
}

int Keygen(const std::vector<std::string>& argv) {
  for (const auto& arg : argv) {
    if (arg == "--rotate" || arg.rfind("--rotate=", 0) == 0) return KeygenRotate(argv);
    if (arg == "--from-openpgp" || arg.rfind("--from-openpgp=", 0) == 0) return KeygenFromOpenPgp(argv);
  }
  Args a(argv, {"https"}, {"algorithm", "signer", "selector", "out", "days"});
  if (!a.ok()) return Usage("keygen", a.error());
  for (const char* req : {"algorithm", "signer", "selector", "out"})
    if (!a.Has(req)) return Usage("keygen", std::string("--") + req + " is required");
  auto days = ParseDays(a.Get("days", "730"));
  if (!days.ok()) return Usage("keygen", days.status().message());
  auto made = WriteNewKey(a.Get("algorithm"), a.Get("signer"), a.Get("selector"), a.Get("out"), *days, a.Has("https"));
  if (!made.ok())
    return Error("keygen", made.status().message(), made.status().code() == Status::Code::kIoError ? 1 : kUsage);
  std::printf("sign with: --signer %s --services \"%s\"\n", a.Get("signer").c_str(), made->services.c_str());
  return 0;
}

namespace {

struct VerifySetup {
  KeySources keys;
  VerifyOptions options;
};

// The network options every command that looks keys up shares.
const std::set<std::string> kNetworkOptions = {"resolver", "trust-anchor", "timeout", "tls-ca-file", "connect-to"};

Status NetworkSettings(const Args& a, DnsOptions* dns, FetchOptions* fetch) {
  int timeout = 5000;
  if (a.Has("timeout")) {
    timeout = std::atoi(a.Get("timeout").c_str());
    if (timeout <= 0 || timeout > 600000) return Status::InvalidArgument("--timeout wants milliseconds (1..600000)");
  }
  dns->server = a.Get("resolver");
  dns->trust_anchor_file = a.Get("trust-anchor");
  dns->timeout_ms = timeout;
  fetch->timeout_ms = timeout;
  fetch->tls_ca_file = a.Get("tls-ca-file");
  fetch->connect_to = a.All("connect-to");
  return Status::Ok();
}

Result<NetworkOptions> NetworkFrom(const Args& a) {
  NetworkOptions net;
  DnsOptions dns;
  MTAS_RETURN_IF_ERROR(NetworkSettings(a, &dns, &net.fetch));
  auto client = DnsClient::Create(dns);
  if (!client.ok()) return client.status();
  net.dns = std::move(*client);
  return net;
}

// The key sources (mtas/key_sources.h): --key-file pins, an embedded
// certificate that chains to --ca-file (or the system store), then the
// signer's verification services over the network (unless --no-network).
Status SetupVerify(const Args& a, VerifySetup* setup) {
  KeySourceOptions sources;
  for (const auto& kf : a.All("key-file")) {
    size_t eq = kf.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--key-file wants FQDN=PATH, got '" + kf + "'");
    sources.pinned.emplace_back(kf.substr(0, eq), kf.substr(eq + 1));
  }
  sources.ca_file = a.Get("ca-file");
  sources.network = !a.Has("no-network");
  if (sources.network) MTAS_RETURN_IF_ERROR(NetworkSettings(a, &sources.dns, &sources.fetch));
  auto keys = BuildKeySources(sources);
  if (!keys.ok()) return keys.status();
  setup->keys = std::move(*keys);
  setup->options.resolver = setup->keys.resolver.get();
  setup->options.allow_sha1 = a.Has("allow-sha1");
  return Status::Ok();
}

}  // namespace

namespace {

// What verify and trace share: options, key sources, the verification, the
// header fields and the optional policy decision.
const std::set<std::string> kVerifyOptions = {"key-file", "ca-file",       "policy-file",
                                              "max-age",  "envelope-from", "envelope-to"};
const std::set<std::string> kVerifyFlags = {"allow-sha1", "no-network", "policy"};

struct Verification {
  int restore_hop = 0;  // --restore N OUT: write hop N's original to OUT
  std::string restore_path;
  Input in;
  HopResult hop;  // the header, the report, the policy decision and the edits
  const PolicyDecision* policy() const { return hop.decision ? &*hop.decision : nullptr; }
};

// Runs this hop's job over the input (library hop.h): verification with
// verify's key, envelope and policy options unless `verify` is false, the
// result fields under `authserv_id` when one is given, and a signature when
// there is a `signer`. With --restore, the rebuilt original goes to its
// file instead. On failure returns the exit status after printing the error.
int RunHop(const std::string& cmd, const Args& a, const std::string& input, Verification* v, bool verify,
           const std::string& authserv_id = "", const Signer* signer = nullptr) {
  VerifySetup setup;
  HopOptions hop;
  hop.verify = verify;
  hop.authserv_id = authserv_id;
  hop.refuse_by_policy = false;  // the command line reports the decision; the caller acts on it
  if (signer) hop.choose_signer = [signer](const HopHeader&) { return signer; };
  if (a.Has("envelope-from") || a.Has("envelope-to")) {
    // Each --envelope-to may be a list ("a@x, b@y", as Exim's $recipients).
    std::vector<std::string> rcpts;
    for (const auto& list : a.All("envelope-to"))
      for (auto& r : SplitList(list)) rcpts.push_back(std::move(r));
    hop.envelope = Envelope{a.Get("envelope-from"), std::move(rcpts)};
  }
  std::unique_ptr<DnsPolicySource> policy_source;
  if (verify) {
    if (Status st = SetupVerify(a, &setup); !st.ok()) return Error(cmd, st.message(), kUsage);
    if (a.Has("max-age")) {
      int days = std::atoi(a.Get("max-age").c_str());
      if (days <= 0) return Usage(cmd, "--max-age wants a number of days");
      setup.options.max_age_seconds = int64_t{days} * 86400;
    }
    setup.options.envelope = hop.envelope;
    hop.verify_options = setup.options;
    // Policy (spec §6): the published mtas= modifiers and the local file.
    if (a.Has("policy") || a.Has("policy-file")) {
      if (a.Has("policy-file")) {
        auto lp = LocalPolicy::Load(a.Get("policy-file"));
        if (!lp.ok()) return Error(cmd, lp.status().message(), kUsage);
        hop.local_policy = *lp;
      }
      policy_source = std::make_unique<DnsPolicySource>(setup.keys.dns);  // null without network
      hop.policy_source = policy_source.get();
    }
  }
  // An input that cannot be opened: a usage error for verify's options, a
  // failure for plain signing (as both always said).
  if (Status st = OpenInput(input, &v->in); !st.ok()) return Error(cmd, st.message(), verify ? kUsage : 1);
  if (v->restore_hop > 0) {
    Result<VerifyReport> report = Status::Ok();
    Status written = WriteOutput(v->restore_path, [&](ByteSink& out) {
      report = Verifier(setup.options).Restore(*v->in.source, v->restore_hop, out);
      return report.status();
    });
    if (!written.ok() && report.ok()) return Error(cmd, written.message(), 4);
    if (!report.ok())
      return Error(cmd, report.status().message(), report.status().code() == Status::Code::kIoError ? 4 : 1);
    hop.verify = false;  // the report is the one above: the hop reads the header and decides
    auto header = ProcessHop(*v->in.source, hop);
    if (!header.ok()) return Error(cmd, header.status().message(), 4);
    v->hop = std::move(*header);
    v->hop.report = std::move(*report);
    if (policy_source)
      v->hop.decision = DecidePolicy(*v->hop.report, v->hop.header.from_domains, *policy_source, hop.local_policy);
    return 0;
  }
  auto result = ProcessHop(*v->in.source, hop);
  if (!result.ok()) return Error(cmd, result.status().message(), 4);
  v->hop = std::move(*result);
  return 0;
}

std::set<std::string> Union(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

}  // namespace

int Verify(const std::vector<std::string>& argv_in) {
  // --restore N OUT takes two values: taken out before the usual parsing.
  std::vector<std::string> argv = argv_in;
  Verification v;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] != "--restore") continue;
    if (i + 2 >= argv.size()) return Usage("verify", "--restore wants a hop number and an output file");
    v.restore_hop = std::atoi(argv[i + 1].c_str());
    v.restore_path = argv[i + 2];
    if (v.restore_hop <= 0 || v.restore_path.empty())
      return Usage("verify", "--restore wants a hop number (1 = oldest) and an output file");
    argv.erase(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.begin() + static_cast<std::ptrdiff_t>(i) + 3);
    break;
  }
  Args a(argv, Union(kVerifyFlags, {"json"}),
         Union(Union(kVerifyOptions, kNetworkOptions), {"add-header", "result-fields"}));
  if (!a.ok()) return Usage("verify", a.error());
  if (a.positional().size() > 1) return Usage("verify", "one INPUT at most");
  if (v.restore_hop > 0 && (a.Has("add-header") || a.Has("result-fields")))
    return Usage("verify", "--restore writes a message; not with --add-header or --result-fields");
  if (a.Has("add-header") && a.Has("result-fields"))
    return Usage("verify", "--add-header writes the message, --result-fields only its new fields: one of them");
  std::string authserv_id = a.Has("result-fields") ? a.Get("result-fields") : a.Get("add-header");
  if (int st = RunHop("verify", a, a.positional().empty() ? "" : a.positional()[0], &v, true, authserv_id); st != 0)
    return st;
  const PolicyDecision* dp = v.policy();
  std::string rendered = a.Has("json") ? ReportJson(*v.hop.report, dp) : ReportText(*v.hop.report, dp);
  if (a.Has("result-fields")) {
    // Only the fields to add, LF line ends, for an MTA that adds them
    // itself (Exim's add_header in an ACL), and no report: Exim reads a
    // program's standard error with its output.
    std::string fields;
    for (const auto& f : v.hop.edits.prepend) {
      std::string field = f;
      for (size_t at = field.find("\r\n"); at != std::string::npos; at = field.find("\r\n", at)) field.erase(at, 1);
      fields += field + "\n";
    }
    std::fputs(fields.c_str(), stdout);
  } else if (a.Has("add-header")) {
    MessageEdits edits = v.hop.edits;
    edits.body_offset = 0;
    Status st = WriteOutput("", [&](ByteSink& out) { return WriteSignedMessage(*v.in.source, edits, out); });
    if (!st.ok()) return Error("verify", st.message(), 4);
    std::fputs(rendered.c_str(), stderr);
  } else {
    std::fputs(rendered.c_str(), stdout);
  }
  return ExitStatusFor(v.hop.report->result);
}

int Trace(const std::vector<std::string>& argv) {
  Args a(argv, kVerifyFlags, Union(Union(kVerifyOptions, kNetworkOptions), {"format", "output"}));
  if (!a.ok()) return Usage("trace", a.error());
  std::string format = a.Get("format", "text");
  if (format != "text" && format != "json" && format != "html") return Usage("trace", "--format text, json or html");
  if (a.positional().size() > 1) return Usage("trace", "one INPUT at most");
  Verification v;
  if (int st = RunHop("trace", a, a.positional().empty() ? "" : a.positional()[0], &v, true); st != 0) return st;
  mtas::Trace trace = BuildTrace(*v.hop.report, v.hop.header.fields, v.policy());
  std::string page = format == "json" ? TraceJson(trace) : format == "html" ? TraceHtml(trace) : TraceText(trace);
  Status st = WriteOutput(a.Get("output"), [&](ByteSink& out) {
    out.Write(page);
    return Status::Ok();
  });
  if (!st.ok()) return Error("trace", st.message());
  return ExitStatusFor(v.hop.report->result);
}

int Sign(const std::vector<std::string>& argv) {
  Args a(
      argv, Union(kVerifyFlags, {"embed-cert", "pass-unsigned"}),
      Union(Union(kVerifyOptions, kNetworkOptions), {"key", "cert", "signer", "services", "carrier", "canonicalization",
                                                     "digest", "headers", "verification-info", "resign"}));
  if (!a.ok()) return Usage("sign", a.error());
  if (!a.Has("key")) return Usage("sign", "--key is required");
  if (!a.Has("signer")) return Usage("sign", "--signer is required");
  if (a.positional().size() > 2) return Usage("sign", "at most INPUT and OUTPUT");
  if (a.Has("embed-cert") && !a.Has("cert")) return Usage("sign", "--embed-cert needs --cert");

  SignOptions opt;
  opt.signer = a.Get("signer");
  opt.services = a.Get("services");
  opt.embed_certificate = a.Has("embed-cert");
  opt.allow_sha1 = a.Has("allow-sha1");
  opt.verification_info = a.Get("verification-info");
  auto carrier = ParseCarrier(a.Get("carrier", "auto"));
  if (!carrier.ok()) return Usage("sign", carrier.status().message());
  opt.carrier = *carrier;
  auto canon = ParseCanon(a.Get("canonicalization", "relaxed"));
  if (!canon.ok()) return Usage("sign", canon.status().message());
  opt.canon = *canon;
  if (a.Has("digest")) {
    auto d = ParseDigestName(a.Get("digest"));
    if (!d.ok()) return Usage("sign", d.status().message());
    opt.digest = *d;
  }
  if (a.Has("headers")) opt.headers = SplitList(a.Get("headers"));

  // --key repeated: every key signs, one SignerInfo each; each --cert goes
  // with the key it holds.
  auto keys = LoadSigningKeys(a.All("key"), a.All("cert"));
  if (!keys.ok()) return Error("sign", keys.status().message(), kUsage);
  auto signer = Signer::Create(std::move(*keys), std::move(opt));
  if (!signer.ok()) return Usage("sign", signer.status().message());
  // --resign AUTHSERV-ID: verify the earlier hops first (verify's key and
  // policy options apply), put the result fields on the message and the
  // same text into this signature's verificationInfo (spec §5).
  std::string input = a.positional().empty() ? "" : a.positional()[0];
  Verification v;
  if (int st = RunHop("sign", a, input, &v, a.Has("resign"), a.Get("resign"), signer->get()); st != 0) return st;
  // --pass-unsigned: content no verifier could check (limits, ambiguity)
  // goes on as it came, as a milter passes it; a transport filter (Exim)
  // would otherwise defer it again and again.
  if (!v.hop.signed_it && !a.Has("pass-unsigned")) return Error("sign", v.hop.unsigned_reason);
  if (!v.hop.signed_it) std::fprintf(stderr, "mtas sign: passed unsigned: %s\n", v.hop.unsigned_reason.c_str());
  const MessageEdits* edits = &v.hop.edits;
  std::string output = a.positional().size() > 1 ? a.positional()[1] : "";
  Status st = WriteOutput(output, [&](ByteSink& out) { return WriteSignedMessage(*v.in.source, *edits, out); });
  if (!st.ok()) return Error("sign", st.message());
  return 0;
}

int Inspect(const std::vector<std::string>& argv) {
  Args a(argv, {"json", "view"}, {"cms", "content"});
  if (!a.ok()) return Usage("inspect", a.error());
  if (a.positional().size() != 1) return Usage("inspect", "exactly one INPUT");
  Input in;
  if (Status st = OpenInput(a.positional()[0], &in); !st.ok()) return Error("inspect", st.message(), kUsage);
  if (a.Has("view")) {  // what mtas reads where readers display something
    auto view = ReadView(*in.source);
    if (!view.ok()) return Error("inspect", view.status().message());
    std::fputs((ViewJson(*view) + "\n").c_str(), stdout);
    return 0;
  }
  VerifyOptions opt;
  opt.report_without_key = true;
  auto report = Verifier(opt).Verify(*in.source);
  if (!report.ok()) return Error("inspect", report.status().message());

  std::string which = a.Has("cms") ? a.Get("cms") : a.Get("content");
  if (which.empty()) {
    std::fputs((a.Has("json") ? ReportJson(*report) : ReportText(*report)).c_str(), stdout);
    return 0;
  }
  int n = std::atoi(which.c_str());
  const SignatureReport* sig = nullptr;
  for (const auto& s : report->signatures)
    if (s.hop == n && n > 0) sig = &s;
  if (!sig) return Error("inspect", "no signature " + which + " (hops are numbered from 1, oldest first)", kUsage);
  if (sig->cms_der.empty()) return Error("inspect", "signature " + which + " is unreadable: " + sig->reason);
  Status st;
  if (a.Has("cms")) {
    st = WriteOutput("", [&](ByteSink& out) {
      out.Write(sig->cms_der);
      return Status::Ok();
    });
  } else {
    // The canonicalized body bytes the signature's messageDigest covers.
    st = in.source->Rewind();
    if (st.ok())
      st = WriteOutput("", [&](ByteSink& out) {
        BodyCanonicalizer canon(sig->canon);
        uint64_t pos = 0, begin = report->body_offset, end = begin + sig->content_length;
        Status s = ForEachChunk(*in.source, [&](const char* p, size_t len) {
          uint64_t from = std::max(pos, begin), to = std::min(pos + len, end);
          if (from < to) canon.Update(p + (from - pos), static_cast<size_t>(to - from), out);
          pos += len;
        });
        canon.Finish(out);
        return s;
      });
  }
  if (!st.ok()) return Error("inspect", st.message());
  return 0;
}

namespace {

// Fetches what each service entry publishes for `signer` and compares it
// with the keys that sign (`want`, named by `names`): one line per entry,
// then, for several keys, one per key saying whether verifiers can see it
// (the step a key rotation waits for). Returns how many are not right.
int CheckPublished(ServiceKeyResolver& resolver, const std::string& signer, const std::vector<Service>& services,
                   const std::vector<PublicKey>& want, const std::vector<std::string>& names) {
  int bad = 0;
  std::vector<std::string> seen_by(want.size());
  for (const auto& service : services) {
    std::string target;
    FetchedKeys f = resolver.FetchService(service, signer, &target);
    std::string verdict;
    if (!target.empty() && !BelongsToSigner(target, signer)) {
      verdict = "OUTSIDE: verifiers refuse keys from outside the signer's domain";
      ++bad;
    } else if (f.outcome == KeyLookup::Outcome::kFound) {
      // Every key of ours the answer holds (one name may publish several).
      std::string matched;
      bool not_for_signer = false;
      for (size_t i = 0; i < want.size(); ++i)
        for (const auto& c : f.candidates)
          if (c.key.SpkiDer() == want[i].SpkiDer()) {
            // As verifiers check: a certificate or OpenPGP user ID for the signer.
            if (!c.IsFor(signer)) {
              not_for_signer = true;
              continue;
            }
            matched += (matched.empty() ? " " : ", ") + names[i];
            if (seen_by[i].empty()) seen_by[i] = target;
            break;
          }
      if (matched.empty() && not_for_signer) {
        verdict = "NOT FOR SIGNER: the key is published, but its certificate or user IDs do not name " + signer;
        ++bad;
      } else if (!matched.empty()) {
        verdict = "ok: the published key matches" + (want.size() > 1 ? matched : std::string()) + " (" +
                  std::string(KeyTrustName(f.trust)) + ")";
      } else {
        verdict = "MISMATCH: a different key is published";
        ++bad;
      }
    } else {
      verdict = "FAILED: " + f.reason;
      ++bad;
    }
    std::printf("%-22s %-50s %s\n", service.method.c_str(), target.c_str(), verdict.c_str());
  }
  if (want.size() > 1)
    for (size_t i = 0; i < want.size(); ++i)
      std::printf("  %s: %s\n", names[i].c_str(),
                  seen_by[i].empty() ? "NOT VISIBLE: verifiers cannot check its SignerInfo yet"
                                     : ("visible at " + seen_by[i]).c_str());
  for (const auto& s : seen_by) bad += s.empty() ? 1 : 0;
  if (want.size() > 1 && bad == 0) std::printf("  every key is visible: verifiers can check each SignerInfo\n");
  return bad;
}

// dns-record --check --config FILE: every KeyTable key of an mtasd
// configuration, against the resolver that configuration names (the
// command's network options, when given, win).
int CheckConfig(const Args& a) {
  auto config = mtasd::LoadConfig(a.Get("config"));
  if (!config.ok()) return Error("dns-record", config.status().message(), kUsage);
  NetworkOptions net;
  DnsOptions dns;
  if (Status st = NetworkSettings(a, &dns, &net.fetch); !st.ok()) return Error("dns-record", st.message(), kUsage);
  if (!a.Has("resolver")) dns.server = config->resolver;
  if (!a.Has("trust-anchor")) dns.trust_anchor_file = config->trust_anchor;
  if (!a.Has("timeout")) dns.timeout_ms = net.fetch.timeout_ms = config->timeout_ms;
  auto client = DnsClient::Create(dns);
  if (!client.ok()) return Error("dns-record", client.status().message(), kUsage);
  net.dns = std::move(*client);
  ServiceKeyResolver resolver(std::move(net));
  if (config->keys.empty()) std::printf("%s: KeyTable has no key\n", a.Get("config").c_str());
  int bad = 0;
  for (const auto& k : config->keys) {
    std::string files;
    for (const auto& f : k.key_files) files += (files.empty() ? "" : ", ") + f;
    std::printf("key %s (signer %s, %s)\n", k.id.c_str(), k.signer.c_str(), files.c_str());
    std::vector<PublicKey> want;
    Status loaded = Status::Ok();
    for (const auto& file : k.key_files) {
      PublicKey pk;
      Certificate cert;
      if (file.rfind("pkcs11:", 0) == 0) {  // in a token: its public half, through the engine
        auto sk = SigningKey::Load(file);
        if (sk.ok()) pk = sk->public_key();
        loaded = sk.ok() ? Status::Ok() : sk.status();
      } else {
        loaded = LoadPublicKeyFile(file, &pk, &cert);
      }
      if (!loaded.ok()) break;
      want.push_back(pk);
    }
    if (!loaded.ok()) {
      std::printf("  FAILED: %s\n", loaded.message().c_str());
      ++bad;
      continue;
    }
    if (k.services.empty()) {
      std::printf(
          "  no services= in the KeyTable: verifiers find this key only pinned or in an embedded "
          "certificate\n");
      continue;
    }
    auto services = ParseServices(k.services);
    if (!services.ok()) {
      std::printf("  FAILED: services: %s\n", services.status().message().c_str());
      ++bad;
      continue;
    }
    bad += CheckPublished(resolver, k.signer, *services, want, k.key_files);
  }
  return bad == 0 ? 0 : 1;
}

}  // namespace

int DnsRecord(const std::vector<std::string>& argv) {
  std::set<std::string> options = {"signer", "services", "key-file", "selector", "cert", "config"};
  options.insert(kNetworkOptions.begin(), kNetworkOptions.end());
  Args a(argv, {"check"}, options);
  if (!a.ok()) return Usage("dns-record", a.error());
  if (a.Has("check") && a.Has("config")) return CheckConfig(a);
  if (!a.Has("signer")) return Usage("dns-record", "--signer is required");
  if (!a.Has("check")) {  // print the records for an existing certificate
    if (!a.Has("cert") || !a.Has("selector")) return Usage("dns-record", "without --check: --cert and --selector");
    auto cert = Certificate::FromFile(a.Get("cert"));
    if (!cert.ok()) return Error("dns-record", cert.status().message(), kUsage);
    auto zone = ZoneRecords(a.Get("signer"), a.Get("selector"), *cert);
    if (!zone.ok()) return Error("dns-record", zone.status().message());
    std::fputs(zone->c_str(), stdout);
    return 0;
  }
  if (!a.Has("services") || !a.Has("key-file")) return Usage("dns-record", "--check needs --services and --key-file");
  std::vector<PublicKey> want;
  for (const auto& file : a.All("key-file")) {
    PublicKey pk;
    Certificate cert;
    if (Status st = LoadPublicKeyFile(file, &pk, &cert); !st.ok()) return Error("dns-record", st.message(), kUsage);
    want.push_back(pk);
  }
  auto services = ParseServices(a.Get("services"));
  if (!services.ok()) return Error("dns-record", services.status().message(), kUsage);
  auto net = NetworkFrom(a);
  if (!net.ok()) return Error("dns-record", net.status().message(), kUsage);
  ServiceKeyResolver resolver(std::move(*net));
  return CheckPublished(resolver, a.Get("signer"), *services, want, a.All("key-file")) == 0 ? 0 : 1;
}

}  // namespace mtas::cli
