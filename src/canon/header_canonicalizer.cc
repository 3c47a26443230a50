// Header field canonicalization for comparison, RFC 6376 §3.4.1 / §3.4.2.
#include <cctype>

#include "common/ascii.h"
#include "mtas/canon.h"
#include "mtas/message.h"

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

namespace {

// The name before the colon, without the white space relaxed drops there.
std::string_view FieldName(std::string_view field) {
  std::string_view name = field.substr(0, field.find(':'));
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return name;
}

}  // namespace

bool HeaderFieldsEqual(Canon canon, std::string_view a, std::string_view b) {
  if (a == b) return true;  // equal under either canonicalization
  // Names that differ (case aside) differ in either canonical form: both keep
  // the bytes before the colon but for case (relaxed) or line ends (simple),
  // so a name with a line-end byte in it is left to the full comparison.
  std::string_view name_a = FieldName(a), name_b = FieldName(b);
  if (!EqualsIgnoreCase(name_a, name_b) && name_a.find_first_of("\r\n") == std::string_view::npos &&
      name_b.find_first_of("\r\n") == std::string_view::npos)
    return false;
  if (canon == Canon::kRelaxed) return CanonicalHeaderRelaxed(a) == CanonicalHeaderRelaxed(b);
  return NormalizeLineEnds(a) == NormalizeLineEnds(b);
}

}  // namespace mtas
