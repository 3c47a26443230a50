// The key methods of spec §4, one class each.
#include <openssl/x509v3.h>

#include <algorithm>

#include "mtas/canon.h"
#include "mtas/fetch.h"
#include "mtas/key_records.h"
#include "mtas/key_service.h"
#include "mtas/openpgp.h"

namespace mtas {
namespace {

using Outcome = KeyLookup::Outcome;

FetchedKeys Fail(Outcome o, std::string reason) {
  FetchedKeys f;
  f.outcome = o;
  f.reason = std::move(reason);
  return f;
}

// A download or directory read that failed, as a lookup's outcome; what a
// refusal means differs by method (`refused`).
FetchedKeys FetchFailure(FetchResult::Outcome o, const std::string& why, Outcome refused) {
  switch (o) {
    case FetchResult::Outcome::kNotFound:
      return Fail(Outcome::kNoKey, why);
    case FetchResult::Outcome::kTooLarge:
      return Fail(Outcome::kMalformed, why);
    case FetchResult::Outcome::kRefused:
      return Fail(refused, why);
    case FetchResult::Outcome::kTemporary:
    case FetchResult::Outcome::kOk:
      break;
  }
  return Fail(Outcome::kTemporary, why);
}

// Common handling of a DNS answer; `parse` turns one RDATA into a candidate.
template <typename Parse>
FetchedKeys FromDns(DnsClient* dns, const std::string& name, int type, const char* what, Parse&& parse) {
  if (!dns) return Fail(Outcome::kNoKey, "DNS lookups are disabled");
  DnsAnswer a = dns->Query(name, type);
  switch (a.outcome) {
    case DnsAnswer::Outcome::kOk:
      break;
    case DnsAnswer::Outcome::kNxDomain:
      return Fail(Outcome::kNoKey, name + ": no such name");
    case DnsAnswer::Outcome::kNoData:
      return Fail(Outcome::kNoKey, name + ": no " + what + " record");
    case DnsAnswer::Outcome::kBogus:
      return Fail(Outcome::kRejected, name + ": DNSSEC validation failed (" + a.why + ")");
    case DnsAnswer::Outcome::kTimeout:
    case DnsAnswer::Outcome::kServFail:
      return Fail(Outcome::kTemporary, name + ": " + (a.why.empty() ? "DNS failure" : a.why));
  }
  FetchedKeys f;
  f.ttl = std::max<uint32_t>(a.ttl, 1);  // 0 means "do not keep": the cache's minimum
  f.trust = a.secure ? KeyTrust::kDnssec : KeyTrust::kWeak;
  std::string last_error;
  bool malformed = false;
  for (const auto& rdata : a.rdata) {
    Status st = parse(rdata, &f);
    if (!st.ok()) {
      last_error = st.message();
      malformed |= st.code() == Status::Code::kMalformed;
    }
  }
  if (!f.candidates.empty()) {
    f.outcome = Outcome::kFound;
    f.reason = name + ": " + std::to_string(f.candidates.size()) + " " + what + " record(s)" +
               (a.secure ? ", DNSSEC-validated" : "");
  } else {
    f.outcome = malformed ? Outcome::kMalformed : Outcome::kNoKey;
    f.reason = name + ": no usable " + what + " record (" + last_error + ")";
  }
  return f;
}

class DnsKeyMethod final : public KeyMethod {
 public:
  explicit DnsKeyMethod(std::shared_ptr<DnsClient> dns) : dns_(std::move(dns)) {}
  std::string_view name() const override { return "domain:key:email"; }
  Result<std::string> Target(const Service& s, const std::string& signer) const override {
    return ResolveName(s.args[0], signer);
  }
  FetchedKeys Fetch(const std::string& target) override {
    return FromDns(dns_.get(), target, kDnsTypeKey, "KEY", [](const std::string& rdata, FetchedKeys* f) {
      auto key = ParseKeyRecord(rdata);
      if (key.ok()) f->candidates.emplace_back(*key, Certificate());
      return key.ok() ? Status::Ok() : key.status();
    });
  }

 private:
  std::shared_ptr<DnsClient> dns_;
};

class DnsCertMethod final : public KeyMethod {
 public:
  explicit DnsCertMethod(std::shared_ptr<DnsClient> dns) : dns_(std::move(dns)) {}
  std::string_view name() const override { return "domain:cert:pkix"; }
  Result<std::string> Target(const Service& s, const std::string& signer) const override {
    return ResolveName(s.args[0], signer);
  }
  FetchedKeys Fetch(const std::string& target) override {
    return FromDns(dns_.get(), target, kDnsTypeCert, "CERT", [](const std::string& rdata, FetchedKeys* f) {
      auto cert = ParseCertRecord(rdata);
      if (cert.ok()) f->candidates.emplace_back(PublicKey::Adopt(X509_get_pubkey(cert->get())), *cert);
      return cert.ok() ? Status::Ok() : cert.status();
    });
  }

