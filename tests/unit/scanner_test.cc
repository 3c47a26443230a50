// The streaming header and body scanners (spec §2.2, §3.1, §7).
#include <gtest/gtest.h>

#include <random>

#include "mtas/limits.h"
#include "mtas/message.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::Example;

struct Scanned {
  std::vector<HeaderField> fields;
  BodyIndex body;
  std::string eol;
};

// Scans `msg` fed in chunks of `chunk` bytes.
// `parallel_from`: as BodyScanner::Options (0 keeps one thread).
Scanned Scan(const std::string& msg, size_t chunk = 1 << 20,
             std::vector<ContentDigestSpec> specs = {{Canon::kRelaxed, DigestAlg::kSha256}},
             uint64_t parallel_from = BodyScanner::Options{}.parallel_from) {
  HeaderScanner hs;
  std::optional<BodyScanner> body;
  Scanned out;
  for (size_t i = 0; i < msg.size(); i += chunk) {
    const char* p = msg.data() + i;
    size_t n = std::min(chunk, msg.size() - i);
    if (!body) {
      size_t used = hs.Write(p, n);
      if (!hs.done()) continue;
      auto opt = BodyOptionsFor(hs.fields());
      opt.content_specs = specs;
      opt.part_algs = {DigestAlg::kSha256};
      opt.parallel_from = parallel_from;
      body.emplace(opt);
      body->Write(hs.body_start());
      p += used;
      n -= used;
    }
    body->Write(p, n);
  }
  if (!body) {
    hs.Finish();
    auto opt = BodyOptionsFor(hs.fields());
    opt.content_specs = specs;
    opt.part_algs = {DigestAlg::kSha256};
    opt.parallel_from = parallel_from;
    body.emplace(opt);
    body->Write(hs.body_start());
  }
  out.fields = hs.fields();
  out.eol = std::string(hs.eol());
  out.body = body->Finish();
  return out;
}

std::string Paths(const BodyIndex& idx) {
  std::string s;
  for (const auto& p : idx.parts) s += (s.empty() ? "" : " ") + p.path + "=" + p.content_type;
  return s;
}

TEST(HeaderScanner, KeepsRawFieldsFoldingDuplicatesAndOrder) {
  std::string msg =
      "Received: a\r\n\tb\r\nSubject: one\r\nsubject : two\r\n  "
      "folded\r\nX-Empty:\r\n\r\nbody\r\n";
  Scanned s = Scan(msg);
  ASSERT_EQ(s.fields.size(), 4u);
  EXPECT_EQ(s.fields[0].raw, "Received: a\r\n\tb");
  EXPECT_EQ(s.fields[1].name(), "Subject");
  EXPECT_EQ(s.fields[2].name(), "subject");
  EXPECT_TRUE(s.fields[2].NameIs("SUBJECT"));
  EXPECT_EQ(s.fields[2].value(), " two\r\n  folded");
  EXPECT_EQ(s.fields[3].value(), "");
  for (const auto& f : s.fields) EXPECT_EQ(msg.substr(f.offset, f.length), f.raw + "\r\n");
  EXPECT_EQ(s.eol, "\r\n");
}

TEST(HeaderScanner, EveryChunkSizeGivesTheSameFields) {
  std::string msg = Example("mixed-attachment.eml");
  Scanned whole = Scan(msg);
  for (size_t chunk : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    Scanned s = Scan(msg, chunk);
    ASSERT_EQ(s.fields.size(), whole.fields.size());
    for (size_t i = 0; i < s.fields.size(); ++i) EXPECT_EQ(s.fields[i].raw, whole.fields[i].raw);
  }
}

TEST(HeaderScanner, LfOnlyMessages) {
  Scanned s = Scan(Example("lf-only.eml"));
  EXPECT_EQ(s.eol, "\n");
  EXPECT_GT(s.fields.size(), 5u);
  EXPECT_EQ(s.fields[0].raw.find('\r'), std::string::npos);
}

TEST(HeaderScanner, NonFieldLineStartsTheBody) {
  HeaderScanner hs;
  std::string msg = "From: a@example.com\r\nthis is not a header\r\nmore\r\n";
  size_t used = hs.Write(msg.data(), msg.size());
  ASSERT_TRUE(hs.done());
  EXPECT_EQ(hs.fields().size(), 1u);
  EXPECT_EQ(hs.body_start(), "this is not a header\r\n");
  EXPECT_EQ(msg.substr(used), "more\r\n");
  EXPECT_FALSE(hs.separator_seen());
  EXPECT_EQ(hs.warnings().size(), 1u);
}

