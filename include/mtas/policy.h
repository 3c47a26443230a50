// Policy (spec §6): the `mtas=` modifier of the SPF records of the signer
// domains and of the RFC5322.From domain, local overrides, and the decision
// a receiving MTA takes: accept, reject, tempfail or quarantine.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/dns.h"
#include "mtas/message.h"
#include "mtas/status.h"
#include "mtas/verify.h"

namespace mtas {

enum class PolicyLevel { kNone, kIgnore, kTest, kVerify, kRequired };
std::string_view PolicyName(PolicyLevel p);  // "none", "ignore", "test", "verify", "required"
Result<PolicyLevel> ParsePolicyName(std::string_view name);

// The mtas= modifier of one SPF record ("v=spf1 mx -all mtas=verify").
// kNone without the modifier; kMalformed for an unknown value or a repeated
// modifier; kNotFound when the text is not an SPF record.
Result<PolicyLevel> ParseSpfPolicy(std::string_view txt);

// The organisational domain (RFC 7489 §3.2) by the public suffix list when
// Debian's publicsuffix package is installed, else the last two labels.
std::string OrganizationalDomain(std::string_view domain);

// A domain's published policy as found.
struct DomainPolicy {
  std::string domain;          // where it was looked up first (signer or From domain)
  std::string found_at;        // the name whose SPF record carried it, or "local"
  PolicyLevel level = PolicyLevel::kNone;
  bool temporary_error = false;  // a lookup failed for now: the policy is unknown
  std::string error;             // policy permerror or temperror text
};

class PolicySource {
 public:
  virtual ~PolicySource() = default;
  // The policy for `domain`: its SPF record, then its parents' up to the
  // organisational domain; the strictest found applies.
  virtual DomainPolicy Lookup(const std::string& domain) = 0;
};

// SPF TXT records over DNS.
class DnsPolicySource final : public PolicySource {
 public:
  explicit DnsPolicySource(std::shared_ptr<DnsClient> dns) : dns_(std::move(dns)) {}
  DomainPolicy Lookup(const std::string& domain) override;

 private:
  std::shared_ptr<DnsClient> dns_;
};

enum class PartialAction { kQuarantine, kReject, kAccept };

// Local configuration: per-domain overrides and what an unvouched partial
// result gets. File format, one setting a line, '#' comments:
//   example.com required        (a domain; *.domain: the domain and its subdomains)
//   partial quarantine|reject|accept
struct LocalPolicy {
  std::map<std::string, PolicyLevel> overrides;  // lowercase domain or "*.domain"
  PartialAction partial = PartialAction::kQuarantine;
  static Result<LocalPolicy> Load(const std::string& path);
  static Result<LocalPolicy> Parse(std::string_view text);
  // The override for `domain`, kNone when there is none.
  PolicyLevel For(const std::string& domain) const;
};

struct PolicyDecision {
  enum class Action { kAccept, kReject, kTempFail, kQuarantine };
  Action action = Action::kAccept;
  std::string reason;        // one line
  std::string smtp_reply;    // "550 5.7.1 …", "451 4.7.1 …" or empty
  PolicyLevel applied = PolicyLevel::kNone;  // the strictest policy that applied
  std::vector<DomainPolicy> policies;
};
std::string_view ActionName(PolicyDecision::Action a);  // accept, reject, tempfail, quarantine

// Decides for a verified message whose topmost From is `from_domain`.
PolicyDecision DecidePolicy(const VerifyReport& report, const std::string& from_domain, PolicySource& source,
                            const LocalPolicy& local);

// The domain of the topmost From field's address ("" when there is none).
std::string FromDomain(const std::vector<HeaderField>& fields);

}  // namespace mtas
