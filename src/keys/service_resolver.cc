// ServiceKeyResolver: the signed service list tried in order (spec §4),
// first key that matches the signature wins, results cached by TTL, and a
// per-message budget on lookups.
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "mtas/domain.h"
#include "mtas/key_service.h"

namespace mtas {
namespace {

using Outcome = KeyLookup::Outcome;

constexpr uint32_t kMinTtl = 60, kMaxTtl = 86400, kDefaultTtl = 3600, kNegativeTtl = 60;
constexpr const char* kServicesSpent = "the message has tried as many services as a message may";
constexpr size_t kMaxCandidates = 8;  // keys of one answer matched against a SignerInfo

// A key published for `signer` must come from its own domain: the DNS name
// or URL host at or below the signer's organisational domain. Otherwise
// anyone could name their own record in a signature and pass as the signer.
}  // namespace

std::string TargetHost(const std::string& target) {
  std::string host = target;
  if (size_t scheme = host.find("://"); scheme != std::string::npos) {
    host = host.substr(scheme + 3);
    host = host.substr(0, host.find_first_of("/?#"));
    if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    if (!host.empty() && host.front() == '[') return "";  // an IP literal names no domain
    host = host.substr(0, host.rfind(':') == std::string::npos ? std::string::npos : host.rfind(':'));
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

bool BelongsToSigner(const std::string& target, const std::string& signer) {
  std::string host = TargetHost(target);
  std::string org = OrganizationalDomain(signer);
  return !host.empty() &&
         (host == org || (host.size() > org.size() && host.compare(host.size() - org.size(), org.size(), org) == 0 &&
                          host[host.size() - org.size() - 1] == '.'));
}

bool HasPlainHost(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return false;
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  size_t colon = authority.find(':');
  std::string_view host = authority.substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
  if (host.empty() || (colon != std::string_view::npos && (port.empty() || port.size() > 5))) return false;
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool KeyCandidate::IsFor(const std::string& signer) const {
  if (cert && X509_check_host(cert.get(), signer.c_str(), signer.size(), 0, nullptr) != 1) return false;
  if (user_id_domains) {
    std::string name = signer;
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    while (!name.empty() && name.back() == '.') name.pop_back();
    return std::find(user_id_domains->begin(), user_id_domains->end(), name) != user_id_domains->end();
  }
  return true;
}

bool KeyCache::Get(const std::string& key, FetchedKeys* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (Clock::now() >= it->second.first) {
    entries_.erase(it);
    return false;
  }
  *out = it->second.second;
  return true;
}

void KeyCache::Put(const std::string& key, const FetchedKeys& value) {
  uint32_t ttl;
  switch (value.outcome) {
    case Outcome::kFound:
      ttl = value.ttl ? std::min(std::max(value.ttl, kMinTtl), kMaxTtl) : kDefaultTtl;
      break;
    case Outcome::kNoKey:
    case Outcome::kMalformed:
      ttl = kNegativeTtl;
      break;
    default:
      return;  // temporary failures and rejections are asked again
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() > 10000) entries_.clear();  // bounded; a flush costs only lookups
  entries_[key] = {Clock::now() + std::chrono::seconds(ttl), value};
}

ServiceKeyResolver::ServiceKeyResolver(NetworkOptions options) : options_(std::move(options)) {
  for (auto& m : DefaultKeyMethods(options_)) {
    std::string name(m->name());
    methods_.emplace(std::move(name), std::move(m));
  }
}

FetchedKeys ServiceKeyResolver::FetchService(const Service& service, const std::string& signer, std::string* target) {
  return *FetchWithin(service, signer, target, nullptr);
}

std::optional<FetchedKeys> ServiceKeyResolver::FetchWithin(const Service& service, const std::string& signer,
                                                           std::string* target, int* budget) {
  auto it = methods_.find(service.method);
  if (it == methods_.end()) {
    FetchedKeys f;
    f.reason = service.method + ": " + (service.known ? "unsupported" : "unknown method");
    return f;
  }
  auto t = it->second->Target(service, signer);
  if (!t.ok()) {
    FetchedKeys f;
    f.outcome = Outcome::kMalformed;
    f.reason = t.status().message();
    return f;
  }
  *target = *t;
  std::string cache_key = service.method + " " + *t;
  FetchedKeys f;
  if (cache_.Get(cache_key, &f)) return f;
  if (budget && (*budget)-- <= 0) return std::nullopt;
  f = it->second->Fetch(*t);
  cache_.Put(cache_key, f);
  return f;
}

KeyLookup ServiceKeyResolver::Resolve(const KeyRequest& request) {
  KeyLookup worst;
  worst.reason = "no verification service named";
  if (request.services.empty()) return worst;
  auto services = ParseServices(request.services);
  if (!services.ok()) {
    worst.outcome = Outcome::kMalformed;
    worst.reason = "verification services: " + services.status().message();
    return worst;
  }
  std::vector<std::string> skipped;
  for (const Service& service : *services) {
    if (!methods_.count(service.method)) {
      skipped.push_back(service.method + (service.known ? " unsupported" : " unknown"));
      continue;
    }
    if (request.service_budget && (*request.service_budget)-- <= 0) {
      skipped.push_back(service.method + " skipped: " + kServicesSpent);
      continue;
    }
    std::string target;
    FetchedKeys f;
    if (auto t = methods_.at(service.method)->Target(service, request.signer);
        t.ok() && !BelongsToSigner(*t, request.signer)) {
      f.outcome = Outcome::kRejected;  // refused before any lookup
      f.reason = *t + " is outside the domain of signer " + request.signer;
      target = *t;
    } else {
      auto fetched = FetchWithin(service, request.signer, &target, request.lookup_budget);
      if (!fetched) {
        skipped.push_back(service.method + " skipped: lookup budget of the message spent");
        continue;
      }
      f = std::move(*fetched);
    }
    KeyLookup l;
    l.method = service.method;
    l.trust = f.trust;
    l.outcome = f.outcome;
    l.reason = f.reason;
    if (f.outcome == Outcome::kFound) {
      bool any_for_signer = false;
      for (size_t i = 0; i < f.candidates.size() && i < kMaxCandidates; ++i) {
        if (!f.candidates[i].IsFor(request.signer)) continue;
        const PublicKey& key = f.candidates[i].key;
        const Certificate& cert = f.candidates[i].cert;
        any_for_signer = true;
        bool match = cert ? request.sid.Matches(cert) || (!request.sid.key_id.empty() && request.sid.Matches(key))
                          : request.sid.Matches(key);
        // A bare key against an issuer+serial identifier: only the signature can tell.
        if (match && !cert && request.sid.key_id.empty() && request.verifies) match = request.verifies(key);
        if (!match) continue;
        l.key = key;
        l.cert = cert;
        l.notes = skipped;
        return l;
      }
      l.outcome = any_for_signer ? Outcome::kOtherKey : Outcome::kRejected;
      l.reason = any_for_signer ? target + ": the published key is not the key that signed"
                                : target + ": " +
                                      (!f.candidates.empty() && f.candidates[0].user_id_domains
                                           ? "no user ID of the key names "
                                           : "certificate is not issued for ") +
                                      request.signer;
    }
    if (KeyLookup::Severity(l.outcome) >= KeyLookup::Severity(worst.outcome)) worst = std::move(l);
  }
  worst.notes = skipped;
  if (worst.method.empty() && !skipped.empty()) worst.reason = "no supported verification service";
  return worst;
}

}  // namespace mtas
