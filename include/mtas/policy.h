// Policy (spec §6): the `mtas=` modifier of the SPF records of the signer
// domains and of the RFC5322.From domain, local overrides, and the decision
// a receiving MTA takes: accept, reject, tempfail or quarantine.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/dns.h"
#include "mtas/domain.h"
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

// A domain's published policy as found.
struct DomainPolicy {
  std::string domain;    // where it was looked up first (signer or From domain)
  std::string found_at;  // the name whose SPF record carried it, or "local"
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

// Local configuration: per-domain overrides, what an unvouched partial
// result gets, and the intermediaries trusted to vouch for others' changes.
// File format, one setting a line, '#' comments:
//   example.com required        (a domain; *.domain: the domain and its subdomains)
//   partial quarantine|reject|accept
//   trusted-forwarder lists.example.org   (that domain and its subdomains)
//   additions [DOMAIN] accept|quarantine|reject
//        (an unvouched partial hop recovered with additions only: appended
//        or inserted text, added parts, a Subject tag; see DecidePolicy)
// Thread safety: LocalPolicy is plain data; DecidePolicy is a pure function.
// DnsPolicySource::Lookup may be called from several threads at once.
// What an unknown policy (its lookup failed for now) means for a message
// that carries no good signature of that domain. Either way a failed,
// permerror or temperror signature of the domain itself is deferred: the
// domain signs, and its policy may forbid exactly that.
enum class PolicyErrorAction {
  kAccept,    // accept (the default): mail no policy is known to protect is never delayed by DNS trouble
  kTempFail,  // defer until the policy can be read
};

struct LocalPolicy {
  std::map<std::string, PolicyLevel> overrides;                    // lowercase domain or "*.domain"
  PolicyErrorAction on_policy_error = PolicyErrorAction::kAccept;  // policy file: on-policy-error accept|tempfail
  PartialAction partial = PartialAction::kQuarantine;
  std::map<std::string, PartialAction> additions;  // lowercase domain, or "*" for every domain
  std::vector<std::string> trusted_forwarders;     // lowercase domains
  static Result<LocalPolicy> Load(const std::string& path);
  static Result<LocalPolicy> Parse(std::string_view text);
  // The override for `domain`, kNone when there is none.
  PolicyLevel For(const std::string& domain) const;
  // The `additions` setting for `domain` (its own line, or a parent's, or
  // the one for every domain); nullopt when none is set.
  std::optional<PartialAction> AdditionsFor(const std::string& domain) const;
};

struct PolicyDecision {
  // By severity: accept < accept-with-edits < quarantine < tempfail < reject.
  // accept-with-edits: accepted, and what was added after signing is named
  // (an unvouched hop recovered with additions only).
  enum class Action { kAccept, kAcceptWithEdits, kQuarantine, kTempFail, kReject };
  Action action = Action::kAccept;
  std::string reason;                        // one line
  std::string smtp_reply;                    // "550 5.7.1 …", "451 4.7.1 …" or empty
  PolicyLevel applied = PolicyLevel::kNone;  // the strictest policy that applied
  std::vector<DomainPolicy> policies;
};
std::string_view ActionName(PolicyDecision::Action a);  // accept, accept-with-edits, quarantine, tempfail, reject

// Decides for a verified message whose From domains (every mailbox readers
// display, address.h FromDomains) are `from_domains`. Each From domain's
// policy applies, the strictest wins. A From that cannot be parsed is a
// policy failure: reject, never "no policy".
//
// Vouching: a partial hop is acceptable only when a later hop that passes
// is trusted to vouch for it, i.e. its signer shares the organisational
// domain of the partial hop's signer or of a From domain, or is a trusted
// forwarder of `local`. A pass by any other signer vouches for nothing.
//
// An unvouched partial hop whose original was recovered with additions
// only (SignatureReport::recovered, every edit IsAddition) is its own class:
// the `additions` setting for the domain decides; without one, accept-with-
// edits under mtas=verify and the `partial` setting under mtas=required.
PolicyDecision DecidePolicy(const VerifyReport& report, const Result<std::vector<std::string>>& from_domains,
                            PolicySource& source, const LocalPolicy& local);

// Whether `later` may vouch for the changes after `earlier` (the rule above).
bool MayVouch(const SignatureReport& later, const SignatureReport& earlier,
              const std::vector<std::string>& from_domains, const LocalPolicy& local);

}  // namespace mtas
