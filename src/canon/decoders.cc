// Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8), streaming.
#include <algorithm>
#include <array>
#include <cctype>
#if defined(__x86_64__) && !defined(MTAS_PORTABLE_SCAN)
#include <immintrin.h>
#endif

#include "mtas/canon.h"

namespace mtas {
namespace {

constexpr size_t kOutBlock = 16 * 1024;

constexpr std::array<signed char, 256> MakeBase64Table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  return t;
}
constexpr auto kB64 = MakeBase64Table();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // lenient: lowercase hex
  return -1;
}

#if defined(__x86_64__) && !defined(MTAS_PORTABLE_SCAN)
// Base64 with SSSE3 (nearly every x86-64 CPU since 2006; checked at run
// time), sixteen characters to twelve bytes per step. Decodes up to
// `blocks` steps from `in` into `out` and returns how many characters it
// took, a multiple of four: in the first step holding anything outside the
// alphabet (line ends, padding, stray bytes) it keeps only the whole groups
// of four before it, and the scalar code takes the rest. So a 76-character
// line is five steps, the last one partial. Each step writes 16 bytes at
// out + 12 * step; what the next step or the caller does not keep is
// overwritten later.
//
// Validation looks each byte's two nibbles up in two 16-entry tables: the
// high nibble selects a class bit, the low nibble's entry holds the classes
// for which it is not an alphabet character. The value is the byte plus an
// offset chosen by the high nibble ('/' shares its nibble with '+' and is
// moved one entry down). Then pairs of 6-bit values are merged into 12 bits,
// pairs of those into 24, and the three bytes of each 24 picked in order.
__attribute__((target("ssse3"))) size_t DecodeBase64Blocks(const unsigned char* in, size_t blocks, char* out) {
  const __m128i lut_lo =
      _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m128i lut_hi =
      _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m128i lut_offset = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i slash_byte = _mm_set1_epi8('/');
  const __m128i merge6 = _mm_set1_epi32(0x01400140);   // a << 6 | b, c << 6 | d
  const __m128i merge12 = _mm_set1_epi32(0x00011000);  // ab << 12 | cd
  const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  size_t taken = 0;
  for (size_t step = 0; step < blocks; ++step, in += 16, out += 12) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    __m128i hi = _mm_and_si128(_mm_srli_epi32(v, 4), nibble);
    __m128i lo = _mm_and_si128(v, nibble);
    __m128i invalid = _mm_and_si128(_mm_shuffle_epi8(lut_lo, lo), _mm_shuffle_epi8(lut_hi, hi));
    auto valid = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(invalid, _mm_setzero_si128())));
    // Characters before the first one outside the alphabet, in whole groups:
    // each group of four decodes to its three bytes alone, whatever follows.
    size_t usable = valid == 0xFFFF ? 16 : static_cast<size_t>(__builtin_ctz(~valid)) & ~size_t{3};
    if (usable == 0) break;
    __m128i slash = _mm_cmpeq_epi8(v, slash_byte);  // 0xFF = -1: one entry down
    v = _mm_add_epi8(v, _mm_shuffle_epi8(lut_offset, _mm_add_epi8(hi, slash)));
    __m128i bytes = _mm_shuffle_epi8(_mm_madd_epi16(_mm_maddubs_epi16(v, merge6), merge12), order);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
    taken += usable;
    if (usable < 16) break;
  }
  return taken;
}
const bool kHaveSsse3 = __builtin_cpu_supports("ssse3");
#endif

// Characters outside the alphabet are ignored; '=' ends the data.
class Base64Decoder final : public Decoder {
 public:
  void Update(const char* p, size_t n, ByteSink& out) override {
    if (done_) return Padding(p, n);
    const auto* s = reinterpret_cast<const unsigned char*>(p);
    const auto* end = s + n;
    while (s < end) {
      // Fast paths: sixteen, then four alphabet characters in a row, nothing pending.
      if (have_ == 0) {
#if defined(__x86_64__) && !defined(MTAS_PORTABLE_SCAN)
        if (kHaveSsse3 && end - s >= 16) {
          if (len_ + 16 > block_.size()) Flush(out);
          size_t room = (block_.size() - len_ - 4) / 12;
          size_t taken = DecodeBase64Blocks(s, std::min(static_cast<size_t>(end - s) / 16, room), block_.data() + len_);
          s += taken;
          len_ += taken / 4 * 3;
        }
#endif
        while (end - s >= 4) {
          int a = kB64[s[0]], b = kB64[s[1]], c = kB64[s[2]], d = kB64[s[3]];
          if ((a | b | c | d) < 0) break;
          uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
          Put(v, out);
          s += 4;
        }
        if (s >= end) break;
      }
      unsigned char ch = *s++;
      if (ch == '=') {
        pad_want_ = have_ == 2 ? 2 : have_ == 3 ? 1 : 0;
        if (pad_want_ == 0) lenient_ = true;
        pad_ = 1;
        EmitPartial(out);
        done_ = true;
        Padding(reinterpret_cast<const char*>(s), static_cast<size_t>(end - s));
        break;
      }
      int v = kB64[ch];
      if (v < 0) {
        if (ch != '\r' && ch != '\n') lenient_ = true;
        continue;
      }
      quad_ = (quad_ << 6) | uint32_t(v);
      if (++have_ == 4) {
        Put(quad_, out);
        have_ = 0;
        quad_ = 0;
      }
    }
    Flush(out);
  }
  void Finish(ByteSink& out) override {
    if (!done_ && have_ != 0) lenient_ = true;  // a group without its padding
    if (done_ && pad_ != pad_want_) lenient_ = true;
    if (!done_) EmitPartial(out);
    Flush(out);
  }
  bool lenient() const override { return lenient_; }