TEST(HeaderScanner, OversizedFieldIsTruncatedAndReported) {
  std::string msg = "Subject: " + std::string(limits::kMaxHeaderField * 2, 'x') + "\r\nTo: b\r\n\r\nbody";
  Scanned s = Scan(msg, 4096);
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_TRUE(s.fields[0].truncated);
  EXPECT_LE(s.fields[0].raw.size(), limits::kMaxHeaderField + 2);
  EXPECT_EQ(s.fields[1].raw, "To: b");
}

TEST(ContentTypeParse, ParametersQuotingAndDefaults) {
  ContentType ct = ContentType::Parse(" Multipart/Mixed ; boundary=\"a b;c\"; charset=utf-8 (comment)");
  EXPECT_EQ(ct.MimeType(), "multipart/mixed");
  EXPECT_EQ(ct.Param("boundary"), "a b;c");
  EXPECT_EQ(ct.Param("charset"), "utf-8");
  EXPECT_EQ(ContentType::Parse("garbage").MimeType(), "text/plain");
  EXPECT_EQ(ContentType::Parse("").MimeType(), "text/plain");
}

// Found by fuzz_carrier: a comment ending in a lone backslash ran the index
// past the end of the string.
TEST(ContentTypeParse, CommentEndingInBackslashStaysInBounds) {
  EXPECT_EQ(SkipCfws("(a\\", 0), 3u);
  EXPECT_EQ(SkipCfws("  (x) y", 0), 6u);
  EXPECT_EQ(ParseParams("/=;(g=\\").size(), 1u);  // "/" = ""
  EXPECT_EQ(ContentType::Parse("multipart/mixed; (\\").MimeType(), "multipart/mixed");
}

TEST(BodyScanner, PartPathsOfEveryExample) {
  EXPECT_EQ(Paths(Scan(Example("text-plain.eml")).body), "1=text/plain");
  EXPECT_EQ(Paths(Scan(Example("mixed-attachment.eml")).body), "1=text/plain 2=application/pdf 3=text/csv");
  EXPECT_EQ(Paths(Scan(Example("alternative.eml")).body), "1=text/plain 2=text/html");
  EXPECT_EQ(Paths(Scan(Example("related-in-mixed.eml")).body),
            "1=multipart/related 1.1=text/html 1.2=image/png "
            "2=application/octet-stream");
  EXPECT_EQ(Paths(Scan(Example("smime-signed.eml")).body), "1=text/plain 2=application/pkcs7-signature");
  EXPECT_EQ(Paths(Scan(Example("with-epilogue.eml")).body), "1=text/plain 2=text/plain");
  EXPECT_EQ(Paths(Scan(Example("lf-only.eml")).body), "1=text/plain 2=application/octet-stream");
}

TEST(BodyScanner, EveryChunkSizeGivesTheSameIndex) {
  for (const auto& name : test::ExampleNames()) {
    std::string msg = Example(name);
    BodyIndex whole = Scan(msg).body;
    for (size_t chunk : {1u, 2u, 3u, 5u, 13u, 64u, 999u, 1001u, 4096u}) {
      BodyIndex idx = Scan(msg, chunk).body;
      ASSERT_EQ(idx.parts.size(), whole.parts.size()) << name << " chunk " << chunk;
      for (size_t i = 0; i < idx.parts.size(); ++i) EXPECT_EQ(idx.parts[i].digests, whole.parts[i].digests) << name;
      EXPECT_EQ(idx.final_digests, whole.final_digests) << name << " chunk " << chunk;
    }
  }
}

