// Policy (spec §6): published SPF modifiers, local overrides, the decision.
#include "mtas/policy.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/read_file.h"
#include "mtas/key_records.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// Names and words of policy files compare without case or a trailing dot.
std::string Lower(std::string_view s) { return NormalizeDomain(s); }

bool IsBelowOrAt(const std::string& name, const std::string& domain) {
  return name == domain ||
         (name.size() > domain.size() && name.compare(name.size() - domain.size(), domain.size(), domain) == 0 &&
          name[name.size() - domain.size() - 1] == '.');
}

// The names from `domain` up to its organisational domain, most specific first.
std::vector<std::string> PolicyNames(const std::string& domain) {
  std::string org = OrganizationalDomain(domain);
  std::vector<std::string> out;
  std::string d = Lower(domain);
  while (true) {
    out.push_back(d);
    if (d == org || out.size() >= 8) break;
    size_t dot = d.find('.');
    if (dot == std::string::npos) break;
    d = d.substr(dot + 1);
  }
  return out;
}

int Rank(PolicyLevel p) { return static_cast<int>(p); }

}  // namespace

std::string_view PolicyName(PolicyLevel p) {
  switch (p) {
    case PolicyLevel::kIgnore:
      return "ignore";
    case PolicyLevel::kTest:
      return "test";
    case PolicyLevel::kVerify:
      return "verify";
    case PolicyLevel::kRequired:
      return "required";
    default:
      return "none";
  }
}

Result<PolicyLevel> ParsePolicyName(std::string_view name) {
  std::string n = Lower(name);
  for (PolicyLevel p : {PolicyLevel::kIgnore, PolicyLevel::kTest, PolicyLevel::kVerify, PolicyLevel::kRequired})
    if (n == PolicyName(p)) return p;
  return Status::Malformed("unknown MTAS policy '" + std::string(name) + "'");
}

Result<PolicyLevel> ParseSpfPolicy(std::string_view txt) {
  std::istringstream in{std::string(txt)};
  std::string term;
  in >> term;
  if (Lower(term) != "v=spf1") return Status::NotFound("not an SPF record");
  PolicyLevel level = PolicyLevel::kNone;
  bool seen = false;
  while (in >> term) {
    size_t eq = term.find('=');
    if (eq == std::string::npos || Lower(term.substr(0, eq)) != "mtas") continue;  // other terms: SPF's business
    if (seen) return Status::Malformed("mtas= appears twice in the SPF record");
    seen = true;
    auto p = ParsePolicyName(term.substr(eq + 1));
    if (!p.ok()) return p.status();
    level = *p;
  }
  return level;
}

DomainPolicy DnsPolicySource::Lookup(const std::string& domain) {
  DomainPolicy out;
  out.domain = Lower(domain);
  for (const std::string& name : PolicyNames(out.domain)) {
    if (!dns_) break;
    DnsAnswer a = dns_->Query(name, kDnsTypeTxt);
    if (a.outcome == DnsAnswer::Outcome::kTimeout || a.outcome == DnsAnswer::Outcome::kServFail ||
        a.outcome == DnsAnswer::Outcome::kBogus) {
      out.temporary_error = a.outcome != DnsAnswer::Outcome::kBogus;
      out.error = "SPF lookup of " + name + ": " + (a.why.empty() ? "failed" : a.why);
      if (out.temporary_error) return out;
      continue;
    }
    int spf_records = 0;
    PolicyLevel level = PolicyLevel::kNone;
    std::string error;
    for (const auto& rdata : a.rdata) {
      auto text = TxtRecordText(rdata);
      if (!text.ok()) continue;
      auto p = ParseSpfPolicy(*text);
      if (p.status().code() == Status::Code::kNotFound) continue;
      ++spf_records;
      if (p.ok())
        level = *p;
      else
        error = p.status().message();
    }
    if (spf_records > 1) error = "more than one SPF record at " + name;  // RFC 7208 §4.5
    if (!error.empty()) {
      out.error = "policy of " + name + ": " + error + " (ignored)";
      continue;
    }
    if (Rank(level) > Rank(out.level)) {
      out.level = level;
      out.found_at = name;
    }
  }
  return out;
}

