// The strict reading of a Content-Type or Content-Disposition value (RFC 2045
// §5.1, RFC 2183, RFC 2231), for comparing two values by what they state.
// Hand-written: it must refuse exactly what readers could read two ways.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

#include "common/ascii.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// RFC 2045 token characters: printable ASCII but SPACE and tspecials.
bool IsTokenChar(char c) {
  if (c <= 32 || c >= 127) return false;
  for (char t : std::string_view("()<>@,;:\\\"/[]?="))
    if (c == t) return false;
  return true;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  // White space and folding (CRLF or LF followed by white space) only.
  void SkipSpace() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t') {
        ++i_;
      } else if ((c == '\r' || c == '\n') && Folds()) {
        i_ += c == '\r' ? 2 : 1;
      } else {
        break;
      }
    }
  }
  std::optional<std::string> Token() {
    size_t start = i_;
    while (i_ < s_.size() && IsTokenChar(s_[i_])) ++i_;
    if (i_ == start) return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }
  // A quoted string without folding inside (readers keep or drop such a
  // line break differently); quoted-pairs decoded.
  std::optional<std::string> Quoted() {
    if (!Take('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (i_ >= s_.size()) return std::nullopt;
        c = s_[i_++];
      }
      if (c < 32 || c >= 127) return std::nullopt;
      out.push_back(c);
    }
    return std::nullopt;
  }
  bool Take(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return i_ >= s_.size(); }

 private:
  bool Folds() const {
    size_t j = i_ + (s_[i_] == '\r' ? 1 : 0);
    if (s_[i_] == '\r' && (j >= s_.size() || s_[j] != '\n')) return false;
    return j + 1 < s_.size() && (s_[j + 1] == ' ' || s_[j + 1] == '\t');
  }
  std::string_view s_;
  size_t i_ = 0;
};

std::string Lower(std::string s) {
  for (char& c : s) c = AsciiLower(c);
  return s;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = AsciiLower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

std::optional<std::string> CanonicalMimeValue(std::string_view value, bool content_type) {
  Reader r(value);
  r.SkipSpace();
  auto type = r.Token();
  if (!type) return std::nullopt;
  std::string out = Lower(*type);
  if (content_type) {
    if (!r.Take('/')) return std::nullopt;
    auto subtype = r.Token();
    if (!subtype) return std::nullopt;
    out += "/" + Lower(*subtype);
  }
  // name -> value; RFC 2231 sections by number; charset'language' kept.
  struct Param {
    bool plain = false;
    std::map<int, std::pair<std::string, bool>> sections;  // number -> (text, extended)
  };
  std::map<std::string, Param> params;
  while (true) {
    r.SkipSpace();
    if (r.AtEnd()) break;
    if (!r.Take(';')) return std::nullopt;
    r.SkipSpace();
    if (r.AtEnd()) break;  // a trailing ';'
    auto name = r.Token();
    if (!name) return std::nullopt;
    r.SkipSpace();
    if (!r.Take('=')) return std::nullopt;
    r.SkipSpace();
    auto v = r.Quoted();
    if (!v) v = r.Token();
    if (!v) return std::nullopt;
    std::string n = Lower(*name);
    bool extended = !n.empty() && n.back() == '*';
    if (extended) n.pop_back();
    int section = -1;
    if (size_t star = n.find('*'); star != std::string::npos) {
      std::string num = n.substr(star + 1);
      if (num.empty() || num.size() > 3 || num.find_first_not_of("0123456789") != std::string::npos ||
          (num.size() > 1 && num[0] == '0'))
        return std::nullopt;
      section = std::atoi(num.c_str());
      n.resize(star);
    }
    Param& p = params[n];
    if (section < 0 && !extended) {
      if (p.plain) return std::nullopt;  // named twice
      p.plain = true;
      p.sections[-1] = {*v, false};
    } else {
      int key = section < 0 ? 0 : section;
      if (p.sections.count(key)) return std::nullopt;
      p.sections[key] = {*v, extended};
    }
  }
  for (auto& [name, p] : params) {
    // Both a plain and an RFC 2231 form: readers pick one or the other.
    if (p.plain && p.sections.size() > 1) return std::nullopt;
    std::string text;
    int expect = p.plain ? -1 : 0;
    for (auto& [num, section] : p.sections) {
      if (num != expect++) return std::nullopt;  // a gap in the continuations
      const auto& [raw, ext] = section;
      std::string piece = raw;
      if (ext) {
        if (num == 0) {  // charset'language'
          size_t q1 = piece.find('\''), q2 = q1 == std::string::npos ? q1 : piece.find('\'', q1 + 1);
          if (q2 == std::string::npos) return std::nullopt;
          text += Lower(piece.substr(0, q1)) + "'";
          piece = piece.substr(q2 + 1);
        }
        std::string decoded;
        for (size_t i = 0; i < piece.size(); ++i) {
          if (piece[i] != '%') {
            decoded.push_back(piece[i]);
            continue;
          }
          if (i + 2 >= piece.size() || Hex(piece[i + 1]) < 0 || Hex(piece[i + 2]) < 0) return std::nullopt;
          decoded.push_back(static_cast<char>(Hex(piece[i + 1]) * 16 + Hex(piece[i + 2])));
          i += 2;
        }
        piece = decoded;
      } else if (num == 0 || num == -1) {
        text += "'";  // no charset named
      }
      text += piece;
    }
    out += ";" + name + "=" + std::to_string(text.size()) + ":" + text;
  }
  return out;
}

}  // namespace mtas
