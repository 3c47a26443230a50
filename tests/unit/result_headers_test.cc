// The result header fields (spec §5, RFC 8601): golden format, folding at
// 78 columns, parse round trips, the forgery defence.
#include "mtas/result_headers.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace mtas {
namespace {

SignatureReport Sample(SigResult result) {
  SignatureReport s;
  s.hop = 1;
  s.msgid = "8A2A6KQ3ZP";
  s.signer = "mail.example.com";
  s.result = result;
  s.key_method = "domain:key:email";
  s.headers = {{"From", HeaderStatus::kSame, "From: a@example.com", ""},
               {"Subject", HeaderStatus::kSame, "Subject: x", ""}};
  s.parts = {{"1", "text/plain", PartStatus::kSame, "", {}, "", "", 0, "", true}};
  if (result == SigResult::kPartial) {
    s.headers[1].status = HeaderStatus::kChanged;
    s.added_parts = {{"2", "text/plain"}};
    s.reason = "Subject changed; part 2 (text/plain) added";
  }
  return s;
}

std::vector<std::string> Lines(const std::string& field) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = field.find("\r\n", start)) != std::string::npos; start = nl + 2)
    out.push_back(field.substr(start, nl - start));
  out.push_back(field.substr(start));
  return out;
}

TEST(VerificationInfo, GoldenPass) {
  std::string f = FormatVerificationInfo(InfoFor(Sample(SigResult::kPass), "mx.example.net", "verify"));
  EXPECT_EQ(f,
            "MTAS-VerificationInfo: mx.example.net; msgid=8A2A6KQ3ZP;\r\n"
            " signer=mail.example.com; result=pass; method=domain:key:email; headers=same;\r\n"
            " parts=same; added=none; policy=verify");
  for (const auto& line : Lines(f)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(VerificationInfo, GoldenPartialWithReason) {
  std::string f = FormatVerificationInfo(InfoFor(Sample(SigResult::kPartial), "mx.example.net"));
  EXPECT_EQ(f,
            "MTAS-VerificationInfo: mx.example.net; msgid=8A2A6KQ3ZP;\r\n"
            " signer=mail.example.com; result=partial; method=domain:key:email;\r\n"
            " headers=Subject:changed; parts=same; added=2; reason=\"Subject changed; part 2\r\n"
            " (text/plain) added\"");
  for (const auto& line : Lines(f)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(VerificationInfo, ParseRoundTrip) {
  for (SigResult r : {SigResult::kPass, SigResult::kPartial, SigResult::kFail, SigResult::kNeutral}) {
    VerificationInfo v = InfoFor(Sample(r), "mx.example.net", "required");
    std::string field = FormatVerificationInfo(v);
    auto parsed = ParseVerificationInfo(field.substr(field.find(':') + 1));
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(FormatVerificationInfoValue(*parsed), FormatVerificationInfoValue(v));
  }
}

TEST(VerificationInfo, ParseToleratesCommentsAndUnknownNames) {
  auto v = ParseVerificationInfo(" mx.example.net (our MX); msgid=ABC; x-new=1;\r\n result=pass (ok)");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->authserv_id, "mx.example.net");
  EXPECT_EQ(v->result, "pass");
  EXPECT_FALSE(ParseVerificationInfo("mx.example.net; result=pass").ok());
  EXPECT_FALSE(ParseVerificationInfo("").ok());
  EXPECT_FALSE(ParseVerificationInfo("mx; msgid").ok());
}

TEST(AuthResults, GoldenAndRoundTrip) {
  VerifyReport report;
  report.signatures = {Sample(SigResult::kPass), Sample(SigResult::kPartial)};
  report.signatures[1].msgid = "ZZZZ1111";
  report.signatures[1].signer = "lists.example.org";
  std::string f = FormatAuthResults(AuthResultsFor(report, "mx.example.net"));
  EXPECT_EQ(f,
            "Authentication-Results: mx.example.net; mtas=pass header.s=mail.example.com\r\n"
            " header.i=8A2A6KQ3ZP; mtas=partial reason=\"Subject changed; part 2\r\n"
            " (text/plain) added\" header.s=lists.example.org header.i=ZZZZ1111");
  for (const auto& line : Lines(f)) EXPECT_LE(line.size(), 78u) << line;
  auto parsed = ParseAuthResults(f.substr(f.find(':') + 1));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->results.size(), 2u);
  EXPECT_EQ(parsed->results[1].reason, "Subject changed; part 2 (text/plain) added");
  EXPECT_EQ(FormatAuthResults(*parsed), f);
}

TEST(AuthResults, ParsesOtherMethodsAndNone) {
  auto ar = ParseAuthResults(
      " mx.example.org 1; dkim=pass (good sig) header.d=example.com header.s=sel;\r\n spf/1=fail "
      "smtp.mailfrom=x@example.com; "
      "mtas=fail reason=\"From changed\" header.s=m.example.com");
  ASSERT_TRUE(ar.ok()) << ar.status().message();
  EXPECT_EQ(ar->authserv_id, "mx.example.org");
  ASSERT_EQ(ar->results.size(), 3u);
  EXPECT_EQ(ar->results[1].method, "spf");
  EXPECT_EQ(ar->results[2].reason, "From changed");
  auto none = ParseAuthResults("mx.example.org; none");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->results.empty());
  EXPECT_EQ(FormatAuthResults(AuthResultsFor(VerifyReport{}, "mx.example.org")),
            "Authentication-Results: mx.example.org; mtas=none");
  EXPECT_FALSE(ParseAuthResults("mx; dkim").ok());
}

TEST(ResultHeaderEdits, ForgedFieldsWithOurIdAreRemoved) {
  std::string msg =
      "Authentication-Results: MX.example.net; mtas=pass header.s=evil.example\r\n"
      "Authentication-Results: other.example; dkim=pass\r\n"
      "MTAS-VerificationInfo: mx.example.net; msgid=FORGED; result=pass\r\n"
      "From: a@example.com\r\n\r\nbody\r\n";
  HeaderScanner hs;
  hs.Write(msg.data(), msg.size());
  VerifyReport report;
  MessageEdits e = ResultHeaderEdits(hs.fields(), report, "mx.example.net", "\r\n");
  ASSERT_EQ(e.removed.size(), 2u);
  EXPECT_EQ(e.removed[0].name, "Authentication-Results");
  EXPECT_EQ(e.removed[0].occurrence, 1);
  EXPECT_EQ(e.removed[1].name, "MTAS-VerificationInfo");
  MemorySource src(msg);
  StringSink out;
  ASSERT_TRUE(WriteSignedMessage(src, e, out).ok());
  EXPECT_EQ(out.out,
            "Authentication-Results: mx.example.net; mtas=none\r\n"
            "Authentication-Results: other.example; dkim=pass\r\n"
            "From: a@example.com\r\n\r\nbody\r\n");
}

// A local filter that runs before mtasd under the same authserv-id (OpenDKIM
// uses the host name too) keeps its results; only fields that could pass for
// an mtas result go: a parsed mtas= method, or unparsable text naming mtas.
TEST(ResultHeaderEdits, OtherFiltersResultsUnderOurIdStay) {
  std::string msg =
      "Authentication-Results: mx.example.net; dkim=pass (2048-bit key) header.d=example.com "
      "header.i=@example.com header.b=abcd\r\n"
      "Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=example.com\r\n"
      "Authentication-Results: mx.example.net; dkim=pass header.d=a.example; mtas=pass\r\n"
      "Authentication-Results: mx.example.net; mtas=pass reason=\"unclosed\r\n"
      "Authentication-Results: mx.example.net; dkim\r\n"
      "From: a@example.com\r\n\r\nbody\r\n";
  HeaderScanner hs;
  hs.Write(msg.data(), msg.size());
  MessageEdits e = ResultHeaderEdits(hs.fields(), VerifyReport{}, "mx.example.net", "\r\n");
  std::vector<uint64_t> removed;
  for (const auto& r : e.removed) removed.push_back(r.offset);
  std::vector<uint64_t> want;
  for (const auto& f : hs.fields())
    if (f.value().find("mtas") != std::string_view::npos) want.push_back(f.offset);
  EXPECT_EQ(removed, want);
  EXPECT_EQ(removed.size(), 2u);
}

}  // namespace
}  // namespace mtas