namespace {
std::optional<PartialAction> ParsePartialAction(const std::string& word) {
  std::string v = Lower(word);
  if (v == "quarantine") return PartialAction::kQuarantine;
  if (v == "reject") return PartialAction::kReject;
  if (v == "accept") return PartialAction::kAccept;
  return std::nullopt;
}
}  // namespace

Result<LocalPolicy> LocalPolicy::Parse(std::string_view text) {
  LocalPolicy lp;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string a, b, extra;
    if (!(words >> a)) continue;
    if (Lower(a) == "additions") {
      std::string domain = "*", action;
      if (!(words >> b)) b.clear();
      if (words >> action) {
        domain = Lower(b);
      } else {
        action = b;
      }
      auto parsed = ParsePartialAction(action);
      if (!parsed || (words >> extra) || domain.empty() || domain.find_first_of("@/") != std::string::npos)
        return Status::InvalidArgument("policy file line " + std::to_string(n) +
                                       ": want 'additions [DOMAIN] accept|quarantine|reject'");
      lp.additions[domain] = *parsed;
      continue;
    }
    if (!(words >> b) || (words >> extra))
      return Status::InvalidArgument("policy file line " + std::to_string(n) +
                                     ": want 'DOMAIN POLICY', 'partial ACTION' or 'trusted-forwarder DOMAIN'");
    if (Lower(a) == "trusted-forwarder") {
      std::string d = Lower(b);
      if (d.empty() || d.find_first_of("*@/") != std::string::npos)
        return Status::InvalidArgument("policy file line " + std::to_string(n) + ": trusted-forwarder wants a domain");
      lp.trusted_forwarders.push_back(d);
      continue;
    }
    if (Lower(a) == "on-policy-error") {
      std::string v = Lower(b);
      if (v != "accept" && v != "tempfail")
        return Status::InvalidArgument("policy file line " + std::to_string(n) +
                                       ": on-policy-error wants accept or tempfail");
      lp.on_policy_error = v == "accept" ? PolicyErrorAction::kAccept : PolicyErrorAction::kTempFail;
      continue;
    }
    if (Lower(a) == "partial") {
      auto parsed = ParsePartialAction(b);
      if (!parsed)
        return Status::InvalidArgument("policy file line " + std::to_string(n) +
                                       ": partial wants quarantine, reject or accept");
      lp.partial = *parsed;
      continue;
    }
    auto p = ParsePolicyName(b);
    if (!p.ok()) return Status::InvalidArgument("policy file line " + std::to_string(n) + ": " + p.status().message());
    lp.overrides[Lower(a)] = *p;
  }
  return lp;
}

Result<LocalPolicy> LocalPolicy::Load(const std::string& path) {
  auto text = ReadSmallFile(path, 4 << 20);
  if (!text.ok()) return text.status();
  auto lp = Parse(*text);
  if (!lp.ok()) return Status::InvalidArgument(path + ": " + lp.status().message());
  return lp;
}

PolicyLevel LocalPolicy::For(const std::string& domain) const {
  std::string d = Lower(domain);
  if (auto it = overrides.find(d); it != overrides.end()) return it->second;
  for (size_t dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1))
    if (auto it = overrides.find("*." + d.substr(dot + 1)); it != overrides.end()) return it->second;
  if (auto it = overrides.find("*." + d); it != overrides.end()) return it->second;
  return PolicyLevel::kNone;
}

std::optional<PartialAction> LocalPolicy::AdditionsFor(const std::string& domain) const {
  std::string d = Lower(domain);
  for (size_t dot = 0; dot != std::string::npos; dot = d.find('.', dot + 1)) {
    std::string candidate = dot == 0 ? d : d.substr(dot + 1);
    if (auto it = additions.find(candidate); it != additions.end()) return it->second;
  }
  if (auto it = additions.find("*"); it != additions.end()) return it->second;
  return std::nullopt;
}

