// Canonicalization (spec §3.2) and content-transfer decoding (spec §3.1).
//
// These stages are written by hand rather than taken from a library because
// their output is hashed: it must be byte-exact with every other MTAS
// implementation, stream over arbitrary chunk splits, and stay lenient on
// the malformed input real mail carries (RFC 2045 §6.7/§6.8 say what to
// ignore). OpenSSL's EVP_Decode* rejects input RFC 2045 tells us to skip.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "mtas/sink.h"
#include "mtas/status.h"

namespace mtas {

enum class Canon : unsigned char { kSimple, kRelaxed };

std::string_view CanonName(Canon c);
Result<Canon> ParseCanon(std::string_view name);

// Streaming body canonicalizer: RFC 6376 §3.4.3 (simple) / §3.4.4 (relaxed),
// with every bare CR or LF read as a line end. Output is buffered and handed
// to the sink in blocks. Copyable: a copy continues from the same state.
class BodyCanonicalizer {
 public:
  explicit BodyCanonicalizer(Canon canon);

  void Update(const char* data, size_t len, ByteSink& out);
  void Update(std::string_view s, ByteSink& out) { Update(s.data(), s.size(), out); }
  // Ends the body: pending line end, final CRLF, flush.
  void Finish(ByteSink& out);

  // Canonicalizes a whole body in one call.
  static std::string Apply(Canon canon, std::string_view body);
  Canon canon() const { return canon_; }
  // Whether output has gone to the sink yet (it is held until 32 KiB, or Finish).
  bool flushed() const { return flushed_; }
  // After Finish: how many trailing empty lines it dropped.
  size_t dropped_empty_lines() const { return dropped_empty_lines_; }

 private:
  void EndLine();
  void Emit(const char* p, size_t n, ByteSink& out);
  void MaybeFlush(ByteSink& out);

  Canon canon_;
  bool pending_cr_ = false;
  bool pending_wsp_ = false;
  bool line_has_content_ = false;
  bool any_output_ = false;
  bool flushed_ = false;
  size_t empty_lines_ = 0;
  size_t dropped_empty_lines_ = 0;
  std::string buf_;
};

// Header field canonicalization for comparisons (RFC 6376 §3.4.2 relaxed):
// lowercase name, unfolded, WSP runs as one SP, no WSP at the ends of the
// value or around the colon. No trailing CRLF.
std::string CanonicalHeaderRelaxed(std::string_view field);
// Every bare CR or LF becomes CRLF; no trailing CRLF is added.
std::string NormalizeLineEnds(std::string_view text);
// Compares two raw header fields under `canon`.
bool HeaderFieldsEqual(Canon canon, std::string_view a, std::string_view b);

// Content-Transfer-Encoding decoders. Streaming, chunk-split safe.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void Update(const char* data, size_t len, ByteSink& out) = 0;
  virtual void Finish(ByteSink& out) = 0;
  // After Finish: whether decoding had to guess (characters outside the
  // alphabet, bad padding, an invalid or lowercase '=' escape, white space
  // dropped at a line end). Readers guess differently, so only strictly
  // decoded content may stand for its encoded form.
  virtual bool lenient() const { return false; }
};

enum class TransferEncoding : unsigned char { kIdentity, kBase64, kQuotedPrintable, kBinary };
TransferEncoding ParseTransferEncoding(std::string_view value);
// A decoder for the encoding; kIdentity and kBinary pass bytes through.
std::unique_ptr<Decoder> MakeDecoder(TransferEncoding enc);

std::string Base64Decode(std::string_view text);  // lenient, skips non-alphabet
std::string Base64Encode(std::string_view bytes, size_t line_len = 0, std::string_view eol = "\r\n");
std::string QuotedPrintableDecode(std::string_view text);
// Quoted-printable (RFC 2045 §6.7) of `text`, whose CRLFs are its line ends:
// they become hard line breaks written as `eol`; lines are soft-broken at
// 76 characters and white space before a line end is escaped.
std::string QuotedPrintableEncode(std::string_view text, std::string_view eol = "\r\n");

}  // namespace mtas