// The canonical-body digests computed on a second thread (from the first
// byte, from the middle, or past the default threshold) are the same as on
// one thread, including the snapshots taken where each postal-data entity
// starts.
TEST(BodyScanner, SecondThreadGivesTheSameDigests) {
  std::vector<std::string> messages;
  for (const auto& name : test::ExampleNames()) messages.push_back(Example(name));
  std::string big = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n";
  std::mt19937 rng(7);
  while (big.size() < 600 * 1024) big += std::string(rng() % 90, static_cast<char>('a' + rng() % 26)) + " \t \r\n";
  big += "--b--\r\n";
  for (int hop = 0; hop < 3; ++hop)
    big += "Content-Type: multipart/x-postal-data; msgid=\"m" + std::to_string(hop) +
           "\"; boundary=\"p\"\r\n\r\n--p\r\nContent-Type: application/mtas-signature\r\n\r\nQUJD\r\n--p--\r\n";
  messages.push_back(big);
  const std::vector<ContentDigestSpec> specs = {{Canon::kRelaxed, DigestAlg::kSha256},
                                                {Canon::kSimple, DigestAlg::kSha512}};
  for (size_t m = 0; m < messages.size(); ++m) {
    BodyIndex one = Scan(messages[m], 1 << 20, specs, 0).body;
    for (uint64_t from : {uint64_t{1}, uint64_t{200}, BodyScanner::Options{}.parallel_from})
      for (size_t chunk : {1u, 13u, 4096u, 1u << 20}) {
        if (chunk < 13 && messages[m].size() > 100000) continue;  // byte by byte is slow and adds nothing
        BodyIndex two = Scan(messages[m], chunk, specs, from).body;
        EXPECT_EQ(two.final_digests, one.final_digests) << "message " << m << " from " << from << " chunk " << chunk;
        ASSERT_EQ(two.entities.size(), one.entities.size());
        for (size_t e = 0; e < one.entities.size(); ++e)
          EXPECT_EQ(two.entities[e].content_digests, one.entities[e].content_digests) << "message " << m;
        ASSERT_EQ(two.parts.size(), one.parts.size());
        for (size_t i = 0; i < one.parts.size(); ++i) EXPECT_EQ(two.parts[i].digests, one.parts[i].digests);
      }
  }
  BodyIndex big_one = Scan(big, 1 << 20, specs, 0).body;
  EXPECT_EQ(big_one.entities.size(), 3u);
  std::string body = big.substr(big.find("\r\n\r\n") + 4);
  EXPECT_EQ(big_one.final_digests[0], HashBytes(DigestAlg::kSha256, BodyCanonicalizer::Apply(Canon::kRelaxed, body)));
}

// A large message with a base64 attachment, as mail mostly is, read in
// chunks around the scanner's run and block sizes (64 KiB).
TEST(BodyScanner, LargeAttachmentDigestsDoNotDependOnChunking) {
  std::mt19937 rng(11);
  std::string text, binary;
  while (text.size() < 20 * 1024) text += std::string(rng() % 70, static_cast<char>('a' + rng() % 26)) + " \r\n";
  while (binary.size() < 700 * 1024) binary.push_back(static_cast<char>(rng()));
  std::string b64 = Base64Encode(binary), wrapped;
  for (size_t at = 0; at < b64.size(); at += 76) wrapped += b64.substr(at, 76) + "\r\n";
  std::string msg = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
                    text +
                    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                    wrapped + "--b--\r\n";
  const std::vector<ContentDigestSpec> specs = {{Canon::kRelaxed, DigestAlg::kSha256},
                                                {Canon::kSimple, DigestAlg::kSha512}};
  BodyIndex one = Scan(msg, msg.size(), specs, 0).body;
  ASSERT_EQ(one.parts.size(), 2u);
  EXPECT_EQ(one.parts[1].digests[static_cast<size_t>(DigestAlg::kSha256)], HashBytes(DigestAlg::kSha256, binary));
  for (size_t chunk : {size_t{16384}, size_t{65535}, size_t{65536}, size_t{65537}, size_t{131072}, msg.size()}) {
    BodyIndex two = Scan(msg, chunk, specs).body;
    EXPECT_EQ(two.final_digests, one.final_digests) << "chunk " << chunk;
    ASSERT_EQ(two.parts.size(), one.parts.size());
    for (size_t i = 0; i < one.parts.size(); ++i)
      EXPECT_EQ(two.parts[i].digests, one.parts[i].digests) << "chunk " << chunk;
  }
}

