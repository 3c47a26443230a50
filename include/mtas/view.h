// What this library reads of a message where readers display something: the
// header fields, the From domains, the MIME tree with each leaf's decoded
// content. Differential tests (tests/diff/verdict_diff.py) compare it with
// what Python's email package and GMime read, through `mtas inspect --view`.
#pragma once

#include <string>
#include <vector>

#include "mtas/message.h"
#include "mtas/source.h"
#include "mtas/status.h"

namespace mtas {

struct MessageView {
  std::vector<HeaderField> fields;  // as HeaderScanner indexes them
  std::string header_ambiguity;     // HeaderScanner::ambiguity()
  bool header_section_full = false;
  std::vector<std::string> from_domains;  // FromDomains, empty with from_error
  std::string from_error;
  // Every part in tree order; a leaf's digests[kSha256] is the SHA-256 of its
  // decoded content, line ends as CRLF and trailing empty lines dropped for
  // text and 7bit/8bit parts (the part digest MTAS signs).
  std::vector<PartInfo> parts;
  std::string body_ambiguity;   // BodyIndex::ambiguity
  std::string limit_hit;        // BodyIndex::limit_hit
  std::string structure_error;  // BodyIndex::structure_error
};

// Reads `source` from its first byte, once. Fails only on I/O.
Result<MessageView> ReadView(MessageSource& source);

// The view as one JSON object: {"fields": [{"name", "value"}], "header_ambiguity",
// "header_section_full", "from_domains", "from_error", "parts": [{"path",
// "content_type", "container", "sha256", "fields"}], "body_ambiguity",
// "limit_hit", "structure_error"}.
std::string ViewJson(const MessageView& view);

}  // namespace mtas
