// Policy parsing and decisions without DNS (the matrix against a real DNS
// server is tests/integration/policy.sh).
#include <gtest/gtest.h>

#include "mtas/policy.h"

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

SignatureReport Sig(int hop, const std::string& signer, SigResult r) {
  SignatureReport s;
  s.hop = hop;
  s.signer = signer;
  s.result = r;
  s.reason = "because";
  return s;
}

TEST(Decision, PartialIsVouchedByALaterPassingHop) {
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "example.com", PolicyLevel::kVerify, false, ""};
  VerifyReport r;
  r.signatures = {Sig(1, "mail.example.com", SigResult::kPartial)};
  EXPECT_EQ(DecidePolicy(r, "example.com", src, {}).action, PolicyDecision::Action::kQuarantine);
  r.signatures.push_back(Sig(2, "lists.example.org", SigResult::kPass));
  EXPECT_EQ(DecidePolicy(r, "example.com", src, {}).action, PolicyDecision::Action::kAccept);
}

TEST(Decision, FromDomainRequiresItsOwnSignature) {
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "example.com", PolicyLevel::kRequired, false, ""};
  VerifyReport r;
  r.signatures = {Sig(1, "relay.example.net", SigResult::kPass)};  // someone else's signature
  PolicyDecision d = DecidePolicy(r, "example.com", src, {});
  EXPECT_EQ(d.action, PolicyDecision::Action::kReject);
  EXPECT_EQ(d.smtp_reply.rfind("550 5.7.1", 0), 0u);
  r.signatures.push_back(Sig(2, "mx.sub.example.com", SigResult::kPass));
  EXPECT_EQ(DecidePolicy(r, "example.com", src, {}).action, PolicyDecision::Action::kAccept);
}

TEST(Decision, UnknownPolicyIsNeverASilentAccept) {
  FixedPolicies src;
  src.map["example.com"] = {"example.com", "", PolicyLevel::kNone, true, "SPF lookup timed out"};
  VerifyReport none;
  PolicyDecision d = DecidePolicy(none, "example.com", src, {});
  EXPECT_EQ(d.action, PolicyDecision::Action::kTempFail);
  EXPECT_EQ(d.smtp_reply.rfind("451 4.7.1", 0), 0u);
  VerifyReport passing;
  passing.signatures = {Sig(1, "mail.example.com", SigResult::kPass)};
  EXPECT_EQ(DecidePolicy(passing, "example.com", src, {}).action, PolicyDecision::Action::kAccept);
}

TEST(Decision, FromDomainOfTheTopmostFrom) {
  HeaderScanner hs;
  std::string m = "From: \"A, B\" <a.b@Mail.Example.COM>\r\nFrom: other@evil.example\r\n\r\n";
  hs.Write(m.data(), m.size());
  EXPECT_EQ(FromDomain(hs.fields()), "mail.example.com");
}

}  // namespace
}  // namespace mtas
