// The body scanner's stages alone: the line framer and the postal-data
// entity reader (the MIME walker is tested through BodyScanner in
// scanner_test.cc).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "message/line_framer.h"
#include "message/postal_entity_reader.h"

namespace mtas {
namespace {

struct Seg {
  uint64_t at;
  std::string bytes;
  bool starts, ends;
};

// Records segments; lines not starting with '-' are "plain" when asked.
class Recorder final : public LineFramer::Consumer {
 public:
  explicit Recorder(bool plain) : plain_(plain) {}
  size_t PlainLines(const char* p, const char* end) const override {
    if (!plain_) return 0;
    const char* q = p;
    size_t n = 0;
    while (q < end && *q != '-') {
      const char* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<size_t>(end - q)));
      if (!nl) break;
      n = static_cast<size_t>(nl + 1 - p);
      q = nl + 1;
    }
    return n;
  }
  void PassPlainLines(const char* p, size_t n) override {
    std::string_view s(p, n);
    size_t i = 0;
    while (i < n) {  // one whole line each, as Segment would have had them
      size_t nl = s.find('\n', i);
      segs.push_back({at_ + i, std::string(s.substr(i, nl + 1 - i)), true, true});
      i = nl + 1;
    }
    at_ += n;
  }
  void Segment(const char* p, size_t n, bool starts, bool ends) override {
    segs.push_back({at_, std::string(p, n), starts, ends});
    at_ += n;
  }
  void Release() override {}
  std::vector<Seg> segs;

 private:
  bool plain_;
  uint64_t at_ = 0;
};

std::string RandomBody(std::mt19937& rng) {
  std::string out;
  int lines = static_cast<int>(rng() % 40);
  for (int i = 0; i < lines; ++i) {
    size_t len = rng() % 4 == 0 ? rng() % 3000 : rng() % 90;
    for (size_t k = 0; k < len; ++k) out.push_back("ab-\r -=x"[rng() % 8]);
    out += rng() % 3 == 0 ? "\r\n" : "\n";
  }
  if (rng() % 2) out += std::string(rng() % 200, 'z');  // no final line end
  return out;
}

// Every line start is one segment that starts a line and holds the line, or
// its first kCarryMax bytes; the segments are the bytes in order; `ends`
// says whether a segment ends with LF: whatever the chunk sizes.
TEST(LineFramer, LineStartsAreWholeOrCarryMaxLongUnderAnyChunking) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::string body = RandomBody(rng);
    for (bool plain : {false, true}) {
      for (size_t chunk : {1u, 2u, 7u, 64u, 1000u, 1u << 20}) {
        Recorder r(plain);
        LineFramer f(&r);
        for (size_t i = 0; i < body.size(); i += chunk) f.Write(body.data() + i, std::min(chunk, body.size() - i));
        f.Finish();
        std::string joined;
        for (const auto& s : r.segs) {
          ASSERT_EQ(s.at, joined.size());
          ASSERT_EQ(s.ends, !s.bytes.empty() && s.bytes.back() == '\n');
          bool at_line_start = s.at == 0 || body[s.at - 1] == '\n';
          ASSERT_EQ(s.starts, at_line_start) << "chunk " << chunk << " at " << s.at;
          if (s.starts) {
            size_t line_end = body.find('\n', s.at);
            size_t line_len = line_end == std::string::npos ? body.size() - s.at : line_end + 1 - s.at;
            ASSERT_GE(s.bytes.size(), std::min(line_len, LineFramer::kCarryMax)) << "chunk " << chunk;
          }
          joined += s.bytes;
        }
        ASSERT_EQ(joined, body) << "chunk " << chunk;
      }
    }
  }
}

struct EntityRead {
  PostalEntity entity;
  bool still_reading = false;
};

EntityRead ReadEntity(const std::string& text, bool finish = true) {
  EntityRead out;
  PostalEntityReader reader;
  reader.Begin(&out.entity);
  uint64_t offset = 0;
  size_t i = 0;
  while (i < text.size() && reader.reading()) {
    size_t nl = text.find('\n', i);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string_view seg(text.data() + i, end - i);
    offset += seg.size();
    reader.Line(seg, StripEol(seg), true, seg.back() == '\n', offset);
    i = end;
  }
  out.still_reading = reader.reading();
  if (finish) reader.Finish();
  return out;
}

const char kEntity[] =
    "Content-Type: multipart/x-postal-data; boundary=\"b1\"; msgid=\"m@x\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: application/mtas-signature; micalg=sha-256\r\n"
    "X-Certificate-Verification-Service: \"domain:key:email k\"\r\n"
    "\r\n"
    "QUJD\r\n"
    "REVG\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "not part of the signature\r\n"
    "--b1--\r\n";

TEST(PostalEntityReader, ReadsTheSignaturePartAndStopsAtTheClosingDelimiter) {
  EntityRead r = ReadEntity(std::string(kEntity) + "after\r\n");
  EXPECT_EQ(r.entity.error, "");
  EXPECT_TRUE(r.entity.complete);
  EXPECT_FALSE(r.still_reading);
  EXPECT_EQ(r.entity.msgid, "m@x");
  EXPECT_EQ(r.entity.label, "application/mtas-signature");
  EXPECT_EQ(r.entity.micalg, "sha-256");
  EXPECT_EQ(r.entity.services, "domain:key:email k");
  EXPECT_EQ(r.entity.signature_base64, "QUJDREVG");
  EXPECT_EQ(r.entity.end_offset, std::string(kEntity).size());
}

TEST(PostalEntityReader, NamesWhatIsWrong) {
  std::string e = kEntity;
  EXPECT_EQ(ReadEntity(e.substr(0, e.size() - 8)).entity.error, "postal-data entity is not closed");
  std::string no_boundary = "Content-Type: multipart/x-postal-data; msgid=m\r\n\r\n";
  EXPECT_EQ(ReadEntity(no_boundary).entity.error, "postal-data entity has no boundary");
  std::string no_msgid = "Content-Type: multipart/x-postal-data; boundary=b\r\n\r\n--b--\r\n";
  EXPECT_EQ(ReadEntity(no_msgid).entity.error, "postal-data entity has no msgid");
  std::string long_header = "Content-Type: multipart/x-postal-data; boundary=b; msgid=m\r\n";
  for (int i = 0; i < 400; ++i) long_header += "X-Filler: " + std::string(60, 'f') + "\r\n";
  EXPECT_EQ(ReadEntity(long_header + "\r\n--b--\r\n").entity.error, "postal-data entity header too long");
  std::string big = "Content-Type: multipart/x-postal-data; boundary=b; msgid=m\r\n\r\n--b\r\n\r\n";
  for (int i = 0; i < 3000; ++i) big += std::string(76, 'A') + "\r\n";
  EXPECT_NE(ReadEntity(big + "--b--\r\n").entity.error.find("signature exceeds"), std::string::npos);
}

TEST(PostalEntityReader, OpensOnlyOnAPostalDataContentType) {
  EXPECT_TRUE(PostalEntityReader::Opens("Content-Type: multipart/x-postal-data; boundary=b"));
  EXPECT_TRUE(PostalEntityReader::Opens("content-type:\tMULTIPART/X-Postal-Data"));
  EXPECT_FALSE(PostalEntityReader::Opens("Content-Type: multipart/mixed; boundary=b"));
  EXPECT_FALSE(PostalEntityReader::Opens(" Content-Type: multipart/x-postal-data"));
  EXPECT_FALSE(PostalEntityReader::Opens("X-Content-Type: multipart/x-postal-data"));
}

}  // namespace
}  // namespace mtas