// A single-part body's part digest covers its simple canonical form, which
// the canonical-body digests often cover too: the scanner then hashes those
// bytes once. Every shape gets the digests each would get alone.
TEST(BodyScanner, SinglePartDigestsSharedWithTheCanonicalBodyAreRight) {
  std::mt19937 rng(11);
  auto prose = [&rng](size_t size, bool folded_space) {
    std::string text;
    while (text.size() < size) {
      text += std::string(1 + rng() % 12, static_cast<char>('a' + rng() % 26));
      text += rng() % 9 ? " " : (folded_space ? "  \t " : "\r\n");
    }
    return text + "\r\n";
  };
  const std::vector<std::string> bodies = {"",
                                           "\r\n\r\n",
                                           "one line",
                                           "a\r\nb\r\n\r\n\r\n",
                                           "LF only\nlines\n\n",
                                           "two  spaces\r\n",
                                           "trailing \r\n",
                                           prose(4000, false),
                                           prose(4000, true),
                                           prose(40 * 1024, false),
                                           prose(100 * 1024, false)};
  const std::vector<std::pair<std::string, std::string>> shapes = {{"text/plain", ""},
                                                                   {"text/plain", "8bit"},
                                                                   {"application/octet-stream", "7bit"},
                                                                   {"text/plain", "quoted-printable"},
                                                                   {"application/octet-stream", "base64"}};
  const std::vector<ContentDigestSpec> specs = {{Canon::kRelaxed, DigestAlg::kSha256},
                                                {Canon::kSimple, DigestAlg::kSha512},
                                                {Canon::kRelaxed, DigestAlg::kSha512}};
  const std::vector<DigestAlg> part_algs = {DigestAlg::kSha256, DigestAlg::kSha512};
  for (const auto& body : bodies)
    for (const auto& [type, cte] : shapes) {
      std::string header = "Content-Type: " + type + "\r\n";
      if (!cte.empty()) header += "Content-Transfer-Encoding: " + cte + "\r\n";
      std::string part = cte == "base64"             ? Base64Decode(body)
                         : cte == "quoted-printable" ? QuotedPrintableDecode(body)
                                                     : body;
      if (cte != "base64") part = BodyCanonicalizer::Apply(Canon::kSimple, part);
      for (uint64_t parallel_from : {uint64_t{0}, BodyScanner::Options{}.parallel_from})
        for (size_t chunk : {size_t{7}, body.size() + 1}) {
          SCOPED_TRACE(type + " " + cte + ", body of " + std::to_string(body.size()) + " bytes in chunks of " +
                       std::to_string(chunk) + ", second thread from " + std::to_string(parallel_from));
          HeaderScanner hs;
          hs.Write(header.data(), header.size());
          hs.Finish();  // the empty line ends it; no body byte has to follow
          BodyScanner::Options opt = BodyOptionsFor(hs.fields());
          opt.content_specs = specs;
          opt.part_algs = part_algs;
          opt.parallel_from = parallel_from;
          BodyScanner scanner(opt);
          for (size_t at = 0; at < body.size(); at += chunk)
            scanner.Write(body.data() + at, std::min(chunk, body.size() - at));
          BodyIndex idx = scanner.Finish();
          ASSERT_EQ(idx.final_digests.size(), specs.size());
          for (size_t k = 0; k < specs.size(); ++k)
            EXPECT_EQ(idx.final_digests[k], HashBytes(specs[k].alg, BodyCanonicalizer::Apply(specs[k].canon, body)))
                << "spec " << k;
          ASSERT_EQ(idx.parts.size(), 1u);
          for (DigestAlg a : part_algs)
            EXPECT_EQ(idx.parts[0].digests[static_cast<size_t>(a)], HashBytes(a, part)) << DigestName(a);
        }
    }
}

TEST(BodyScanner, ContentDigestIsTheDigestOfTheCanonicalBody) {
  std::string msg = Example("mixed-attachment.eml");
  Scanned s = Scan(msg, 1 << 20, {{Canon::kRelaxed, DigestAlg::kSha256}, {Canon::kSimple, DigestAlg::kSha512}});
  std::string body = msg.substr(msg.find("\r\n\r\n") + 4);
  EXPECT_EQ(s.body.final_digests[0], HashBytes(DigestAlg::kSha256, BodyCanonicalizer::Apply(Canon::kRelaxed, body)));
  EXPECT_EQ(s.body.final_digests[1], HashBytes(DigestAlg::kSha512, BodyCanonicalizer::Apply(Canon::kSimple, body)));
}

