// The per-field header comparison of the change report (spec §3.1 "Headers
// under the signature"), on fields as the header scanner returns them.
#include "verify/change_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace mtas {
namespace {

// The fields of a header section, as the verifier sees them now.
std::vector<HeaderField> Fields(const std::string& header) {
  HeaderScanner hs;
  hs.Write(header.data(), header.size());
  hs.Finish();
  return hs.fields();
}

const HeaderReport& Report(const std::vector<HeaderReport>& reports, const std::string& name) {
  for (const auto& r : reports)
    if (r.name == name) return r;
  ADD_FAILURE() << "no report for " << name;
  static const HeaderReport none;
  return none;
}

const std::vector<std::string> kSigned = {"From: Alice <a@example.com>", "Subject: Weekly\r\n report",
                                          "Cc: one@example.org", "Cc: two@example.org"};

// The report on kSigned against the header section `now`.
std::vector<HeaderReport> Compare(const std::string& now, Canon canon) {
  return CompareHeaders(kSigned, {}, Fields(now), canon);
}

TEST(CompareHeaders, UntouchedOrReorderedFieldsAreTheSame) {
  std::string now =
      "From: Alice <a@example.com>\r\nSubject: Weekly\r\n report\r\nCc: one@example.org\r\nCc: two@example.org\r\n\r\n";
  for (Canon canon : {Canon::kRelaxed, Canon::kSimple}) {
    auto r = Compare(now, canon);
    ASSERT_EQ(r.size(), 3u);
    for (const auto& h : r) EXPECT_EQ(test::Name(h.status), "same") << h.name;
    EXPECT_EQ(Report(r, "Subject").current_value, "Subject: Weekly\r\n report");
  }
  // Bare LF line ends (a relay or a mailbox that stores LF) change nothing.
  std::string lf = now;
  for (size_t at; (at = lf.find("\r\n")) != std::string::npos;) lf.erase(at, 1);
  for (const auto& h : Compare(lf, Canon::kSimple)) EXPECT_EQ(test::Name(h.status), "same") << h.name;
  // Nor does another order of a field's instances (decided by the canonical comparison).
  auto reordered = Compare(
      "From: Alice <a@example.com>\r\nCc: two@example.org\r\nSubject: Weekly\r\n report\r\nCc: one@example.org\r\n\r\n",
      Canon::kSimple);
  EXPECT_EQ(test::Name(Report(reordered, "Cc").status), "same");
  EXPECT_EQ(Report(reordered, "Cc").current_value, "Cc: two@example.org");
}

TEST(CompareHeaders, RefoldingIsAChangeOnlyUnderSimple) {
  std::string now =
      "From:  Alice   <a@example.com>\r\nSubject: Weekly report\r\nCc: one@example.org\r\nCc: two@example.org\r\n\r\n";
  auto relaxed = Compare(now, Canon::kRelaxed);
  EXPECT_EQ(test::Name(Report(relaxed, "From").status), "same");
  EXPECT_EQ(test::Name(Report(relaxed, "Subject").status), "same");
  auto simple = Compare(now, Canon::kSimple);
  EXPECT_EQ(test::Name(Report(simple, "From").status), "changed");
  EXPECT_EQ(test::Name(Report(simple, "Subject").status), "changed");
  EXPECT_EQ(Report(simple, "Subject").signed_value, "Subject: Weekly\r\n report");
  EXPECT_EQ(test::Name(Report(simple, "Cc").status), "same");
}

TEST(CompareHeaders, APrependedFromIsAddedAboveAndARemovedFieldIsRemoved) {
  std::string now = "From: CEO <ceo@example.com>\r\nFrom: Alice <a@example.com>\r\nSubject: Weekly\r\n report\r\n\r\n";
  auto r = Compare(now, Canon::kRelaxed);
  const HeaderReport& from = Report(r, "From");
  EXPECT_EQ(test::Name(from.status), "changed");
  EXPECT_TRUE(from.added_above);
  EXPECT_EQ(from.current_value, "From: CEO <ceo@example.com>");
  EXPECT_EQ(test::Name(Report(r, "Subject").status), "same");
  EXPECT_EQ(test::Name(Report(r, "Cc").status), "removed");
  EXPECT_EQ(Report(r, "Cc").signed_value, "Cc: one@example.org");

  // One instance of two replaced: changed, and the signed value shown is the
  // one that is gone.
  now =
      "From: Alice <a@example.com>\r\nSubject: Weekly\r\n report\r\nCc: one@example.org\r\nCc: "
      "three@example.org\r\n\r\n";
  r = Compare(now, Canon::kRelaxed);
  EXPECT_EQ(test::Name(Report(r, "Cc").status), "changed");
  EXPECT_FALSE(Report(r, "Cc").added_above);
  EXPECT_EQ(Report(r, "Cc").signed_value, "Cc: two@example.org");
}

}  // namespace
}  // namespace mtas
