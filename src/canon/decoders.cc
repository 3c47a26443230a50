// Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8), streaming.
#include <array>
#include <cctype>

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

// Characters outside the alphabet are ignored; '=' ends the data.
class Base64Decoder final : public Decoder {
 public:
  void Update(const char* p, size_t n, ByteSink& out) override {
    if (done_) return;
    const auto* s = reinterpret_cast<const unsigned char*>(p);
    const auto* end = s + n;
    while (s < end) {
      // Fast path: four alphabet characters in a row, nothing pending.
      if (have_ == 0) {
        while (end - s >= 4) {
          int a = kB64[s[0]], b = kB64[s[1]], c = kB64[s[2]], d = kB64[s[3]];
          if ((a | b | c | d) < 0) break;
          uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
          Put3(v, out);
          s += 4;
        }
        if (s >= end) break;
      }
      unsigned char ch = *s++;
      if (ch == '=') {
        EmitPartial(out);
        done_ = true;
        break;
      }
      int v = kB64[ch];
      if (v < 0) continue;
      quad_ = (quad_ << 6) | uint32_t(v);
      if (++have_ == 4) {
        Put3(quad_, out);
        have_ = 0;
        quad_ = 0;
      }
    }
    Flush(out);
  }
  void Finish(ByteSink& out) override {
    if (!done_) EmitPartial(out);
    Flush(out);
  }

 private:
  // Output goes to a fixed block (flushed when full): no string bookkeeping
  // per group, which made decoding slower than the hashing it feeds.
  void Put3(uint32_t v, ByteSink& out) {
    block_[len_] = char(v >> 16);
    block_[len_ + 1] = char(v >> 8);
    block_[len_ + 2] = char(v);
    len_ += 3;
    if (len_ + 3 > block_.size()) Flush(out);
  }
  void EmitPartial(ByteSink& out) {
    if (have_ == 2) Put3(quad_ << 12, out), len_ -= 2;
    if (have_ == 3) Put3(quad_ << 6, out), len_ -= 1;
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
    if (state_ == State::kEq1) buf_.push_back('=');  // lone '=' at the very end
    if (state_ == State::kEq2) {
      buf_.push_back('=');
      buf_.push_back(hex1_);
    }
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
        if (c != '\n') Text(c);
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
          Literal('=');
          Text(c);
        }
        return;
      case State::kEq2:
        state_ = State::kText;
        if (HexValue(c) >= 0) {
          Literal(static_cast<char>(HexValue(hex1_) * 16 + HexValue(c)));
        } else {
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
    wsp_.clear();
    buf_.append("\r\n", 2);
  }
  void Flush(ByteSink& out) {
    if (!buf_.empty()) out.Write(buf_.data(), buf_.size());
    buf_.clear();
  }

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

}  // namespace mtas
