// Canonicalization (spec §3.2 = RFC 6376 §3.4) and its streaming.
#include "mtas/canon.h"

#include <gtest/gtest.h>

#include <random>

#include "support/oracles.h"

namespace mtas {
namespace {

std::string Chunked(Canon c, const std::string& in, const std::vector<size_t>& cuts) {
  BodyCanonicalizer canon(c);
  StringSink out;
  size_t pos = 0;
  for (size_t cut : cuts) {
    canon.Update(in.data() + pos, cut - pos, out);
    pos = cut;
  }
  canon.Update(in.data() + pos, in.size() - pos, out);
  canon.Finish(out);
  return out.out;
}

TEST(BodyCanon, Rfc6376Example) {
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, body), " C\r\nD E\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, body), " C \r\nD \t E\r\n");
}

TEST(BodyCanon, EmptyBodies) {
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, ""), "\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, "\r\n\r\n"), "\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, ""), "");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, " \t\r\n  \r\n"), "");
}

TEST(BodyCanon, MissingFinalLineEndIsAdded) {
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, "abc"), "abc\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, "abc  "), "abc\r\n");
}

TEST(BodyCanon, BareLineEndsBecomeCrlf) {
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, "a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, "a\r\r\nb"), "a\r\n\r\nb\r\n");
  // LF-only and CRLF versions of a body canonicalize alike.
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, "x  y\n\nz\n\n"),
            BodyCanonicalizer::Apply(Canon::kRelaxed, "x  y\r\n\r\nz\r\n\r\n"));
}

TEST(BodyCanon, InnerEmptyLinesKeptTrailingDropped) {
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, "a\r\n\r\n\r\nb\r\n\r\n"), "a\r\n\r\n\r\nb\r\n");
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, "a\r\n \r\n\tb\r\n"), "a\r\n\r\n b\r\n");
}

TEST(BodyCanon, RelaxedLeadingWhitespaceBecomesOneSpace) {
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, "\t\t x\t\ty \r\n"), " x y\r\n");
}

TEST(BodyCanon, EveryChunkSplitGivesTheSameBytes) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab \t\r\n";
  for (int round = 0; round < 200; ++round) {
    std::string in;
    for (int i = 0; i < 40; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
    for (Canon c : {Canon::kSimple, Canon::kRelaxed}) {
      std::string whole = BodyCanonicalizer::Apply(c, in);
      for (size_t cut = 0; cut <= in.size(); ++cut) ASSERT_EQ(Chunked(c, in, {cut}), whole) << round << "/" << cut;
      std::vector<size_t> every;
      for (size_t i = 1; i < in.size(); ++i) every.push_back(i);
      ASSERT_EQ(Chunked(c, in, every), whole);
    }
  }
}

TEST(BodyCanon, MatchesTheRfcTextOnRandomBodies) {
  std::mt19937 rng(11);
  // Mostly prose, so the eight-byte scan runs, with every special byte mixed in.
  const std::string alphabet = "abcdefghij  \t\r\n";
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    size_t len = rng() % 200;
    for (size_t i = 0; i < len; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
    for (Canon c : {Canon::kSimple, Canon::kRelaxed}) {
      std::string want = oracle::ReferenceBody(c, in);
      ASSERT_EQ(BodyCanonicalizer::Apply(c, in), want) << round;
      size_t cut = in.empty() ? 0 : rng() % in.size();
      ASSERT_EQ(Chunked(c, in, {cut}), want) << round << "/" << cut;
    }
  }
}

TEST(BodyCanon, MatchesTheRfcTextOnLongRuns) {
  // Long runs of content with a rare special byte, so the wide scan runs
  // many steps and meets each special byte at every offset within a step.
  std::mt19937 rng(13);
  const std::string specials = " \t\r\n";
  for (int round = 0; round < 2000; ++round) {
    std::string in;
    size_t len = 16 + rng() % 400;
    for (size_t i = 0; i < len; ++i)
      in.push_back(rng() % 23 == 0 ? specials[rng() % specials.size()] : static_cast<char>('a' + rng() % 26));
    for (Canon c : {Canon::kSimple, Canon::kRelaxed}) {
      std::string want = oracle::ReferenceBody(c, in);
      ASSERT_EQ(BodyCanonicalizer::Apply(c, in), want) << round;
      size_t cut = rng() % in.size();
      ASSERT_EQ(Chunked(c, in, {cut}), want) << round << "/" << cut;
    }
  }
}

TEST(BodyCanon, LargeBodyFlushesInBlocks) {
  std::string line(70, 'x');
  std::string in;
  for (int i = 0; i < 5000; ++i) in += line + "\r\n";
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kSimple, in), in);
  EXPECT_EQ(BodyCanonicalizer::Apply(Canon::kRelaxed, in + "\r\n\r\n"), in);
}

TEST(HeaderCanon, RelaxedRfc6376) {
  EXPECT_EQ(CanonicalHeaderRelaxed("SUBJect \t:  Hello\r\n \tWorld  "), "subject:Hello World");
  EXPECT_EQ(CanonicalHeaderRelaxed("From:a@b"), "from:a@b");
  EXPECT_TRUE(HeaderFieldsEqual(Canon::kRelaxed, "Subject: a  b", "subject:a\r\n b"));
  EXPECT_FALSE(HeaderFieldsEqual(Canon::kRelaxed, "Subject: a b", "Subject: ab"));
}

TEST(HeaderCanon, SimpleComparesBytesAfterLineEnds) {
  EXPECT_TRUE(HeaderFieldsEqual(Canon::kSimple, "Subject: a\n b", "Subject: a\r\n b"));
  EXPECT_FALSE(HeaderFieldsEqual(Canon::kSimple, "Subject: a  b", "Subject: a b"));
  EXPECT_EQ(NormalizeLineEnds("a\rb\nc\r\n"), "a\r\nb\r\nc\r\n");
}

TEST(HeaderCanon, FieldsOfOtherNamesDifferUnderBoth) {
  for (Canon canon : {Canon::kRelaxed, Canon::kSimple}) {
    EXPECT_TRUE(HeaderFieldsEqual(canon, "From: a@b", "From: a@b"));
    EXPECT_FALSE(HeaderFieldsEqual(canon, "From: a@b", "To: a@b"));
    EXPECT_FALSE(HeaderFieldsEqual(canon, "From: a@b", "Fromx: a@b"));
    EXPECT_FALSE(HeaderFieldsEqual(canon, "From", "From: a@b"));
    // Line ends inside a name: simple turns both into CRLF.
    EXPECT_EQ(HeaderFieldsEqual(canon, "Fr\rom: a", "Fr\nom: a"), canon == Canon::kSimple);
  }
  EXPECT_TRUE(HeaderFieldsEqual(Canon::kRelaxed, "FROM \t: a@b", "from:a@b"));
  EXPECT_FALSE(HeaderFieldsEqual(Canon::kSimple, "FROM: a@b", "From: a@b"));
  EXPECT_FALSE(HeaderFieldsEqual(Canon::kSimple, "From : a@b", "From: a@b"));
}

}  // namespace
}  // namespace mtas
