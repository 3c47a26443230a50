// The message model: header fields as raw bytes, MIME content types, and
// the streaming body scanner that indexes parts and postal-data entities.
//
// Everything here reads untrusted bytes in chunks of any size, keeps memory
// bounded by the header section and the structure index (limits.h), and
// never fails: problems are recorded in the index for the verifier to judge.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtas/canon.h"
#include "mtas/digest.h"

namespace mtas {

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// mtas.3 receivedHash: the digest of the first `count` Received fields
// (spec 10d).
struct ReceivedHash {
  int64_t count = 0;
  DigestAlg alg = DigestAlg::kSha256;
  std::string digest;
};

// One header field exactly as it stands in the message.
struct HeaderField {
  std::string raw;         // name, colon, value; folding and line ends kept; no final line end
  size_t name_len = 0;     // raw[0, name_len) is the field name
  uint64_t offset = 0;     // byte offset of the field in the message
  uint64_t length = 0;     // bytes in the message, final line end included
  bool truncated = false;  // raw holds only the first limits::kMaxHeaderField bytes

  std::string_view name() const { return std::string_view(raw).substr(0, name_len); }
  std::string_view value() const;  // after the colon, folding kept
  bool NameIs(std::string_view n) const { return EqualsIgnoreCase(name(), n); }
};

// Thread safety: a scanner (HeaderScanner, BodyScanner) reads one message on
// one thread at a time; what it returns is plain data.
// Streaming header-section scanner: feed the message from its first byte;
// it stops at the empty line (or at the first line that is not a field).
class HeaderScanner {
 public:
  // Consumes bytes of the header section; returns how many of `len` it
  // took. Once done(), the rest of the input is body.
  size_t Write(const char* data, size_t len);
  // End of input without an empty line: the whole input was header.
  void Finish();
  bool done() const { return done_; }

  std::vector<HeaderField>& fields() { return fields_; }
  const std::vector<HeaderField>& fields() const { return fields_; }
  // Bytes already consumed that belong to the body (a non-field line that
  // ended the header section without an empty line). Usually empty.
  const std::string& body_start() const { return body_start_; }
  uint64_t body_offset() const { return body_offset_; }
  // True when an empty line separated the header section from the body.
  bool separator_seen() const { return separator_seen_; }
  // Line end the message uses ("\r\n" or "\n"), from its first line.
  std::string_view eol() const { return eol_; }
  // Problems seen: truncated fields, a header section over the limit.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Whether a section limit was hit and later fields were not indexed.
  bool section_full() const { return section_full_; }
  // The first place where common readers would split the section into
  // lines or fields differently from this scanner (a bare CR or a NUL in a
  // line, a line of only white space, white space before a field's colon, a
  // line that is not a field before the empty line); empty if none. A
  // signature cannot vouch for such a header (the verifier's permerror).
  const std::string& ambiguity() const { return ambiguity_; }

 private:
  void EndLine();
  void CloseField();

  std::vector<HeaderField> fields_;
  std::string line_;  // current line, bounded
  uint64_t line_len_ = 0;
  uint64_t line_offset_ = 0;
  uint64_t offset_ = 0;
  bool have_field_ = false;
  HeaderField current_;
  size_t kept_bytes_ = 0;
  bool section_full_ = false;  // a limit was hit: later fields are dropped, noted once
  bool done_ = false;
  std::string body_start_;
  uint64_t body_offset_ = 0;
  bool separator_seen_ = false;
  std::string eol_ = "\r\n";
  bool eol_known_ = false;
  std::vector<std::string> warnings_;
  std::string ambiguity_;
};

// A parsed Content-Type value (RFC 2045 §5.1). Absent or unparsable means
// text/plain, as RFC 2045 says.
struct ContentType {
  std::string type = "text";  // lowercase
  std::string subtype = "plain";
  std::vector<std::pair<std::string, std::string>> params;  // names lowercase, values unquoted

