// Splits a byte stream, written in chunks of any size, into line segments
// without copying. Internal header (the body scanner's first stage).
//
// A segment that starts a line is either the whole line or at least
// kCarryMax bytes of it, which is all that classifying a line (a MIME
// delimiter, a postal-data entity start) needs; the rest of a long line
// follows as segments that do not start a line. Only the start of a line
// cut by a chunk edge is copied (into the carry). The segments a consumer
// sees are the same whatever the chunking.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mtas/limits.h"

namespace mtas {

// A segment without its line end (LF or CRLF).
inline std::string_view StripEol(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// Only SP, HTAB, CR, LF.
inline bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

class LineFramer {
 public:
  // The longest line start a consumer classifies: a delimiter line and its
  // line end.
  static constexpr size_t kCarryMax = limits::kMaxBoundaryLine + 2;

  class Consumer {
   public:
    virtual ~Consumer() = default;
    // The length of the whole lines at [p, end) (p at a line start) that
    // need no classification, 0 if none: they come as one PassPlainLines.
    virtual size_t PlainLines(const char* p, const char* end) const = 0;
    virtual void PassPlainLines(const char* p, size_t n) = 0;
    // One segment: `starts` if it begins a line, `ends` if it ends with LF.
    virtual void Segment(const char* p, size_t n, bool starts, bool ends) = 0;
    // The bytes handed on so far may be gone after this: anything that
    // still points into them must be used up now.
    virtual void Release() = 0;
  };

  explicit LineFramer(Consumer* consumer) : consumer_(consumer) {}
  void Write(const char* p, size_t n);
  // Hands on a line start still carried (the body ends without a line end).
  void Finish();

 private:
  Consumer* consumer_;
  std::string carry_;
  bool at_line_start_ = true;
};

}  // namespace mtas
