// Keys as DNS publishes them (spec §4): the KEY RR (RFC 2535/3445 with the
// key formats of RFC 3110, 6605, 8080), the CERT RR (RFC 4398, type PKIX)
// and the DKIM key TXT record (RFC 6376 §3.6.1, RFC 8463). Parsers for the
// verifier, presentation formats for `mtas keygen`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mtas/keys.h"
#include "mtas/status.h"

namespace mtas {

inline constexpr int kKeyProtocolEmail = 2;
inline constexpr int kKeyFlagsHost = 0x0200;

// KEY RR RDATA. kNotFound when the record is valid but not for email or
// has no key; kUnsupported for other algorithms; kMalformed when broken.
Result<PublicKey> ParseKeyRecord(std::string_view rdata);
// CERT RR RDATA of type PKIX. kUnsupported for other certificate types.
Result<Certificate> ParseCertRecord(std::string_view rdata);
// The character-strings of one TXT record, joined.
Result<std::string> TxtRecordText(std::string_view rdata);
// A DKIM key record ("v=DKIM1; k=ed25519; p=…"). kNotFound when the key
// is revoked (empty p=), kMalformed when broken.
Result<PublicKey> ParseDkimKey(std::string_view text);

// Presentation formats (zone file RDATA) for a key.
Result<std::string> KeyRecordPresentation(const PublicKey& key);  // "512 2 15 <base64>"
std::string CertRecordPresentation(const Certificate& cert);      // "1 0 0 <base64>"
Result<std::string> DkimKeyText(const PublicKey& key);            // "v=DKIM1; k=…; p=…"

}  // namespace mtas

namespace mtas {

// Ready-to-paste zone records for `signer` (KEY, CERT and, where DKIM has a
// key type for the algorithm, TXT), with a comment naming the service
// string to sign with. Names: SELECTOR._certs.SIGNER (KEY, CERT) and
// SELECTOR._domainkey.SIGNER (TXT).
// With `https`, the comment also asks for SELECTOR.crt.der to be served at
// https://SIGNER/_certs/.
Result<std::string> ZoneRecords(const std::string& signer, const std::string& selector, const Certificate& cert,
                                bool https = false);
// The --services value matching ZoneRecords: the DNS methods only, and the
// https download of SELECTOR.crt.der under /_certs/ only with `https` (a
// service the operator does not publish costs every verifier a lookup).
std::string ServicesFor(const std::string& selector, KeyAlgorithm algorithm, bool https = false);

}  // namespace mtas
