#include "message/line_framer.h"

#include <algorithm>
#include <cstring>

namespace mtas {

void LineFramer::Write(const char* p, size_t n) {
  const char* end = p + n;
  if (!carry_.empty()) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    size_t want = nl ? static_cast<size_t>(nl - p) + 1 : n;
    size_t room = kCarryMax - carry_.size();
    if (want <= room && !nl) {  // still an incomplete short line
      carry_.append(p, n);
      return;
    }
    size_t take = std::min(want, room);
    carry_.append(p, take);
    p += take;
    bool ends = carry_.back() == '\n';
    consumer_->Segment(carry_.data(), carry_.size(), true, ends);
    consumer_->Release();  // what it holds may point into the carry
    carry_.clear();
    at_line_start_ = ends;
  }
  while (p < end) {
    if (size_t plain = at_line_start_ ? consumer_->PlainLines(p, end) : 0) {
      consumer_->PassPlainLines(p, plain);
      p += plain;
      continue;
    }
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl) {
      consumer_->Segment(p, static_cast<size_t>(nl - p) + 1, at_line_start_, true);
      at_line_start_ = true;
      p = nl + 1;
      continue;
    }
    size_t rest = static_cast<size_t>(end - p);
    if (at_line_start_ && rest < kCarryMax) {
      carry_.assign(p, rest);
    } else {
      consumer_->Segment(p, rest, at_line_start_, false);
      at_line_start_ = false;
    }
    break;
  }
  consumer_->Release();
}

void LineFramer::Finish() {
  if (carry_.empty()) return;
  consumer_->Segment(carry_.data(), carry_.size(), true, false);
  consumer_->Release();
  carry_.clear();
}

}  // namespace mtas
