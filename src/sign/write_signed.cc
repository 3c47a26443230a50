// Applying MessageEdits to a rewindable source: the signed message.
#include <algorithm>

#include "mtas/sign.h"

namespace mtas {

Status WriteSignedMessage(MessageSource& source, const MessageEdits& edits, ByteSink& out) {
  MTAS_RETURN_IF_ERROR(source.Rewind());
  for (const auto& f : edits.prepend) {
    out.Write(f);
    out.Write(edits.eol);
  }
  std::vector<std::pair<uint64_t, uint64_t>> skip;  // [begin, end) of removed fields
  for (const auto& r : edits.removed) skip.emplace_back(r.offset, r.offset + r.length);
  std::sort(skip.begin(), skip.end());
  size_t next_skip = 0;
  bool prefix_done = edits.body_prefix.empty();
  uint64_t pos = 0;

  auto emit = [&](const char* p, size_t n) {
    // Split the chunk at every point where something is skipped or inserted.
    while (n > 0) {
      if (!prefix_done && pos == edits.body_offset) {
        out.Write(edits.body_prefix);
        prefix_done = true;
      }
      while (next_skip < skip.size() && skip[next_skip].second <= pos) ++next_skip;
      uint64_t limit = pos + n;
      if (next_skip < skip.size()) {
        auto [b, e] = skip[next_skip];
        if (pos >= b) {  // inside a removed field
          size_t drop = static_cast<size_t>(std::min<uint64_t>(e, limit) - pos);
          p += drop;
          n -= drop;
          pos += drop;
          continue;
        }
        limit = std::min(limit, b);
      }
      if (!prefix_done && edits.body_offset > pos) limit = std::min(limit, edits.body_offset);
      size_t take = static_cast<size_t>(limit - pos);
      out.Write(p, take);
      p += take;
      n -= take;
      pos += take;
    }
  };
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, emit));
  if (!prefix_done) out.Write(edits.body_prefix);
  out.Write(edits.body_suffix);
  return Status::Ok();
}

}  // namespace mtas
