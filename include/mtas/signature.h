// The MTAS signature: a detached CMS SignedData (RFC 5652, DER) whose
// SignerInfo carries the MTAS signed attributes (spec §3, docs/asn1/).
//
// Building frames the DER from parts OpenSSL encodes once per key and signs
// the signed attributes with EVP_DigestSign, the same way for every
// algorithm: OpenSSL 3.0's CMS layer cannot sign with Ed25519 (RFC 8419).
// Parsing walks the DER strictly (src/cms/parse_signature.cc says why) and
// never trusts the input: every field is checked and a problem is a
// kMalformed status.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mtas/digest.h"
#include "mtas/keys.h"
#include "mtas/message.h"
#include "mtas/status.h"

namespace mtas {

// The dotted OID under which signers write MTAS attribute `n` (1..11);
// see docs/protocol.md for why it is not the spec's UUID arc.
std::string MtasOid(int n);

// mtas.11 envelope [profile extension]: digests of the SMTP envelope the
// signing hop sent the message with, so that the next hop can tell a replay
// (the same signed message sent to other recipients), as DKIM2's mf=/rt=.
struct EnvelopeBinding {
  DigestAlg alg = DigestAlg::kSha256;
  std::string mail_from;  // digest of "mail-from:<address>" lowercased
  // The digest of "rcpt-to:" + address + "\r\n" (lowercased, no angle
  // brackets) of each recipient, sorted, concatenated.
  std::string rcpt_to;
};
// Whether every recipient of `given` (a binding of the envelope a verifier
// saw) is one the signer bound: a relay delivers each destination only
// its own recipients.
bool RecipientsBound(const EnvelopeBinding& signed_binding, const EnvelopeBinding& given);
EnvelopeBinding BindEnvelope(DigestAlg alg, const std::string& mail_from, const std::vector<std::string>& rcpt_to);

// The SMTP envelope of one transmission, when known.
struct Envelope {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
};

struct PartHash {
  std::string path;
  std::string content_type;
  std::string digest;
};

// mtas.13 [MTAS/1.1]: how many instances of a field name the signer saw and
// signed, zero included ("over-signing"): an instance added later is a change.
struct HeaderCount {
  std::string name;
  int64_t count = 0;
};

// mtas.14 [MTAS/1.1]: one MIME part (leaf or container) with its own header
// fields, raw, CRLF line ends, and for a leaf the empty lines its part
// digest leaves out at the end. The list of paths is the signed part tree.
struct PartFields {
  std::string path;
  std::vector<std::string> fields;
  int64_t trailing_empty_lines = 0;
  // A leaf's digested length: a verifier that finds the part longer checks
  // whether its first `length` bytes are the signed ones (text appended).
  int64_t length = 0;
  // A text leaf's closing lines (at most 3, at most 256 bytes, CRLF ends;
  // empty: none signed) and heads[k - 1], the digest of its content without
  // the last k of them: a verifier that finds text inserted before them (an
  // HTML footer before </body>) checks the content up to there.
  std::string closing;
  std::vector<std::string> heads;
};

// The profile version a signature carrying the MTAS/1.1 attributes names
// in mtas.12. Its presence is signed, so it cannot be stripped to fall back
// to the 1.0 rules.
inline constexpr const char* kProfile11 = "MTAS/1.1";

// The MTAS signed attributes (spec §3.1). Empty strings are absent.
struct MtasAttributes {
  std::string msgid;                        // mtas.1
  std::vector<std::string> headers;         // mtas.2, one per signed field
  std::optional<ReceivedHash> received;     // mtas.3
  std::vector<PartHash> parts;              // mtas.4
  std::string services;                     // mtas.5
  std::string signer;                       // mtas.6
  std::string canonicalization;             // mtas.7
  std::string verification_info;            // mtas.8
  std::string wrapped;                      // mtas.9
  std::string carrier;                      // mtas.10
  std::optional<EnvelopeBinding> envelope;  // mtas.11
  // MTAS/1.1: present together (mtas.12 names the profile; ParseSignature
  // refuses a 1.1 signature missing one of the others).
  std::string profile;                     // mtas.12 "MTAS/1.1"; empty: a 1.0 signature
  std::vector<HeaderCount> header_counts;  // mtas.13
  std::vector<PartFields> part_fields;     // mtas.14
  std::vector<std::string> previous_hops;  // mtas.15: msgids of the hops below, oldest first
};

struct SignatureRequest {
  MtasAttributes attrs;
  DigestAlg digest = DigestAlg::kSha256;
  std::string content_digest;  // messageDigest: of the canonicalized content
  std::time_t signing_time = 0;
  bool embed_certificate = false;
};

// Builds the DER SignedData with one SignerInfo per key, in the order
// given, all over the same signed attributes (docs/protocol.md §2a): a
// hop may sign with Ed25519 and RSA at once, so that verifiers that know
// only one of them still find it. Every key must take `request.digest`
// (Ed25519 takes SHA-512 only); at most kMaxSignerInfos keys.
Result<std::string> BuildSignature(const std::vector<SigningKey>& keys, const SignatureRequest& request);
Result<std::string> BuildSignature(const SigningKey& key, const SignatureRequest& request);

// The most SignerInfos a signature may carry (a signer's algorithms, not
// a list of signers), for building and for reading.
inline constexpr size_t kMaxSignerInfos = 4;

// What differs between the SignerInfos of one signature: who signed, with
// which algorithm, and the value.
struct ParsedSignerInfo {
  // From signatureAlgorithm; kUnknown for an algorithm this library does
  // not implement (allowed beside a known one: verifiers skip it).
  KeyAlgorithm algorithm = KeyAlgorithm::kUnknown;
  int signature_nid = 0;
  std::string algorithm_name;  // the signatureAlgorithm, for reports
  SignerIdentity sid;
  std::string signature;
};

struct ParsedSignature {
  // Shared by every SignerInfo: the parser refuses SignerInfos whose
  // digestAlgorithm or signed attributes differ from the first's.
  DigestAlg digest = DigestAlg::kSha256;
  std::string message_digest;
  std::optional<std::time_t> signing_time;
  MtasAttributes attrs;
  std::vector<Certificate> certificates;
  std::string signed_attrs_der;                // what every signature value covers
  std::vector<ParsedSignerInfo> signer_infos;  // 1..kMaxSignerInfos, at least one of a known algorithm
};

// Parses and checks the structure (1 to kMaxSignerInfos SignerInfos over
// the same signed attributes, id-data, detached, required attributes
// present once). Never crashes on any input.
Result<ParsedSignature> ParseSignature(std::string_view der);

// Checks one SignerInfo's signature value over the signed attributes with
// `key`. Ok, or kCryptoFailure naming why (wrong key type, bad signature).
Status CheckSignatureValue(const ParsedSignature& sig, const ParsedSignerInfo& signer_info, const PublicKey& key);

}  // namespace mtas