 private:
  std::shared_ptr<DnsClient> dns_;
};

class DnsTxtMethod final : public KeyMethod {
 public:
  explicit DnsTxtMethod(std::shared_ptr<DnsClient> dns) : dns_(std::move(dns)) {}
  std::string_view name() const override { return "domain:txt:dk"; }
  Result<std::string> Target(const Service& s, const std::string& signer) const override {
    return ResolveName(s.args[0], signer);
  }
  FetchedKeys Fetch(const std::string& target) override {
    return FromDns(dns_.get(), target, kDnsTypeTxt, "DKIM key TXT", [](const std::string& rdata, FetchedKeys* f) {
      auto text = TxtRecordText(rdata);
      if (!text.ok()) return text.status();
      if (text->find("p=") == std::string::npos) return Status::NotFound("TXT record is not a key record");
      auto key = ParseDkimKey(*text);
      if (key.ok()) f->candidates.emplace_back(*key, Certificate());
      return key.ok() ? Status::Ok() : key.status();
    });
  }

 private:
  std::shared_ptr<DnsClient> dns_;
};

// http|https|ftp|tftp:download:der DIR FILE -> <scheme>://<signer>/DIR/FILE,
// or one absolute URL of the same scheme.
class DownloadMethod final : public KeyMethod {
 public:
  DownloadMethod(std::string scheme, FetchOptions options)
      : scheme_(std::move(scheme)), name_(scheme_ + ":download:der"), options_(std::move(options)) {}
  std::string_view name() const override { return name_; }
  Result<std::string> Target(const Service& s, const std::string& signer) const override {
    if (s.args.size() == 1 && s.args[0].find("://") != std::string::npos) {
      if (s.args[0].rfind(scheme_ + "://", 0) != 0)
        return Status::Malformed(name_ + " with a URL of another scheme: " + s.args[0]);
      if (!HasPlainHost(s.args[0]))
        return Status::Malformed(name_ + ": the URL's host must be written plainly, HOST[:PORT]: " + s.args[0]);
      return s.args[0];
    }
    std::string path;
    for (const auto& a : s.args) {
      std::string part = a;
      while (!part.empty() && part.front() == '/') part.erase(part.begin());
      while (!part.empty() && part.back() == '/') part.pop_back();
      if (part.find("..") != std::string::npos) return Status::Malformed(name_ + ": '..' in a path");
      path += "/" + part;
    }
    return scheme_ + "://" + signer + path;
  }
  FetchedKeys Fetch(const std::string& url) override {
    FetchResult r = mtas::Fetch(url, options_);
    // Refused: a TLS server that could not be verified, evidence against the key.
    if (r.outcome != FetchResult::Outcome::kOk) return FetchFailure(r.outcome, r.why, Outcome::kRejected);
    // The entry's host was held to the signer's domain; so is every host a
    // redirect led to (it lies in the same organisational domain as the first).
    if (!r.final_url.empty() && !BelongsToSigner(r.final_url, TargetHost(url)))
      return Fail(Outcome::kRejected, url + ": redirected outside the signer's domain, to " + r.final_url);
    auto cert = Certificate::FromDer(r.body);
    if (!cert.ok()) return Fail(Outcome::kMalformed, url + ": not a DER certificate");
    FetchedKeys f;
    f.outcome = Outcome::kFound;
    f.trust = scheme_ == "https" ? KeyTrust::kHttps : KeyTrust::kWeak;
    f.reason = url + ": certificate downloaded";
    f.candidates.emplace_back(PublicKey::Adopt(X509_get_pubkey(cert->get())), *cert);
    return f;
  }

