// Policy parsing and decisions without DNS (the matrix against a real DNS
// server is tests/integration/policy.sh).
#include "mtas/policy.h"

#include <gtest/gtest.h>

#include "mtas/address.h"

namespace mtas {
namespace {

TEST(SpfPolicy, Modifier) {
  EXPECT_EQ(*ParseSpfPolicy("v=spf1 mx -all mtas=verify"), PolicyLevel::kVerify);
  EXPECT_EQ(*ParseSpfPolicy("v=spf1 -all MTAS=Required"), PolicyLevel::kRequired);
  EXPECT_EQ(*ParseSpfPolicy("v=spf1 include:_spf.example.com ~all"), PolicyLevel::kNone);
  EXPECT_EQ(ParseSpfPolicy("v=spf1 mtas=sometimes").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseSpfPolicy("v=spf1 mtas=test mtas=verify").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseSpfPolicy("google-site-verification=abc").status().code(), Status::Code::kNotFound);
}

TEST(SpfPolicy, OrganizationalDomain) {
  EXPECT_EQ(OrganizationalDomain("mx1.mail.example.com"), "example.com");
  EXPECT_EQ(OrganizationalDomain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(OrganizationalDomain("example.com."), "example.com");
  EXPECT_EQ(OrganizationalDomain("com"), "com");
}

TEST(LocalPolicyFile, ParseAndMatch) {
  auto lp = LocalPolicy::Parse("# comment\nexample.com required\n*.example.org verify\npartial reject\n");
  ASSERT_TRUE(lp.ok());
  EXPECT_EQ(lp->For("EXAMPLE.com"), PolicyLevel::kRequired);
  EXPECT_EQ(lp->For("a.b.example.org"), PolicyLevel::kVerify);
  EXPECT_EQ(lp->For("example.net"), PolicyLevel::kNone);
  EXPECT_EQ(lp->partial, PartialAction::kReject);
  EXPECT_FALSE(LocalPolicy::Parse("example.com maybe\n").ok());
  EXPECT_FALSE(LocalPolicy::Parse("example.com\n").ok());
  EXPECT_FALSE(LocalPolicy::Parse("partial sometimes\n").ok());
}

class FixedPolicies : public PolicySource {
 public:
  std::map<std::string, DomainPolicy> map;
  DomainPolicy Lookup(const std::string& d) override {
    auto it = map.find(d);
    DomainPolicy p;
    p.domain = d;
    return it == map.end() ? p : it->second;
  }
};

Result<std::vector<std::string>> From(const std::string& domain) { return std::vector<std::string>{domain}; }

SignatureReport Sig(int hop, const std::string& signer, SigResult r) {
  SignatureReport s;
  s.hop = hop;
  s.signer = signer;
  s.result = r;
  s.reason = "because";
  return s;
}

// Only a hop the receiver trusts may vouch: the partial hop's own
// organisation, the From domain's, or a configured trusted forwarder.
TEST(Decision, PartialIsVouchedOnlyByATrustedLaterHop) {
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "example.com", PolicyLevel::kVerify, false, ""};
  auto lp = LocalPolicy::Parse("trusted-forwarder lists.example.org\n");
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->trusted_forwarders, std::vector<std::string>{"lists.example.org"});
  struct Case {
    std::string voucher;
    int hop;
    bool trusted_list;
    PolicyDecision::Action want;
  };
  using A = PolicyDecision::Action;
  const std::vector<Case> cases = {
      {"", 0, false, A::kQuarantine},                     // nobody
      {"mx.attacker.example", 2, false, A::kQuarantine},  // a stranger's own key
      {"mx.attacker.example", 2, true, A::kQuarantine},   // a stranger, whatever else is trusted
      {"lists.example.org", 2, false, A::kQuarantine},    // a list not configured
      {"lists.example.org", 2, true, A::kAccept},         // the configured list
      {"a.lists.example.org", 2, true, A::kAccept},       // below it
      {"xlists.example.org", 2, true, A::kQuarantine},    // not below it
      {"mx2.example.com", 2, false, A::kAccept},          // the partial hop's organisation
      {"lists.example.org", 0, true, A::kQuarantine},     // an earlier hop vouches for nothing
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.voucher + " hop " + std::to_string(c.hop) + (c.trusted_list ? " trusted list" : ""));
    VerifyReport r;
    r.signatures = {Sig(1, "mail.example.com", SigResult::kPartial)};
    if (!c.voucher.empty()) r.signatures.push_back(Sig(c.hop, c.voucher, SigResult::kPass));
    LocalPolicy local = c.trusted_list ? *lp : LocalPolicy{};
    EXPECT_EQ(DecidePolicy(r, From("example.com"), src, local).action, c.want);
  }
  // The From domain's organisation vouches for another signer's partial hop.
  src.map["relay.example.net"] = {"relay.example.net", "relay.example.net", PolicyLevel::kVerify, false, ""};
  VerifyReport r;
  r.signatures = {Sig(1, "relay.example.net", SigResult::kPartial), Sig(2, "mx.example.com", SigResult::kPass)};
  EXPECT_EQ(DecidePolicy(r, From("example.com"), src, {}).action, A::kAccept);
  r.signatures[1].signer = "mx.example.org";
  EXPECT_EQ(DecidePolicy(r, From("example.com"), src, {}).action, A::kQuarantine);
  EXPECT_FALSE(LocalPolicy::Parse("trusted-forwarder\n").ok());
  EXPECT_FALSE(LocalPolicy::Parse("trusted-forwarder *.example.org\n").ok());
}