  static ContentType Parse(std::string_view value);
  std::string Param(std::string_view name) const;  // "" when absent
  bool IsMultipart() const { return type == "multipart"; }
  std::string MimeType() const { return type + "/" + subtype; }
};

// Where readers would read the MIME fields of one header block (the
// message's or a part's) differently: a second Content-Type,
// Content-Transfer-Encoding or Content-Disposition (readers take the first
// or the last), or a parameter named twice in one (a second boundary).
// Empty if none.
std::string MimeFieldAmbiguity(const std::vector<HeaderField>& fields);

// An unstructured header value (a Subject, a display name) as readers show
// it: unfolded, RFC 2047 encoded-words decoded to UTF-8 with the white space
// between two of them dropped. nullopt when a reader would have to guess: a
// token that looks like an encoded-word but is not a strict one, an unknown
// charset, bytes that are not text in their charset, a control byte.
std::optional<std::string> DecodeUnstructured(std::string_view value);

// What a Content-Type (`content_type`) or Content-Disposition value states,
// read strictly (RFC 2045 §5.1 tokens and quoted strings, RFC 2231
// continuations and charsets merged): the type lowercase, then each
// parameter by lowercase name, sorted, with its decoded value. Two values
// with the same result say the same to every reader: quoting, name case,
// parameter order and continuations aside. nullopt for anything a reader
// would have to guess at: comments, folding inside a quoted string, bytes
// outside printable ASCII, a parameter given twice or both plain and in
// RFC 2231 form, a gap in continuations, trailing text.
std::optional<std::string> CanonicalMimeValue(std::string_view value, bool content_type);

// Parses "name=value; name2=\"value\"" parameter lists (MIME parameters,
// tag lists of the tracking header). Names are lowercased.
std::vector<std::pair<std::string, std::string>> ParseParams(std::string_view text);

// The index of the first byte at or after `i` that is not folding white
// space or an RFC 5322 comment (nested, with quoted-pairs); s.size() at most.
size_t SkipCfws(std::string_view s, size_t i);

// Which canonicalized-content digests a body scan computes.
struct ContentDigestSpec {
  Canon canon = Canon::kRelaxed;
  DigestAlg alg = DigestAlg::kSha256;
  bool operator==(const ContentDigestSpec&) const = default;
};

// One MIME part (spec §3.1 part paths).
struct PartInfo {
  std::string path;          // "1", "2.1"
  std::string content_type;  // "text/plain"
  bool container = false;    // a multipart: not hashed itself
  // The part's own header fields, raw with CRLF line ends, in order:
  // Content-Type, -Transfer-Encoding and -Disposition decide how readers
  // render it, Content-ID and -Location what refers to it, -Description
  // what some show (MTAS/1.1 signs them all, mtas.14).
  std::vector<std::string> header_fields;
  // Digests of the decoded, normalized content, indexed by DigestAlg, for
  // the algorithms the scan was asked for (leaf parts only).
  std::array<std::string, kDigestAlgCount> digests;
  // Leaf parts: the empty lines the normalization dropped at the end (a
  // reader shows them), and whether decoding had to guess (Decoder::lenient).
  size_t trailing_empty_lines = 0;
  bool lenient_decode = false;
  uint64_t length = 0;  // leaf parts: the bytes the part digests cover
  // Parts of a multipart: where the content lies in the body (body
  // offsets, the line end before the next delimiter excluded; a container's
  // content runs from its preamble to the end of its epilogue), so that a
  // message/rfc822 part can be read again as a message of its own.
  uint64_t content_begin = 0, content_end = 0;
  // Parts of a multipart: where the part begins, from the line end
  // before its opening delimiter (RFC 2046 gives that line end to the
  // delimiter), and where its header fields begin.
  uint64_t delimiter_begin = 0, header_begin = 0;
  // Leaf parts, one per PrefixRequest for this path: the digest of the
  // first `length` bytes the part digest covers and what follows them.
  struct Prefix {
    uint64_t length = 0;
    DigestAlg alg = DigestAlg::kSha256;
    std::string digest;    // empty when the part is shorter
    std::string appended;  // the bytes after the prefix, at most kMaxAppendedShown
    uint64_t appended_length = 0;
  };
  std::vector<Prefix> prefixes;
  // Leaf parts: the last kMaxClosingBytes bytes the part digest covers.
  std::string last_bytes;
  // Text leaves, when the scan was asked (Options::closing_alg, signing):
  // the content's last lines (at most kMaxClosingLines, together at most
  // kMaxClosingBytes, each ending in CRLF) and heads[k - 1], the digest of
  // the content without its last k lines.
  std::string closing;
  std::vector<std::string> heads;
};

// How many closing lines a text part's signature covers, and their bytes.
inline constexpr size_t kMaxClosingLines = 3;
inline constexpr size_t kMaxClosingBytes = 256;

// How much of the text after a signed prefix a scan keeps to show.
inline constexpr size_t kMaxAppendedShown = 1024;

// Asks a body scan for the digest of the first `length` bytes of a leaf
// part's digested content (to recognise text appended after signing).
struct PrefixRequest {
  std::string path;
  uint64_t length = 0;
  DigestAlg alg = DigestAlg::kSha256;
  bool operator==(const PrefixRequest&) const = default;
};

// A multipart/x-postal-data entity found in the top-level epilogue.
struct PostalEntity {
  uint64_t offset = 0;      // body offset of its Content-Type line
  uint64_t end_offset = 0;  // body offset just after its closing delimiter line
  std::string msgid;
  std::string label;  // inner part's content type
  std::string micalg;
  std::string services;  // X-Certificate-Verification-Service, unquoted
  std::string signature_base64;
  bool complete = false;  // closing delimiter seen
  std::string error;      // structural problem, empty if none
  // Digest of the canonicalized body before `offset`, one per
  // ContentDigestSpec.
  std::vector<std::string> content_digests;
};

// What a body scan found.
struct BodyIndex {
  std::vector<PartInfo> parts;
  std::vector<PostalEntity> entities;
  std::vector<std::string> final_digests;  // whole body, one per ContentDigestSpec
  uint64_t body_length = 0;
  bool multipart = false;
  bool top_closed = false;               // the top-level closing delimiter was seen
  bool ends_with_eol = true;             // the body's last byte is a line end (or body empty)
  uint64_t unsigned_after_entities = 0;  // non-blank bytes after the last entity
  std::string structure_error;           // first limit or structure problem, empty if none
  // A limit that left structure unindexed (parts, depth, a part header,
  // entities): what readers show is not wholly covered. Empty if none.
  std::string limit_hit;
  // Where readers would read the MIME structure differently (a bare CR in a
  // part header, a delimiter after a bare CR); empty if none.
  std::string ambiguity;
};

// Streaming body scanner: MIME structure, part hashes, postal-data entities
// and canonicalized-content digests, in one pass over the bytes.
class BodyScanner {
 public:
  struct Options {
    ContentType top;  // the message's Content-Type
    TransferEncoding top_encoding = TransferEncoding::kIdentity;
    std::string top_ambiguity;  // MimeFieldAmbiguity of the message's fields (BodyIndex::ambiguity)
    std::vector<ContentDigestSpec> content_specs;
    std::vector<DigestAlg> part_algs;
    std::vector<PrefixRequest> prefixes;
    // Signing: each text leaf's closing lines and heads, in this algorithm.
    std::optional<DigestAlg> closing_alg;
    // Past this many body bytes the canonical-body digests are computed on
    // a second thread, beside the part digests (0: never). Small messages
    // stay on one thread: a thread costs more than it saves on them.
    uint64_t parallel_from = 64 * 1024;
  };
  explicit BodyScanner(Options options);
  ~BodyScanner();
  BodyScanner(const BodyScanner&) = delete;
  BodyScanner& operator=(const BodyScanner&) = delete;

  void Write(const char* data, size_t len);
  void Write(std::string_view s) { Write(s.data(), s.size()); }
  BodyIndex Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Content options for a message whose header fields are `fields`.
BodyScanner::Options BodyOptionsFor(const std::vector<HeaderField>& fields);

}  // namespace mtas
