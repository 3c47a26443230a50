// Rebuilding what one hop signed (docs/protocol.md, "Recovering the
// original"): a plan of byte replacements over the message as it is now,
// made from the hop's signed header fields, its signed part tree and the
// edits the change report found, and a source that reads the message
// through them. Internal header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/message.h"
#include "mtas/signature.h"
#include "mtas/source.h"
#include "mtas/verify.h"

namespace mtas {

// The message as the verifier scanned it.
struct ScannedMessage {
  const std::vector<HeaderField>& fields;
  uint64_t body_offset = 0;
  const BodyIndex& body;
  std::string_view eol;  // the line end the message uses
};

// The hop to rebuild, as the verifier checked it.
struct HopToRestore {
  const ParsedSignature& sig;
  const SignatureReport& report;
  const HeaderField* tracking = nullptr;  // its tracking field; nullptr when none names it
  std::vector<std::string> later_msgids;  // the hops above it: their carriers go
};

// Bytes [begin, end) of the message (message offsets) replaced by `bytes`;
// begin == end inserts.
struct Replacement {
  uint64_t begin = 0, end = 0;
  std::string bytes;
};

struct RestorePlan {
  std::vector<Replacement> replacements;  // by begin, not overlapping
  std::vector<Edit> edits;                // what the replacements undo, as readers would name it
};

// A text part longer than this is not rebuilt (the rebuilt text is held in
// memory).
inline constexpr uint64_t kMaxRestoredPart = 8 * 1024 * 1024;

// Plans undoing the edits `hop.report` found. Reads `source` again for the
// decoded text of parts that grew. Fails (kUnsupported) naming the first
// edit that cannot be undone: a part whose signed content is gone, a
// multipart container that changed.
Result<RestorePlan> PlanRestore(MessageSource& source, const ScannedMessage& now, const HopToRestore& hop);

// Reads `base` with `replacements` (sorted by begin, not overlapping)
// applied. `base` must outlive it and not be read meanwhile.
class RestoredSource final : public MessageSource {
 public:
  RestoredSource(MessageSource& base, std::vector<Replacement> replacements)
      : base_(base), replacements_(std::move(replacements)) {}
  Result<size_t> Read(char* buf, size_t len) override;
  Status Rewind() override;

 private:
  // Reads up to `len` bytes of the base at its position; 0 at its end.
  Result<size_t> ReadBase(char* buf, size_t len);

  MessageSource& base_;
  std::vector<Replacement> replacements_;
  size_t next_ = 0;          // the next replacement not yet reached
  uint64_t base_pos_ = 0;    // bytes of the base consumed
  size_t literal_pos_ = 0;   // inside replacements_[next_].bytes, once reached
  bool in_literal_ = false;  // reading replacements_[next_].bytes
};

}  // namespace mtas
