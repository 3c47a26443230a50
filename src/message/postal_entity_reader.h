// Reads one postal-data entity (the body carrier, spec §2.2) from the lines
// of a body's top-level epilogue. Internal header (a stage of the body
// scanner, fed by its line framer).
//
// An entity runs from its Content-Type line to its closing delimiter:
//   Content-Type: multipart/x-postal-data; boundary=B; msgid=M
//   (blank line)
//   --B
//   Content-Type: application/mtas-signature; micalg=…
//   X-Certificate-Verification-Service: "…"
//   (blank line)
//   base64 of the SignedData
//   --B--
// The reader fills a PostalEntity: msgid, label, micalg, services, the
// base64 text, whether it closed, and the first structural error. Every
// piece it keeps is bounded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mtas/message.h"

namespace mtas {

class PostalEntityReader {
 public:
  // Whether `line` (no line end) opens an entity: a Content-Type field of
  // multipart/x-postal-data.
  static bool Opens(std::string_view line);

  // Starts reading into `entity`, which must stay in place until the entity
  // closes or Finish(). The opening line comes next, through Line().
  void Begin(PostalEntity* entity);
  // One line segment (LineFramer): `line` is `segment` without its line end;
  // `end_offset` is the body offset just after the segment.
  void Line(std::string_view segment, std::string_view line, bool starts, bool ends, uint64_t end_offset);
  // Begun and not yet closed.
  bool reading() const { return state_ != State::kIdle; }
  // The body ended: an entity still being read is marked not closed.
  void Finish();

 private:
  enum class State { kIdle, kHeader, kBody, kPartHeader, kPartBody };

  void Error(std::string e);
  void StartBody();
  void ReadSignaturePartHeader();

  State state_ = State::kIdle;
  PostalEntity* entity_ = nullptr;
  std::string header_;  // the header block being read (entity's, then a part's)
  std::string boundary_;
  int parts_ = 0;
};

}  // namespace mtas
