// Header section scanning (RFC 5322 §2.2): fields kept as raw bytes.
#include <cctype>
#include <cstring>

#include "common/ascii.h"
#include "mtas/limits.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// A field name is printable ASCII without ':' (RFC 5322 ftext), optionally
// followed by WSP before the colon (obs-hdr). Returns the name length or 0.
size_t FieldNameLength(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] > 32 && line[i] < 127 && line[i] != ':') ++i;
  if (i == 0) return 0;
  size_t j = i;
  while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
  return (j < line.size() && line[j] == ':') ? i : 0;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view HeaderField::value() const {
  std::string_view r(raw);
  size_t colon = r.find(':', name_len);
  return colon == std::string_view::npos ? std::string_view() : r.substr(colon + 1);
}

size_t HeaderScanner::Write(const char* data, size_t len) {
  size_t i = 0;
  while (i < len && !done_) {
    const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', len - i));
    size_t take = nl ? static_cast<size_t>(nl - (data + i)) + 1 : len - i;
    size_t room = limits::kMaxHeaderField + 2 > line_.size() ? limits::kMaxHeaderField + 2 - line_.size() : 0;
    line_.append(data + i, std::min(take, room));
    line_len_ += take;
    offset_ += take;
    i += take;
    if (nl) EndLine();
  }
  return i;
}

void HeaderScanner::Finish() {
  if (done_) return;
  if (line_len_ > 0) EndLine();
  if (!done_) {
    CloseField();
    done_ = true;
    body_offset_ = offset_;
  }
}

void HeaderScanner::EndLine() {
  std::string_view line(line_);
  bool has_lf = !line.empty() && line.back() == '\n';
  if (!eol_known_ && has_lf) {
    eol_ = (line.size() >= 2 && line[line.size() - 2] == '\r') ? "\r\n" : "\n";
    eol_known_ = true;
  }
  std::string_view content = line;
  if (has_lf) content.remove_suffix(1);
  if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  uint64_t this_offset = line_offset_;
  uint64_t this_len = line_len_;
  auto ambiguous = [&](std::string why) {
    if (ambiguity_.empty()) ambiguity_ = why + " at byte " + std::to_string(this_offset);
  };
  // Readers split lines at a bare CR (Python's email, many MUAs) and stop
  // at a NUL; this scanner splits at LF only: either would let a reader see
  // a field this scanner does not.
  if (content.find('\r') != std::string_view::npos) ambiguous("bare CR in a header line");
  if (content.find('\0') != std::string_view::npos) ambiguous("NUL in a header line");
  line_offset_ += line_len_;
  line_len_ = 0;

  if (content.empty()) {  // the empty line ends the header section
    CloseField();
    done_ = true;
    separator_seen_ = true;
    body_offset_ = line_offset_;
    line_.clear();
    return;
  }
  if (content.find_first_not_of(" \t") == std::string_view::npos)
    ambiguous("a header line of only white space (some readers end the header there)");
  if ((content[0] == ' ' || content[0] == '\t') && have_field_) {  // continuation
    if (current_.raw.size() + line.size() <= limits::kMaxHeaderField) {
      current_.raw.append(line.substr(0, line.size()));
    } else {
      current_.truncated = true;
    }
    current_.length += this_len;
    line_.clear();
    return;
  }
  size_t name_len = FieldNameLength(content);
  if (name_len == 0) {  // not a field: the body starts here (as Postfix reads it)
    CloseField();
    done_ = true;
    body_offset_ = this_offset;
    body_start_.assign(line_);
    warnings_.push_back("header line without a field name ends the header section at byte " +
                        std::to_string(this_offset));
    ambiguous("a line without a field name before the empty line (readers differ on where the body starts)");
    line_.clear();
    return;
  }
  if (content[name_len] != ':')
    ambiguous("white space before the colon of '" + std::string(content.substr(0, name_len)) + "'");
  CloseField();
  have_field_ = true;
  current_ = HeaderField{};
  current_.raw.assign(line);
  current_.name_len = name_len;
  current_.offset = this_offset;
  current_.length = this_len;
  current_.truncated = this_len > line.size();
  line_.clear();
}

void HeaderScanner::CloseField() {
  if (!have_field_) return;
  have_field_ = false;
  std::string& r = current_.raw;  // drop the final line end
  if (!r.empty() && r.back() == '\n') r.pop_back();
  if (!r.empty() && r.back() == '\r') r.pop_back();
  if (current_.truncated)
    warnings_.push_back("header field '" + std::string(current_.name()) + "' exceeds " +
                        std::to_string(limits::kMaxHeaderField) + " bytes");
  // Bytes kept, plus what each field costs to index, count against the
  // section limit: a header of millions of tiny fields is bounded too.
  size_t cost = r.size() + sizeof(HeaderField);
  if (section_full_ || fields_.size() >= limits::kMaxHeaderFields || kept_bytes_ + cost > limits::kMaxHeaderSection) {
    if (!section_full_)
      warnings_.push_back("header section exceeds the limit (" + std::to_string(limits::kMaxHeaderFields) +
                          " fields, " + std::to_string(limits::kMaxHeaderSection >> 20) +
                          " MiB); later fields are not indexed");
    section_full_ = true;
    return;
  }
  kept_bytes_ += cost;
  fields_.push_back(std::move(current_));
}

}  // namespace mtas