TEST(Decision, FromDomainRequiresItsOwnSignature) {
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "example.com", PolicyLevel::kRequired, false, ""};
  VerifyReport r;
  r.signatures = {Sig(1, "relay.example.net", SigResult::kPass)};  // someone else's signature
  PolicyDecision d = DecidePolicy(r, From("example.com"), src, {});
  EXPECT_EQ(d.action, PolicyDecision::Action::kReject);
  EXPECT_EQ(d.smtp_reply.rfind("550 5.7.1", 0), 0u);
  r.signatures.push_back(Sig(2, "mx.sub.example.com", SigResult::kPass));
  EXPECT_EQ(DecidePolicy(r, From("example.com"), src, {}).action, PolicyDecision::Action::kAccept);
}

// An unknown policy (the lookup failed for now), case by case: mail that
// carries no failing signature of the domain is accepted with the reason
// named (on-policy-error accept, the default) or deferred (tempfail); a
// failing, permerror or temperror signature of the domain itself is always
// deferred; a good one satisfies any policy.
TEST(Decision, UnknownPolicyDependsOnTheDomainsOwnSignatures) {
  using A = PolicyDecision::Action;
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "", PolicyLevel::kNone, true, "SPF lookup of example.com: timed out"};
  struct Case {
    std::optional<SigResult> own;  // the From domain's own signature, if any
    A on_accept, on_tempfail;
  };
  const Case cases[] = {
      {std::nullopt, A::kAccept, A::kTempFail},
      {SigResult::kPass, A::kAccept, A::kAccept},
      {SigResult::kFail, A::kTempFail, A::kTempFail},
      {SigResult::kPermError, A::kTempFail, A::kTempFail},
      {SigResult::kTempError, A::kTempFail, A::kTempFail},
      {SigResult::kPartial, A::kAccept, A::kTempFail},
      {SigResult::kNeutral, A::kAccept, A::kTempFail},
  };
  for (const Case& c : cases) {
    VerifyReport r;
    r.signatures = {Sig(1, "relay.example.net", SigResult::kPass)};  // someone else's
    if (c.own) r.signatures.push_back(Sig(2, "mail.example.com", *c.own));
    std::string what = c.own ? std::string(ResultName(*c.own)) : "unsigned";
    LocalPolicy local;
    PolicyDecision d = DecidePolicy(r, From("example.com"), src, local);
    EXPECT_EQ(d.action, c.on_accept) << what;
    if (d.action == A::kTempFail) {
      EXPECT_EQ(d.smtp_reply.rfind("451 4.7.1 MTAS policy of example.com", 0), 0u);
    }
    if (d.action == A::kAccept && c.own != SigResult::kPass) {
      EXPECT_EQ(d.reason,
                "SPF lookup of example.com: timed out; accepted (on-policy-error accept: no signature of "
                "example.com failed)")
          << what;
    }
    local.on_policy_error = PolicyErrorAction::kTempFail;
    EXPECT_EQ(DecidePolicy(r, From("example.com"), src, local).action, c.on_tempfail) << what;
  }
  auto lp = LocalPolicy::Parse("on-policy-error tempfail\n");
  ASSERT_TRUE(lp.ok());
  EXPECT_EQ(lp->on_policy_error, PolicyErrorAction::kTempFail);
  EXPECT_FALSE(LocalPolicy::Parse("on-policy-error maybe\n").ok());
}