 private:
  // After the first '=': only the rest of the padding and line ends.
  void Padding(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] == '=')
        ++pad_;
      else if (p[i] != '\r' && p[i] != '\n')
        lenient_ = true;
    }
  }
  // Output goes to a fixed block (flushed when full): no string bookkeeping
  // per group, which made decoding slower than the hashing it feeds.
  // Appends the first n (1 to 3) bytes of the 24-bit group v. Room is made
  // before writing, so a short final group never flushes bytes it does not keep.
  void Put(uint32_t v, ByteSink& out, size_t n = 3) {
    if (len_ + 3 > block_.size()) Flush(out);
    block_[len_] = char(v >> 16);
    block_[len_ + 1] = char(v >> 8);
    block_[len_ + 2] = char(v);
    len_ += n;
  }
  void EmitPartial(ByteSink& out) {
    if (have_ == 2) Put(quad_ << 12, out, 1);
    if (have_ == 3) Put(quad_ << 6, out, 2);
    have_ = 0;
    quad_ = 0;
  }
  void Flush(ByteSink& out) {
    if (len_) out.Write(block_.data(), len_);
    len_ = 0;
  }
  uint32_t quad_ = 0;
  int have_ = 0;
  bool done_ = false;
  bool lenient_ = false;
  int pad_ = 0, pad_want_ = 0;
  std::array<char, kOutBlock> block_;
  size_t len_ = 0;
};

// Hard line breaks become CRLF, soft breaks vanish, trailing whitespace on
// a line is dropped, invalid '=' sequences are kept literally.
class QuotedPrintableDecoder final : public Decoder {
 public:
  void Update(const char* p, size_t n, ByteSink& out) override {
    for (size_t i = 0; i < n; ++i) Step(p[i]);
    if (buf_.size() >= kOutBlock) Flush(out);
  }
  void Finish(ByteSink& out) override {
    if (state_ == State::kCr) HardBreak();
    if (state_ == State::kEq1 || state_ == State::kEq2) lenient_ = true;
    if (state_ == State::kEq1) buf_.push_back('=');  // lone '=' at the very end
    if (state_ == State::kEq2) {
      buf_.push_back('=');
      buf_.push_back(hex1_);
    }
    if (!wsp_.empty()) lenient_ = true;
    state_ = State::kText;
    wsp_.clear();
    Flush(out);
  }

 private:
  enum class State { kText, kCr, kEq1, kEq2, kSoftBreak, kSoftCr };

  void Step(char c) {
    switch (state_) {
      case State::kText:
        return Text(c);
      case State::kCr:
        state_ = State::kText;
        HardBreak();
        if (c != '\n') {
          lenient_ = true;  // a bare CR
          Text(c);
        }
        return;
      case State::kEq1:
        if (HexValue(c) >= 0) {
          hex1_ = c;
          state_ = State::kEq2;
        } else if (c == '\r') {
          state_ = State::kSoftCr;
        } else if (c == '\n') {
          state_ = State::kText;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kSoftBreak;  // "=  " then the line end
        } else {
          state_ = State::kText;
          lenient_ = true;
          Literal('=');
          Text(c);
        }
        return;
      case State::kEq2:
        state_ = State::kText;
        if (HexValue(c) >= 0) {
          if ((hex1_ >= 'a' && hex1_ <= 'f') || (c >= 'a' && c <= 'f')) lenient_ = true;
          Literal(static_cast<char>(HexValue(hex1_) * 16 + HexValue(c)));
        } else {
          lenient_ = true;
          Literal('=');
          Literal(hex1_);
          Text(c);
        }
        return;
      case State::kSoftBreak:
        if (c == '\r')
          state_ = State::kSoftCr;
        else if (c == '\n')
          state_ = State::kText;
        else if (c != ' ' && c != '\t') {  // not a soft break after all
          state_ = State::kText;
          lenient_ = true;
          Literal('=');
          Text(c);
        }
        return;
      case State::kSoftCr:
        state_ = State::kText;
        if (c != '\n') Text(c);
        return;
    }
  }
  void Text(char c) {
    if (c == '=') {
      state_ = State::kEq1;
    } else if (c == '\r') {
      state_ = State::kCr;
    } else if (c == '\n') {
      HardBreak();
    } else if (c == ' ' || c == '\t') {
      wsp_.push_back(c);
    } else {
      Literal(c);
    }
  }
  void Literal(char c) {
    if (!wsp_.empty()) {
      buf_ += wsp_;
      wsp_.clear();
    }
    buf_.push_back(c);
  }
  void HardBreak() {
    if (!wsp_.empty()) lenient_ = true;  // white space an encoder must not leave at a line end
    wsp_.clear();
    buf_.append("\r\n", 2);
  }
  void Flush(ByteSink& out) {
    if (!buf_.empty()) out.Write(buf_.data(), buf_.size());
    buf_.clear();
  }