TEST(BodyScanner, PartDigestIsOfDecodedContent) {
  // The same attachment as base64 and as quoted-printable: same digest.
  const std::string bytes = "line one\r\nline two = \xC3\xA9\r\n";
  auto make = [&](const std::string& cte, const std::string& encoded) {
    return "Content-Type: multipart/mixed; "
           "boundary=b\r\n\r\n--b\r\nContent-Type: "
           "text/plain\r\n\r\nhi\r\n--b\r\n"
           "Content-Type: text/csv\r\nContent-Transfer-Encoding: " +
           cte + "\r\n\r\n" + encoded + "\r\n--b--\r\n";
  };
  BodyIndex b64 = Scan(make("base64", Base64Encode(bytes, 76))).body;
  BodyIndex qp = Scan(make("quoted-printable", "line one\r\nline two =3D =C3=A9\r\n")).body;
  ASSERT_EQ(b64.parts.size(), 2u);
  ASSERT_EQ(qp.parts.size(), 2u);
  EXPECT_EQ(b64.parts[1].digests, qp.parts[1].digests);
  EXPECT_EQ(b64.parts[1].digests[static_cast<size_t>(DigestAlg::kSha256)], HashBytes(DigestAlg::kSha256, bytes));
  // A changed byte is a changed digest.
  BodyIndex other = Scan(make("base64", Base64Encode("line one\r\nline two = \xC3\xA8\r\n", 76))).body;
  EXPECT_NE(other.parts[1].digests, b64.parts[1].digests);
}

TEST(BodyScanner, TextPartsIgnoreLineEndStyle) {
  std::string crlf = Example("mixed-attachment.eml");
  std::string lf;
  for (char c : crlf)
    if (c != '\r') lf.push_back(c);
  BodyIndex a = Scan(crlf).body, b = Scan(lf).body;
  ASSERT_EQ(a.parts.size(), b.parts.size());
  for (size_t i = 0; i < a.parts.size(); ++i) EXPECT_EQ(a.parts[i].digests, b.parts[i].digests) << a.parts[i].path;
  EXPECT_EQ(a.final_digests, b.final_digests);
}

TEST(BodyScanner, BinaryPartKeepsItsLastLineEndOutOfTheContent) {
  std::string msg =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
      "application/x-raw\r\n"
      "Content-Transfer-Encoding: binary\r\n\r\nab\r\ncd\r\n--b--\r\n";
  BodyIndex idx = Scan(msg).body;
  ASSERT_EQ(idx.parts.size(), 1u);
  EXPECT_EQ(idx.parts[0].digests[static_cast<size_t>(DigestAlg::kSha256)], HashBytes(DigestAlg::kSha256, "ab\r\ncd"));
  for (size_t chunk = 1; chunk < msg.size(); ++chunk)
    EXPECT_EQ(Scan(msg, chunk).body.parts[0].digests, idx.parts[0].digests);
}

TEST(BodyScanner, PreambleAndEpilogueAreNotParts) {
  BodyIndex idx = Scan(Example("with-epilogue.eml")).body;
  EXPECT_TRUE(idx.top_closed);
  EXPECT_EQ(idx.parts.size(), 2u);
  EXPECT_TRUE(idx.entities.empty());
  EXPECT_TRUE(idx.structure_error.empty()) << idx.structure_error;
}

TEST(BodyScanner, NestingDeeperThanTheLimitIsReportedNotFollowed) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
  const int depth = 40;
  for (int i = 0; i < depth; ++i)
    msg += "--b" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) +
           "\r\n\r\n";
  msg += "--b" + std::to_string(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n";
  for (int i = depth; i >= 0; --i) msg += "--b" + std::to_string(i) + "--\r\n";
  BodyIndex idx = Scan(msg).body;
  EXPECT_NE(idx.structure_error.find("nesting"), std::string::npos) << idx.structure_error;
  EXPECT_LE(idx.parts.size(), limits::kMaxMimeDepth + 1);
}