 private:
  std::string scheme_;
  std::string name_;
  FetchOptions options_;
};

// ldap:smime-keyserver URL -> the userCertificate;binary values of the
// entry an LDAP URL names (ldap[s]://HOST[:PORT]/DN[??SCOPE?FILTER]), each
// a DER certificate that must be issued for the signer, as for a download.
class LdapMethod final : public KeyMethod {
 public:
  explicit LdapMethod(FetchOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "ldap:smime-keyserver"; }
  Result<std::string> Target(const Service& s, const std::string&) const override {
    if (s.args.size() != 1 || (s.args[0].rfind("ldap://", 0) != 0 && s.args[0].rfind("ldaps://", 0) != 0))
      return Status::Malformed("ldap:smime-keyserver wants one ldap:// or ldaps:// URL");
    // The signer's domain is checked against the host as written;
    // FetchLdapCertificates connects only when libldap reads the same one.
    return s.args[0];
  }
  FetchedKeys Fetch(const std::string& url) override {
    LdapFetchResult r = FetchLdapCertificates(url, options_);
    // Refused: a URL libldap does not take, a broken service entry.
    if (r.outcome != FetchResult::Outcome::kOk) return FetchFailure(r.outcome, r.why, Outcome::kMalformed);
    FetchedKeys f;
    for (const auto& der : r.values)
      if (auto cert = Certificate::FromDer(der); cert.ok())
        f.candidates.emplace_back(PublicKey::Adopt(X509_get_pubkey(cert->get())), *cert);
    if (f.candidates.empty()) return Fail(Outcome::kMalformed, url + ": no value is a DER certificate");
    f.outcome = Outcome::kFound;
    f.trust = url.rfind("ldaps://", 0) == 0 ? KeyTrust::kTls : KeyTrust::kWeak;
    f.reason = url + ": " + std::to_string(f.candidates.size()) + " certificate(s) from the directory";
    return f;
  }

 private:
  FetchOptions options_;
};

// http:pgp-keyserver SERVER FINGERPRINT -> the OpenPGP key of that
// fingerprint from an HKP key server (HkpLookupUrl in mtas/openpgp.h). The
// key must be valid, allowed to sign, and have a user ID whose address is at
// the signer (checked by the resolver, KeyCandidate::IsFor). No redirects:
// HKP has no need of them, and each would be a host unchecked. Always weak:
// a key server takes keys from anyone who uploads them, and TLS proves only
// which server answered.
class PgpKeyserverMethod final : public KeyMethod {
 public:
  explicit PgpKeyserverMethod(FetchOptions options) : options_(std::move(options)) { options_.max_redirects = 0; }
  std::string_view name() const override { return "http:pgp-keyserver"; }
  Result<std::string> Target(const Service& s, const std::string&) const override {
    if (s.args.size() != 2) return Status::Malformed("http:pgp-keyserver wants a key server URL and a key fingerprint");
    return HkpLookupUrl(s.args[0], s.args[1]);
  }
  FetchedKeys Fetch(const std::string& url) override {
    size_t lookup = url.rfind(kHkpLookup);
    if (lookup == std::string::npos) return Fail(Outcome::kMalformed, url + ": not a key server lookup");
    FetchResult r = mtas::Fetch(url, options_);
    // Refused: a TLS server that could not be verified, evidence against the key.
    if (r.outcome != FetchResult::Outcome::kOk) return FetchFailure(r.outcome, r.why, Outcome::kRejected);
    auto key = ReadOpenPgpKey(r.body, url.substr(lookup + std::string_view(kHkpLookup).size()));
    if (!key.ok()) {
      switch (key.status().code()) {
        case Status::Code::kInvalidArgument:  // revoked, expired, not for signing
          return Fail(Outcome::kRejected, url + ": " + key.status().message());
        case Status::Code::kMalformed:
          return Fail(Outcome::kMalformed, url + ": " + key.status().message());
        case Status::Code::kNotFound:     // not in the answer
        case Status::Code::kUnsupported:  // an algorithm mtas does not verify with, or no librnp
          return Fail(Outcome::kNoKey, url + ": " + key.status().message());
        default:
          return Fail(Outcome::kTemporary, url + ": " + key.status().message());
      }
    }
    FetchedKeys f;
    f.outcome = Outcome::kFound;
    f.trust = KeyTrust::kWeak;
    f.ttl = kKeyServerTtl;
    f.reason = url + ": OpenPGP key " + key->fingerprint;
    f.candidates.emplace_back(key->key, Certificate(), key->user_id_domains);
    return f;
  }

 private:
  // Kept shorter than a DNS key's hour: a key server has no TTL to say how
  // soon a revocation must be seen.
  static constexpr uint32_t kKeyServerTtl = 900;
  FetchOptions options_;
};

}  // namespace

std::vector<std::unique_ptr<KeyMethod>> DefaultKeyMethods(const NetworkOptions& options) {
  std::vector<std::unique_ptr<KeyMethod>> m;
  for (const char* scheme : {"http", "https", "ftp", "tftp"})
    m.push_back(std::make_unique<DownloadMethod>(scheme, options.fetch));
  m.push_back(std::make_unique<DnsKeyMethod>(options.dns));
  m.push_back(std::make_unique<DnsCertMethod>(options.dns));
  m.push_back(std::make_unique<DnsTxtMethod>(options.dns));
  m.push_back(std::make_unique<LdapMethod>(options.fetch));
  m.push_back(std::make_unique<PgpKeyserverMethod>(options.fetch));
  return m;
}

}  // namespace mtas
