// Finding keys through the signer's verification services (spec §4): one
// KeyMethod class per method, registered in DefaultKeyMethods(), a cache by
// TTL, and the ServiceKeyResolver that tries the signed service list in order.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mtas/dns.h"
#include "mtas/fetch.h"
#include "mtas/keys.h"
#include "mtas/services.h"

namespace mtas {

// One key a method found, with what says whose it is.
struct KeyCandidate {
  KeyCandidate(PublicKey k, Certificate c, std::optional<std::vector<std::string>> domains = std::nullopt)
      : key(std::move(k)), cert(std::move(c)), user_id_domains(std::move(domains)) {}
  PublicKey key;
  Certificate cert;  // may be empty; when present, it must be issued for the signer
  // An OpenPGP key's user ID address domains (mtas/openpgp.h): the key
  // stands only for a signer named here. nullopt for other methods.
  std::optional<std::vector<std::string>> user_id_domains;

  // Whether it is published for `signer`: a certificate issued for its
  // name, an OpenPGP key with a user ID address at it exactly, or a bare key
  // (its place in the signer's domain is what vouches).
  bool IsFor(const std::string& signer) const;
};

// What one method found at one target.
struct FetchedKeys {
  KeyLookup::Outcome outcome = KeyLookup::Outcome::kNoKey;
  std::vector<KeyCandidate> candidates;
  KeyTrust trust = KeyTrust::kNone;  // dnssec | https | weak
  std::string reason;                // one line
  uint32_t ttl = 0;                  // seconds, for the cache (0: the method's default)
};

class KeyMethod {
 public:
  virtual ~KeyMethod() = default;
  virtual std::string_view name() const = 0;
  // What it fetches for this entry ("KEY sel._certs.example.com", a URL):
  // the cache key, and what reports name.
  virtual Result<std::string> Target(const Service& service, const std::string& signer) const = 0;
  virtual FetchedKeys Fetch(const std::string& target) = 0;
};

struct NetworkOptions {
  std::shared_ptr<DnsClient> dns;  // nullptr: DNS methods report neutral
  FetchOptions fetch;
};

// Whether a lookup target (DNS name or URL) lies at or below the signer's
// organisational domain: a key for a signer must come from its own domain.
bool BelongsToSigner(const std::string& target, const std::string& signer);
// The host a target names: a URL's host (after any user@, without the
// port; "" for an address literal), or the DNS name itself; lower case.
std::string TargetHost(const std::string& target);
// Whether a URL's authority is HOST[:PORT] written plainly (letters,
// digits, dots, hyphens; a port of digits): no user, %-escape, backslash or
// address literal, so that the host checked against the signer's domain is
// the host libcurl connects to.
bool HasPlainHost(std::string_view url);

// The methods this build implements (the one place to register a new one).
std::vector<std::unique_ptr<KeyMethod>> DefaultKeyMethods(const NetworkOptions& options);

// Results by target with expiry; thread-safe.
class KeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  bool Get(const std::string& key, FetchedKeys* out);
  void Put(const std::string& key, const FetchedKeys& value);

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<Clock::time_point, FetchedKeys>> entries_;
};

class ServiceKeyResolver final : public KeyResolver {
 public:
  explicit ServiceKeyResolver(NetworkOptions options);
  KeyLookup Resolve(const KeyRequest& request) override;
  // Fetches what one service entry publishes (for `mtas dns-record --check`).
  FetchedKeys FetchService(const Service& service, const std::string& signer, std::string* target);

 private:
  // As FetchService, within `budget` network lookups (nullptr: no limit):
  // an answer from the cache costs none; nullopt when one was needed and
  // none is left.
  std::optional<FetchedKeys> FetchWithin(const Service& service, const std::string& signer, std::string* target,
                                         int* budget);
  NetworkOptions options_;
  std::map<std::string, std::unique_ptr<KeyMethod>, std::less<>> methods_;
  KeyCache cache_;
};

}  // namespace mtas
