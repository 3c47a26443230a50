// Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8).
#include <gtest/gtest.h>

#include <random>

#include "mtas/canon.h"
#include "support/oracles.h"

namespace mtas {
namespace {

std::string DecodeChunked(TransferEncoding enc, const std::string& in, size_t chunk) {
  auto d = MakeDecoder(enc);
  StringSink out;
  for (size_t i = 0; i < in.size(); i += chunk) d->Update(in.data() + i, std::min(chunk, in.size() - i), out);
  d->Finish(out);
  return out.out;
}

TEST(Base64, RoundTripAllLengths) {
  std::mt19937 rng(1);
  for (size_t n = 0; n < 300; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng()));
    std::string text = Base64Encode(bytes, 76);
    EXPECT_EQ(Base64Decode(text), bytes) << n;
    for (size_t chunk : {1u, 3u, 5u, 77u}) EXPECT_EQ(DecodeChunked(TransferEncoding::kBase64, text, chunk), bytes);
  }
}

// The decoder's output block (16 KiB) fills up at every offset, the final
// partial group included: a group of one or two bytes that lands where the
// block is full must not take the block's tail with it.
TEST(Base64, PartialGroupAtTheEndOfAFullOutputBlock) {
  std::mt19937 rng(3);
  for (size_t n = 16350; n < 16420; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng()));
    for (size_t line : {0u, 76u}) ASSERT_EQ(Base64Decode(Base64Encode(bytes, line)), bytes) << n << "/" << line;
  }
}

TEST(Base64, MatchesTheRfcTextOnNoisyInput) {
  // Encoded text with line ends, spaces, stray bytes (high ones too) and,
  // now and then, padding in the middle, at every offset of a 16-character
  // step, split at a random point.
  std::mt19937 rng(5);
  const std::string noise = "\r\n \t!*=\x80\xff";
  for (int round = 0; round < 3000; ++round) {
    std::string bytes;
    for (size_t i = 0, n = rng() % 300; i < n; ++i) bytes.push_back(static_cast<char>(rng()));
    std::string text = Base64Encode(bytes, rng() % 2 ? 76 : 0);
    for (int k = 0, m = rng() % 4; k < m && !text.empty(); ++k)
      text.insert(text.begin() + static_cast<long>(rng() % text.size()), noise[rng() % noise.size()]);
    std::string want = oracle::ReferenceBase64(text);
    ASSERT_EQ(Base64Decode(text), want) << round;
    size_t cut = text.empty() ? 0 : rng() % text.size();
    auto d = MakeDecoder(TransferEncoding::kBase64);
    StringSink out;
    d->Update(text.data(), cut, out);
    d->Update(text.data() + cut, text.size() - cut, out);
    d->Finish(out);
    ASSERT_EQ(out.out, want) << round << "/" << cut;
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("Zm9v\r\nYmE="), "fooba");
}

TEST(Base64, IgnoresCharactersOutsideTheAlphabet) {
  EXPECT_EQ(Base64Decode("Zm9v!!*YmFy"), "foobar");
  EXPECT_EQ(Base64Decode(" Z m 9 v \t"), "foo");
}

TEST(Base64, StopsAtPadding) { EXPECT_EQ(Base64Decode("Zm8=Zm9v"), "fo"); }

TEST(Base64, LineLengthAndEol) {
  std::string text = Base64Encode(std::string(100, 'a'), 76, "\n");
  EXPECT_EQ(text.find('\n'), 76u);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(QuotedPrintable, SoftBreaksAndEscapes) {
  EXPECT_EQ(QuotedPrintableDecode("a=3Db=\r\nc"), "a=bc");
  EXPECT_EQ(QuotedPrintableDecode("caf=C3=A9\r\nnext"), "caf\xC3\xA9\r\nnext");
  EXPECT_EQ(QuotedPrintableDecode("soft=  \r\nbreak"), "softbreak");
}

TEST(QuotedPrintable, HardBreaksBecomeCrlf) { EXPECT_EQ(QuotedPrintableDecode("a\nb\r\nc"), "a\r\nb\r\nc"); }

TEST(QuotedPrintable, TrailingWhitespaceOnALineIsDropped) {
  EXPECT_EQ(QuotedPrintableDecode("a  \r\nb \t\nc d"), "a\r\nb\r\nc d");
}

TEST(QuotedPrintable, InvalidSequencesStayLiteral) {
  EXPECT_EQ(QuotedPrintableDecode("a=ZZb"), "a=ZZb");
  EXPECT_EQ(QuotedPrintableDecode("a=4"), "a=4");
  EXPECT_EQ(QuotedPrintableDecode("100%=\r\n"), "100%");
  EXPECT_EQ(QuotedPrintableDecode("x=3d"), "x=");  // lowercase hex accepted
}

TEST(QuotedPrintable, ChunkSplitsDoNotMatter) {
  const std::string text = "Gr=C3=BC=C3=9Fe,  =\r\nWelt=3D=20!\r\nzweite Zeile  \r\n=E2=82=AC";
  std::string whole = QuotedPrintableDecode(text);
  for (size_t chunk = 1; chunk <= text.size(); ++chunk)
    EXPECT_EQ(DecodeChunked(TransferEncoding::kQuotedPrintable, text, chunk), whole) << chunk;
}

TEST(TransferEncoding, Parse) {
  EXPECT_EQ(ParseTransferEncoding(" BASE64 "), TransferEncoding::kBase64);
  EXPECT_EQ(ParseTransferEncoding("Quoted-Printable (comment)"), TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ParseTransferEncoding("8bit"), TransferEncoding::kIdentity);
  EXPECT_EQ(ParseTransferEncoding("binary"), TransferEncoding::kBinary);
  EXPECT_EQ(ParseTransferEncoding("x-unknown"), TransferEncoding::kIdentity);
}

}  // namespace
}  // namespace mtas