std::string_view ActionName(PolicyDecision::Action a) {
  switch (a) {
    case PolicyDecision::Action::kAcceptWithEdits:
      return "accept-with-edits";
    case PolicyDecision::Action::kReject:
      return "reject";
    case PolicyDecision::Action::kTempFail:
      return "tempfail";
    case PolicyDecision::Action::kQuarantine:
      return "quarantine";
    default:
      return "accept";
  }
}

namespace {

// Who set the policy that applies to `domain`, for replies and reasons: the
// name whose record carried it (a parent domain's, perhaps), or the local
// policy file.
std::string Publisher(const DomainPolicy& p, const std::string& domain) {
  if (p.found_at == "local") return "the local policy for " + domain;
  return p.found_at.empty() ? domain : p.found_at;
}

}  // namespace

bool MayVouch(const SignatureReport& later, const SignatureReport& earlier,
              const std::vector<std::string>& from_domains, const LocalPolicy& local) {
  if (later.hop <= earlier.hop || later.result != SigResult::kPass || later.signer.empty()) return false;
  std::string signer = Lower(later.signer);
  std::string org = OrganizationalDomain(signer);
  if (!earlier.signer.empty() && org == OrganizationalDomain(earlier.signer)) return true;
  for (const auto& f : from_domains)
    if (org == OrganizationalDomain(f)) return true;
  for (const auto& t : local.trusted_forwarders)
    if (IsBelowOrAt(signer, t)) return true;
  return false;
}