// The reply names who published the policy: a parent domain's record, or
// the local policy file.
TEST(Decision, TheReplyNamesThePublisher) {
  FixedPolicies src;
  src.map["news.example.com"] = {"news.example.com", "example.com", PolicyLevel::kVerify, false, ""};
  VerifyReport r;
  r.signatures = {Sig(1, "mail.news.example.com", SigResult::kFail)};
  PolicyDecision d = DecidePolicy(r, From("news.example.com"), src, {});
  EXPECT_EQ(d.smtp_reply,
            "550 5.7.1 MTAS signature of mail.news.example.com failed; example.com publishes mtas=verify");
  LocalPolicy local;
  local.overrides["news.example.com"] = PolicyLevel::kVerify;
  src.map["news.example.com"] = {"news.example.com", "", PolicyLevel::kNone, false, ""};
  d = DecidePolicy(r, From("news.example.com"), src, local);
  EXPECT_EQ(d.smtp_reply,
            "550 5.7.1 MTAS signature of mail.news.example.com failed; the local policy for news.example.com sets "
            "mtas=verify");
}

// Every From domain readers display has its say; the strictest wins, and a
// From that cannot be parsed is a failure, never "no policy".
TEST(Decision, EveryFromDomainAndTheStrictestPolicy) {
  FixedPolicies src;
  src.map["strict.example"] = {"strict.example", "strict.example", PolicyLevel::kRequired, false, ""};
  auto decide = [&](const std::string& from, const VerifyReport& r) {
    HeaderScanner hs;
    std::string m = from + "\r\n\r\n";
    hs.Write(m.data(), m.size());
    hs.Finish();
    return DecidePolicy(r, FromDomains(hs.fields()), src, {});
  };
  VerifyReport unsigned_msg;
  VerifyReport lax_signed;
  lax_signed.signatures = {Sig(1, "mx.lax.example", SigResult::kPass)};
  using A = PolicyDecision::Action;
  for (std::string from :
       {"From: a@lax.example, b@strict.example", "From: \"a@lax.example\" <b@Strict.Example>",
        "From: b@strict.example (a@lax.example)", "From: Team: a@lax.example, b @ strict.example;",
        "From: a@lax.example\r\nFrom: b@strict.example", "From: \"x\" <@route.lax.example:b@strict.example>"}) {
    SCOPED_TRACE(from);
    EXPECT_EQ(decide(from, unsigned_msg).action, A::kReject);
    EXPECT_EQ(decide(from, lax_signed).action, A::kReject);
  }
  EXPECT_EQ(decide("From: a@lax.example", lax_signed).action, A::kAccept);
  for (std::string from : {"From: a@lax.example <b@strict.example", "From: nobody", "From: a@[192.0.2.1]",
                           "From: \"unterminated <a@lax.example>", "X-No-From: here"}) {
    SCOPED_TRACE(from);
    PolicyDecision d = decide(from, lax_signed);
    EXPECT_EQ(d.action, A::kReject);
    EXPECT_NE(d.reason.find("From"), std::string::npos) << d.reason;
  }
}

}  // namespace
}  // namespace mtas