TEST(BodyScanner, TooManyPartsAreReported) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 1200; ++i) msg += "--b\r\n\r\npart " + std::to_string(i) + "\r\n";
  msg += "--b--\r\n";
  BodyIndex idx = Scan(msg).body;
  EXPECT_EQ(idx.parts.size(), limits::kMaxParts);
  EXPECT_NE(idx.structure_error.find("MIME parts"), std::string::npos);
  EXPECT_TRUE(idx.top_closed);
}

TEST(BodyScanner, MissingClosingDelimiterIsReported) {
  BodyIndex idx = Scan(
                      "Content-Type: multipart/mixed; "
                      "boundary=b\r\n\r\n--b\r\n\r\ntext\r\n")
                      .body;
  EXPECT_FALSE(idx.top_closed);
  EXPECT_EQ(idx.parts.size(), 1u);
  EXPECT_NE(idx.structure_error.find("closing delimiter"), std::string::npos);
}

TEST(BodyScanner, RandomGarbageNeverBreaksIt) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"--b\r\n", "--b--\r\n",
                                           "\r\n",    "Content-Type: multipart/mixed; boundary=c\r\n",
                                           "--c\r\n", "Content-Type: multipart/x-postal-data; msgid=X; boundary=p\r\n",
                                           "--p\r\n", "--p--\r\n",
                                           "abc",     "=\r\n",
                                           "\n",      "\r"};
  for (int round = 0; round < 300; ++round) {
    std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (int i = 0; i < 60; ++i) msg += pieces[rng() % pieces.size()];
    BodyIndex whole = Scan(msg).body;
    BodyIndex split = Scan(msg, 1 + rng() % 17).body;
    EXPECT_EQ(whole.final_digests, split.final_digests);
    EXPECT_EQ(whole.parts.size(), split.parts.size());
    EXPECT_EQ(whole.entities.size(), split.entities.size());
  }
}

}  // namespace
}  // namespace mtas

namespace mtas {
namespace {

// What a Content-Type or Content-Disposition value states, read strictly:
// spellings readers take alike compare equal, anything a reader would have
// to guess at is refused.
TEST(CanonicalMimeValue, SameStatementAndRefusals) {
  auto ct = [](std::string_view v) { return CanonicalMimeValue(v, true); };
  auto cd = [](std::string_view v) { return CanonicalMimeValue(v, false); };
  const std::vector<std::vector<std::string>> alike = {
      {" text/plain; charset=us-ascii", "TEXT/Plain; CHARSET=\"us-ascii\"", "text/plain;charset=us-ascii;",
       " text/plain;\r\n charset=\"us-ascii\""},
      {"multipart/mixed; boundary=\"a b\"; x=1", "multipart/mixed; X=1; boundary=\"a b\""},
      {"attachment; filename=\"long name.pdf\"", "attachment; filename*0=\"long \"; filename*1=name.pdf",
       "Attachment; FILENAME=\"long\\ name.pdf\""},
      {"attachment; filename*=utf-8''%E2%82%AC.txt", "attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.txt"},
  };
  for (const auto& group : alike) {
    bool disposition = group[0].find('/') == std::string::npos;
    auto first = disposition ? cd(group[0]) : ct(group[0]);
    ASSERT_TRUE(first.has_value()) << group[0];
    for (const auto& v : group) {
      auto got = disposition ? cd(v) : ct(v);
      ASSERT_TRUE(got.has_value()) << v;
      EXPECT_EQ(*got, *first) << v;
    }
  }
  // Different statements.
  EXPECT_NE(*ct("multipart/mixed; boundary=\"a b\""), *ct("multipart/mixed; boundary=\"a  b\""));
  EXPECT_NE(*ct("text/plain; charset=us-ascii"), *ct("text/plain; charset=utf-8"));
  EXPECT_NE(*cd("attachment; filename=a"), *cd("inline; filename=a"));
  // Refused: a reader would have to guess.
  for (std::string v : {"text/plain; charset=us-ascii (comment)", "text/plain; charset=\"us-\r\n ascii\"",
                        "text/plain; charset=a; charset=b", "text/plain; charset", "text/plain garbage",
                        "text/plain; name=\"x\"; name*=utf-8''y", "text/plain; name*0=a; name*2=c",
                        "text/plain; name*=utf-8''%G1", "text/plain; name=\"caf\xc3\xa9\"", "text", "/plain"})
    EXPECT_FALSE(ct(v).has_value()) << v;
}

}  // namespace
}  // namespace mtas
