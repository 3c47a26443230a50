// MIME parameter and Content-Type parsing (RFC 2045 §5.1, RFC 2231 not needed
// for the parameters MTAS reads: boundary, msgid, micalg).
#include <algorithm>
#include <cctype>
#include <set>

#include "mtas/message.h"

namespace mtas {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

size_t SkipCfws(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (IsSpace(s[i])) {
      ++i;
    } else if (s[i] == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') {  // quoted-pair; a final backslash quotes nothing
          if (i + 1 < s.size()) ++i;
          continue;
        }
        if (s[i] == '(') ++depth;
        if (s[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

std::vector<std::pair<std::string, std::string>> ParseParams(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < s.size()) {
    i = SkipCfws(s, i);
    if (i < s.size() && s[i] == ';') {
      ++i;
      continue;
    }
    size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';' && !IsSpace(s[i])) ++i;
    std::string name = Lower(s.substr(name_start, i - name_start));
    i = SkipCfws(s, i);
    if (i >= s.size() || s[i] != '=') {
      while (i < s.size() && s[i] != ';') ++i;  // not a parameter: skip it
      continue;
    }
    i = SkipCfws(s, i + 1);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        if (s[i] == '\r' || s[i] == '\n') continue;  // folding inside quotes
        value.push_back(s[i]);
      }
      if (i < s.size()) ++i;
    } else {
      size_t v = i;
      while (i < s.size() && s[i] != ';' && !IsSpace(s[i]) && s[i] != '(') ++i;
      value.assign(s.substr(v, i - v));
    }
    if (!name.empty()) out.emplace_back(std::move(name), std::move(value));
    while (i < s.size() && s[i] != ';') ++i;
  }
  return out;
}

ContentType ContentType::Parse(std::string_view value) {
  ContentType ct;
  size_t i = SkipCfws(value, 0);
  size_t start = i;
  while (i < value.size() && value[i] != '/' && value[i] != ';' && !IsSpace(value[i])) ++i;
  std::string type = Lower(value.substr(start, i - start));
  i = SkipCfws(value, i);
  if (i >= value.size() || value[i] != '/') return ct;  // unparsable: text/plain
  i = SkipCfws(value, i + 1);
  start = i;
  while (i < value.size() && value[i] != ';' && !IsSpace(value[i]) && value[i] != '(') ++i;
  std::string subtype = Lower(value.substr(start, i - start));
  if (type.empty() || subtype.empty()) return ct;
  ct.type = std::move(type);
  ct.subtype = std::move(subtype);
  ct.params = ParseParams(value.substr(i));
  return ct;
}

std::string MimeFieldAmbiguity(const std::vector<HeaderField>& fields) {
  for (std::string_view name : {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"}) {
    const HeaderField* first = nullptr;
    for (const auto& f : fields) {
      if (!f.NameIs(name)) continue;
      if (first) return "two " + std::string(name) + " fields";
      first = &f;
    }
    if (!first || name == "Content-Transfer-Encoding") continue;
    std::string_view v = first->value();
    std::set<std::string> seen;
    for (auto& [param, value] : ParseParams(v.substr(std::min(v.size(), v.find(';')))))
      if (!seen.insert(param).second) return "parameter '" + param + "' twice in " + std::string(name);
  }
  return "";
}

std::string ContentType::Param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (n == name) return v;
  return {};
}

}  // namespace mtas