PolicyDecision DecidePolicy(const VerifyReport& report, const Result<std::vector<std::string>>& from_domains,
                            PolicySource& source, const LocalPolicy& local) {
  using Action = PolicyDecision::Action;
  PolicyDecision d;
  auto decide = [&](Action a, std::string reason, std::string reply) {
    if (a <= d.action) return;  // Action is ordered by severity
    d.action = a;
    d.reason = std::move(reason);
    d.smtp_reply = std::move(reply);
  };
  // What readers show as the sender must be known for any policy to apply.
  if (!from_domains.ok()) {
    decide(Action::kReject, "From cannot be read as readers show it: " + from_domains.status().message(),
           "550 5.7.1 MTAS: the From field cannot be parsed, so no sender policy can be applied");
  }
  std::vector<std::string> froms;
  if (from_domains.ok())
    for (const auto& f : *from_domains) froms.push_back(Lower(f));
  // Which domains have a say: every signer's, and every From domain.
  std::vector<std::string> domains;
  for (const auto& s : report.signatures)
    if (!s.signer.empty() && std::find(domains.begin(), domains.end(), Lower(s.signer)) == domains.end())
      domains.push_back(Lower(s.signer));
  for (const auto& f : froms)
    if (std::find(domains.begin(), domains.end(), f) == domains.end()) domains.push_back(f);

  // A partial hop is vouched for when a later hop it may trust passes.
  auto vouched = [&](const SignatureReport& s) {
    for (const auto& later : report.signatures)
      if (MayVouch(later, s, froms, local)) return true;
    return false;
  };

  std::string unknown_note;  // an unknown policy let pass, for the reason when nothing else decides
  for (const std::string& domain : domains) {
    DomainPolicy p = source.Lookup(domain);
    if (PolicyLevel o = local.For(domain); o != PolicyLevel::kNone) {
      p.level = o;
      p.found_at = "local";
      p.temporary_error = false;
    }
    d.policies.push_back(p);
    if (Rank(p.level) > Rank(d.applied)) d.applied = p.level;
    // The signatures this domain speaks for: signers at or below its organisational domain.
    std::string org = OrganizationalDomain(domain);
    std::vector<const SignatureReport*> own;
    for (const auto& s : report.signatures)
      if (!s.signer.empty() && IsBelowOrAt(Lower(s.signer), org)) own.push_back(&s);
    bool any_good = std::any_of(own.begin(), own.end(), [&](const SignatureReport* s) {
      return s->result == SigResult::kPass || (s->result == SigResult::kPartial && vouched(*s));
    });
    // For mtas=required a partial signature is present: its unvouched
    // changes are judged by the partial action, not as a missing signature.
    bool any_present = std::any_of(own.begin(), own.end(), [](const SignatureReport* s) {
      return s->result == SigResult::kPass || s->result == SigResult::kPartial;
    });

    if (p.temporary_error) {   // the policy is unknown for now
      if (any_good) continue;  // whatever it is, a good signature of the domain satisfies it
      bool own_bad = std::any_of(own.begin(), own.end(), [](const SignatureReport* s) {
        return s->result == SigResult::kFail || s->result == SigResult::kPermError ||
               s->result == SigResult::kTempError;
      });
      if (own_bad || local.on_policy_error == PolicyErrorAction::kTempFail)
        decide(Action::kTempFail,
               p.error + (own_bad ? "; a signature of " + domain + " did not verify, and its policy is unknown"
                                  : "; on-policy-error tempfail"),
               "451 4.7.1 MTAS policy of " + domain + " unavailable, try again later");
      else if (unknown_note.empty())
        unknown_note = p.error + "; accepted (on-policy-error accept: no signature of " + domain + " failed)";
      continue;
    }
    if (p.level != PolicyLevel::kVerify && p.level != PolicyLevel::kRequired) continue;
    std::string pname(PolicyName(p.level));
    for (const SignatureReport* s : own) {
      switch (s->result) {
        case SigResult::kFail:
        case SigResult::kPermError:
          decide(Action::kReject,
                 "hop " + std::to_string(s->hop) + " (" + s->signer + ") " + std::string(ResultName(s->result)) +
                     " under mtas=" + pname + " of " + domain + ": " + s->reason,
                 "550 5.7.1 MTAS signature of " + s->signer + " failed; " + Publisher(p, domain) +
                     (p.found_at == "local" ? " sets" : " publishes") + " mtas=" + pname);
          break;
        case SigResult::kTempError:
          decide(Action::kTempFail, "hop " + std::to_string(s->hop) + " key lookup failed for now: " + s->reason,
                 "451 4.7.1 MTAS signature of " + s->signer + " cannot be checked now, try again later");
          break;
        case SigResult::kPartial: {
          if (vouched(*s)) break;
          // Recovered with additions only: its own class (the `additions`
          // setting), distinct from an unexplained change.
          bool additions =
              s->recovered && !s->edits.empty() &&
              std::all_of(s->edits.begin(), s->edits.end(), [](const Edit& e) { return IsAddition(e.kind); });
          PartialAction action = local.partial;
          if (additions)
            action = local.AdditionsFor(domain).value_or(p.level == PolicyLevel::kVerify ? PartialAction::kAccept
                                                                                         : local.partial);
          std::string what = additions ? "additions after hop " : "unvouched changes after hop ";
          if (action == PartialAction::kReject)
            decide(Action::kReject, what + std::to_string(s->hop) + ": " + s->reason,
                   "550 5.7.1 MTAS: message changed after " + s->signer + " signed it");
          else if (action == PartialAction::kQuarantine)
            decide(Action::kQuarantine, what + std::to_string(s->hop) + ": " + s->reason, "");
          else if (additions)
            decide(Action::kAcceptWithEdits, what + std::to_string(s->hop) + " (original recovered): " + s->reason, "");
          break;
        }
        default:
          break;
      }
    }
    if (p.level == PolicyLevel::kRequired && !any_present) {
      bool temp = std::any_of(own.begin(), own.end(), [](auto* s) { return s->result == SigResult::kTempError; });
      if (!temp)
        decide(Action::kReject,
               domain + " publishes mtas=required and no passing or partial signature of it is present",
               "550 5.7.1 MTAS: " + domain + " requires a valid MTA signature");
    }
  }
  if (d.action == Action::kAccept)
    d.reason = !unknown_note.empty()             ? unknown_note
               : d.applied == PolicyLevel::kNone ? "no MTAS policy published"
                                                 : "policy satisfied";
  return d;
}

}  // namespace mtas
