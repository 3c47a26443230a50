// RFC 2047 encoded-words decoded to UTF-8, strictly: two header values whose
// decoded text is the same are shown alike by every reader, so a relay's
// re-encoding is no change. Hand-written because what counts as an
// encoded-word, and which white space goes, must be exactly RFC 2047 §5-§6;
// charsets are converted by iconv (glibc).
#include <iconv.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/ascii.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// One iconv conversion descriptor, closed when it goes.
class Iconv {
 public:
  Iconv(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

// `bytes` in `charset` as UTF-8; nullopt for an unknown charset or bytes
// that are not text in it.
std::optional<std::string> ToUtf8(const std::string& charset, const std::string& bytes) {
  std::string cs;
  for (char c : charset.substr(0, charset.find('*'))) cs.push_back(AsciiLower(c));  // RFC 2231 language dropped
  if (cs == "utf-8" || cs == "us-ascii") {
    for (unsigned char c : AsBytes(bytes))
      if (cs == "us-ascii" && c >= 128) return std::nullopt;
    if (cs == "utf-8") {  // well-formed UTF-8 only
      for (size_t i = 0; i < bytes.size();) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        size_t n = c < 0x80 ? 1 : c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (n == 0 || i + n > bytes.size()) return std::nullopt;
        for (size_t k = 1; k < n; ++k)
          if ((static_cast<unsigned char>(bytes[i + k]) & 0xC0) != 0x80) return std::nullopt;
        i += n;
      }
    }
    return bytes;
  }
  Iconv cd("UTF-8", cs.c_str());
  if (!cd.ok()) return std::nullopt;
  std::string out(bytes.size() * 4 + 16, '\0');
  std::string in_copy = bytes;  // iconv's input pointer is not const
  char* in = in_copy.data();
  size_t in_left = in_copy.size(), out_left = out.size();
  char* o = out.data();
  if (iconv(cd.get(), &in, &in_left, &o, &out_left) == static_cast<size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lowercase hex is not RFC 2047 (readers differ)
}

int B64(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// One encoded-word's text decoded, or nullopt when anything is off.
std::optional<std::string> DecodeWord(std::string_view word) {
  // =?charset?X?text?=
  if (word.size() < 8 || word.substr(0, 2) != "=?" || word.substr(word.size() - 2) != "?=") return std::nullopt;
  std::string_view inner = word.substr(2, word.size() - 4);
  size_t q1 = inner.find('?');
  if (q1 == std::string_view::npos || q1 == 0 || q1 + 2 >= inner.size() || inner[q1 + 2] != '?') return std::nullopt;
  std::string charset(inner.substr(0, q1));
  char enc = AsciiLower(inner[q1 + 1]);
  std::string_view text = inner.substr(q1 + 3);
  std::string bytes;
  if (enc == 'q') {
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '_') {
        bytes.push_back(' ');
      } else if (c == '=') {
        if (i + 2 >= text.size() || Hex(text[i + 1]) < 0 || Hex(text[i + 2]) < 0) return std::nullopt;
        bytes.push_back(static_cast<char>(Hex(text[i + 1]) * 16 + Hex(text[i + 2])));
        i += 2;
      } else if (c > 32 && c < 127 && c != '?') {
        bytes.push_back(c);
      } else {
        return std::nullopt;
      }
    }
  } else if (enc == 'b') {
    if (text.size() % 4 != 0) return std::nullopt;
    for (size_t i = 0; i < text.size(); i += 4) {
      int v[4];
      int pad = 0;
      for (size_t k = 0; k < 4; ++k) {
        char c = text[i + k];
        if (c == '=' && i + 4 == text.size() && k >= 2) {
          v[k] = 0;
          ++pad;
        } else if (pad || (v[k] = B64(c)) < 0) {
          return std::nullopt;
        }
      }
      uint32_t q = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
      bytes.push_back(static_cast<char>(q >> 16));
      if (pad < 2) bytes.push_back(static_cast<char>(q >> 8));
      if (pad < 1) bytes.push_back(static_cast<char>(q));
    }
  } else {
    return std::nullopt;
  }
  return ToUtf8(charset, bytes);
}

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::optional<std::string> DecodeUnstructured(std::string_view value) {
  std::string out;
  bool last_was_word = false;
  std::string pending_space;  // white space after an encoded-word, dropped if another follows
  size_t i = 0;
  while (i < value.size()) {
    if (IsWsp(value[i])) {
      size_t j = i;
      while (j < value.size() && IsWsp(value[j])) ++j;
      std::string space;
      for (size_t k = i; k < j; ++k)
        if (value[k] != '\r' && value[k] != '\n') space.push_back(value[k]);  // unfolded
      if (last_was_word)
        pending_space = space;
      else
        out += space;
      i = j;
      continue;
    }
    size_t j = i;
    while (j < value.size() && !IsWsp(value[j])) ++j;
    std::string_view token = value.substr(i, j - i);
    if (token.substr(0, 2) == "=?" && token.size() >= 2 && token.substr(token.size() - 2) == "?=") {
      auto decoded = DecodeWord(token);
      if (!decoded) return std::nullopt;  // looks like a word, is not one: readers differ
      out += *decoded;                    // white space between two encoded-words is not shown
      last_was_word = true;
      pending_space.clear();
    } else {
      if (token.find("=?") != std::string_view::npos) return std::nullopt;  // a word glued to text
      for (char c : token)
        if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) == 127) return std::nullopt;
      out += pending_space;
      pending_space.clear();
      out += token;
      last_was_word = false;
    }
    i = j;
  }
  return out + pending_space;
}

}  // namespace mtas