 public:
  bool lenient() const override { return lenient_; }

 private:
  bool lenient_ = false;
  State state_ = State::kText;
  char hex1_ = 0;
  std::string wsp_;
  std::string buf_;
};

class IdentityDecoder final : public Decoder {
 public:
  void Update(const char* p, size_t n, ByteSink& out) override { out.Write(p, n); }
  void Finish(ByteSink&) override {}
};

}  // namespace

TransferEncoding ParseTransferEncoding(std::string_view value) {
  std::string v;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '(' || c == ';') break;
    v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (v == "base64") return TransferEncoding::kBase64;
  if (v == "quoted-printable") return TransferEncoding::kQuotedPrintable;
  if (v == "binary") return TransferEncoding::kBinary;
  return TransferEncoding::kIdentity;
}

std::unique_ptr<Decoder> MakeDecoder(TransferEncoding enc) {
  switch (enc) {
    case TransferEncoding::kBase64:
      return std::make_unique<Base64Decoder>();
    case TransferEncoding::kQuotedPrintable:
      return std::make_unique<QuotedPrintableDecoder>();
    default:
      return std::make_unique<IdentityDecoder>();
  }
}

std::string Base64Decode(std::string_view text) {
  Base64Decoder d;
  StringSink s;
  d.Update(text.data(), text.size(), s);
  d.Finish(s);
  return std::move(s.out);
}

std::string QuotedPrintableDecode(std::string_view text) {
  QuotedPrintableDecoder d;
  StringSink s;
  d.Update(text.data(), text.size(), s);
  d.Finish(s);
  return std::move(s.out);
}

std::string Base64Encode(std::string_view bytes, size_t line_len, std::string_view eol) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Encode into one unbroken run first, then cut it into lines: no per
  // character bookkeeping.
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  std::string flat((n + 2) / 3 * 4, '=');
  char* o = flat.data();
  size_t i = 0;
  for (; i + 3 <= n; i += 3, o += 4) {
    uint32_t v = (uint32_t(s[i]) << 16) | (uint32_t(s[i + 1]) << 8) | s[i + 2];
    o[0] = kAlphabet[v >> 18];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
  }
  if (n - i >= 1) {  // the final group: 1 or 2 bytes, padded with '='
    uint32_t v = (uint32_t(s[i]) << 16) | (n - i == 2 ? uint32_t(s[i + 1]) << 8 : 0);
    o[0] = kAlphabet[v >> 18];
    o[1] = kAlphabet[(v >> 12) & 63];
    if (n - i == 2) o[2] = kAlphabet[(v >> 6) & 63];
  }
  if (!line_len || flat.size() <= line_len) return flat;
  std::string out;
  out.reserve(flat.size() + flat.size() / line_len * eol.size());
  for (size_t pos = 0; pos < flat.size(); pos += line_len) {
    if (pos) out.append(eol);
    out.append(flat, pos, line_len);
  }
  return out;
}

std::string QuotedPrintableEncode(std::string_view text, std::string_view eol) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out, line;
  auto escape_trailing_space = [&] {  // readers drop white space at a line end
    if (line.empty() || (line.back() != ' ' && line.back() != '\t')) return;
    unsigned char c = static_cast<unsigned char>(line.back());
    line.pop_back();
    line += '=';
    line += kHex[c >> 4];
    line += kHex[c & 15];
  };
  auto flush_line = [&](bool hard) {
    if (hard) escape_trailing_space();
    out += line;
    if (!hard) out += '=';
    out += eol;
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      flush_line(true);
      ++i;
      continue;
    }
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      piece.assign(1, static_cast<char>(c));
    } else {
      piece = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (line.size() + piece.size() > 75) flush_line(false);  // 76 with the soft break's '='
    line += piece;
  }
  escape_trailing_space();
  out += line;
  return out;
}

}  // namespace mtas
