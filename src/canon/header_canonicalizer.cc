// Header field canonicalization for comparison, RFC 6376 §3.4.1 / §3.4.2.
#include <cctype>

#include "common/ascii.h"
#include "mtas/canon.h"

namespace mtas {

std::string CanonicalHeaderRelaxed(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  size_t colon = field.find(':');
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  for (char c : name) out.push_back(AsciiLower(c));
  if (colon == std::string_view::npos) return out;
  out.push_back(':');
  bool pending_space = false;
  bool started = false;
  for (char c : field.substr(colon + 1)) {
    if (c == '\r' || c == '\n') continue;  // unfold
    if (c == ' ' || c == '\t') {
      pending_space = started;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.push_back(c);
  }
  return out;
}

std::string NormalizeLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out.append("\r\n");
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out.append("\r\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool HeaderFieldsEqual(Canon canon, std::string_view a, std::string_view b) {
  if (canon == Canon::kRelaxed) return CanonicalHeaderRelaxed(a) == CanonicalHeaderRelaxed(b);
  return NormalizeLineEnds(a) == NormalizeLineEnds(b);
}

}  // namespace mtas
