// The carriers of a signature on the wire (spec §2): the tracking header,
// the MTAS-Signature header field and the postal-data entity. Formatting
// for the signer, parsing for the verifier. Internal header.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mtas/canon.h"
#include "mtas/carrier.h"
#include "mtas/digest.h"

namespace mtas {

inline constexpr std::string_view kTrackingName = "X-PostalTracking";
inline constexpr std::string_view kSignatureFieldName = "MTAS-Signature";
inline constexpr std::string_view kSignatureLabel = "application/x-mtas-signature";
inline constexpr std::string_view kSeedSignatureLabel = "application/x-pkcs7-signature";

// "X-PostalTracking: MTAS/1.0 msgid=ID; carrier=body; micalg=sha-256; canon=relaxed".
// carrier, micalg and canon are advisory parameters (spec §2.1 allows
// extra ones): they let a verifier compute the right digest in one pass.
// Nothing in them is trusted; the signed attributes decide.
std::string TrackingField(const std::string& msgid, Carrier carrier, DigestAlg digest, Canon canon);

// "MTAS-Signature: v=MTAS/1.0; msgid=ID; vs=\"…\"; b=…" folded at 76 columns.
std::string SignatureHeaderField(const std::string& msgid, const std::string& services, const std::string& der,
                                 const std::string& eol);

// The multipart/x-postal-data entity, ending with a line end.
std::string PostalDataEntity(const std::string& msgid, DigestAlg digest, const std::string& services,
                             const std::string& der, const std::string& eol);

struct TrackingInfo {
  std::string version;  // "MTAS/1.0"
  std::string msgid;
  std::string carrier;              // hint: "body", "header" or empty
  std::optional<DigestAlg> digest;  // hint
  std::optional<Canon> canon;       // hint
};
// Parses a tracking field value; an error names what is wrong.
Result<TrackingInfo> ParseTracking(std::string_view value);

struct SignatureField {
  std::string version;
  std::string msgid;
  std::string services;
  std::string signature_base64;  // whitespace removed
};
Result<SignatureField> ParseSignatureField(std::string_view value);
// Only the msgid= tag of an MTAS-Signature field value ("" if it has none):
// for a caller that decides by msgid whether it needs the rest, without
// copying the kilobytes of b=.
std::string SignatureFieldMsgid(std::string_view value);

// msgid tokens: 1..64 characters of [A-Za-z0-9._-] (the spec's own are
// 10-32 of [A-Z0-9]; a verifier accepts a little more and reports it).
bool ValidMsgid(std::string_view id);

}  // namespace mtas
