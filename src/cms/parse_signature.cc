// Reading an MTAS signature: a walk of the SignedData (RFC 5652 §5).
//
// Why by hand: d2i_CMS_ContentInfo builds OpenSSL's whole CMS object model
// (an allocation per node, a table search per identifier) only for this
// file to take it apart again; that was two thirds of reading a signature
// and a fifth of a 4 KB verification. The walk reads the structure an MTAS
// signer writes field by field, in place, checks every tag and length
// against the bytes it holds (common/der.h), and refuses anything else. The
// signed attributes must be DER (the spec, §3; RFC 5652 §5.4); around them
// RFC 5652 allows BER, so longer and indefinite lengths are read there, as
// OpenSSL reads them (tests/bad: cms-not-der-length, cms-indefinite-length).
// Only indefinite lengths recurse, at most 16 deep. OpenSSL still reads
// what is more than framing: certificates (d2i_X509), CRLs, issuer names
// (d2i_X509_NAME) and times (d2i_ASN1_TIME). tests/unit/signature_test.cc
// and the signature fuzz target compare every field with what OpenSSL's CMS
// parser reads from the same bytes.
#include <openssl/objects.h>

#include <algorithm>

#include "cms/attributes.h"
#include "cms/oids.h"
#include "common/der.h"
#include "common/ossl.h"
#include "mtas/limits.h"
#include "mtas/signature.h"

namespace mtas {
namespace {

using der::TlvView;

// The SignedData around the signed attributes may be BER (RFC 5652 §5.1);
// the signed attributes are read as DER.
constexpr der::Encoding kBer = der::Encoding::kBer;

KeyAlgorithm AlgorithmOfSignatureNid(int nid) {
  switch (nid) {
    case NID_ED25519:
      return KeyAlgorithm::kEd25519;
    case NID_rsaEncryption:
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
    case NID_sha1WithRSAEncryption:
      return KeyAlgorithm::kRsa;
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512:
    case NID_ecdsa_with_SHA1:
      return KeyAlgorithm::kEcdsaP256;
    default:
      return KeyAlgorithm::kUnknown;
  }
}

Status Malformed(const char* what) { return Status::Malformed(what); }

// Reads a TLV with tag `tag` from `*in`, or says that `what` is missing.
Status Read(std::string_view* in, uint8_t tag, TlvView* out, const char* what) {
  if (!der::ReadTlv(in, tag, out, kBer)) return Status::Malformed(std::string(what) + " missing or malformed");
  return Status::Ok();
}

// AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }.
Status ReadAlgorithm(std::string_view* in, std::string_view* oid, const char* what) {
  TlvView seq, params;
  MTAS_RETURN_IF_ERROR(Read(in, der::kSequence, &seq, what));
  std::string_view body = seq.content;
  if (!der::ReadOid(&body, oid, kBer) || (!body.empty() && (!der::ReadTlv(&body, &params, kBer) || !body.empty())))
    return Status::Malformed(std::string(what) + " is not an AlgorithmIdentifier");
  return Status::Ok();
}

// The content of a SET OF or SEQUENCE OF whose elements must each be one
// whole TLV: true when they are.
bool WholeTlvs(std::string_view content, der::Encoding enc) {
  TlvView t;
  while (!content.empty())
    if (!der::ReadTlv(&content, &t, enc)) return false;
  return true;
}

// Parses one object of OpenSSL's type T that must fill `whole` exactly.
template <typename T>
Result<T*> ParseWhole(T* (*d2i)(T**, const unsigned char**, long), void (*free)(T*), std::string_view whole,
                      const char* what) {
  const auto* p = reinterpret_cast<const unsigned char*>(whole.data());
  T* obj = d2i(nullptr, &p, static_cast<long>(whole.size()));
  if (obj && p == reinterpret_cast<const unsigned char*>(whole.data() + whole.size())) return obj;
  if (obj) free(obj);
  ERR_clear_error();
  return Status::Malformed(what);
}

// CertificateSet: the X.509 certificates, parsed by OpenSSL. Attribute
// certificates and other formats ([0] to [3], RFC 5652 §10.2.2) are framed
// and left out, as OpenSSL's CMS_get1_certs leaves them.
Status ReadCertificates(std::string_view set, std::vector<Certificate>* out) {
  TlvView choice;
  while (!set.empty()) {
    if (!der::ReadTlv(&set, &choice, kBer)) return Malformed("certificates are not BER");
    if (choice.tag >= der::kContext0 && choice.tag <= der::kContext0 + 3) continue;
    if (choice.tag != der::kSequence) return Malformed("a certificates entry is no CertificateChoices");
    auto cert = ParseWhole(d2i_X509, X509_free, choice.whole, "an embedded certificate is not an X.509 certificate");
    if (!cert.ok()) return cert.status();
    out->push_back(Certificate::Adopt(*cert));
  }
  return Status::Ok();
}

// RevocationInfoChoices: the library has no use for them, but they must be
// CRLs (checked by OpenSSL) or the [1] other format.
Status ReadCrls(std::string_view set) {
  TlvView choice;
  while (!set.empty()) {
    if (!der::ReadTlv(&set, &choice, kBer)) return Malformed("crls are not BER");
    if (choice.tag == der::kContext1) continue;
    if (choice.tag != der::kSequence) return Malformed("a crls entry is no RevocationInfoChoice");
    auto crl = ParseWhole(d2i_X509_CRL, X509_CRL_free, choice.whole, "a crls entry is not a CRL");
    if (!crl.ok()) return crl.status();
    X509_CRL_free(*crl);
  }
  return Status::Ok();
}

// SignerIdentifier ::= CHOICE { issuerAndSerialNumber SEQUENCE { Name,
// INTEGER }, subjectKeyIdentifier [0] IMPLICIT OCTET STRING }.
Status ReadSignerId(std::string_view* in, SignerIdentity* sid) {
  TlvView t, name, serial;
  if (der::ReadTlv(in, der::kContext0Primitive, &t, kBer)) {
    sid->key_id.assign(t.content);
    return Status::Ok();
  }
  if (!der::ReadTlv(in, der::kSequence, &t, kBer)) return Malformed("SignerInfo has no signer identifier");
  std::string_view body = t.content;
  if (!der::ReadTlv(&body, der::kSequence, &name, kBer) || !der::ReadTlv(&body, der::kInteger, &serial, kBer) ||
      !der::MinimalInteger(serial.content) || !body.empty())
    return Malformed("issuerAndSerialNumber is not SEQUENCE { Name, INTEGER }");
  auto issuer =
      ParseWhole(d2i_X509_NAME, X509_NAME_free, name.whole, "issuerAndSerialNumber names no issuer (not a Name)");
  if (!issuer.ok()) return issuer.status();
  X509_NAME_free(*issuer);
  sid->issuer_der.assign(name.whole);
  sid->serial_der = der::Tlv(der::kInteger, serial.content);
  return Status::Ok();
}

// signingTime ::= UTCTime or GeneralizedTime, read by OpenSSL.
Status ReadSigningTime(const TlvView& value, std::optional<std::time_t>* out) {
  if (value.tag != der::kUtcTime && value.tag != der::kGeneralizedTime)
    return Malformed("signingTime attribute malformed");
  auto parsed = ParseWhole(d2i_ASN1_TIME, ASN1_TIME_free, value.whole, "signingTime unreadable");
  if (!parsed.ok()) return parsed.status();
  std::unique_ptr<ASN1_TIME, ossl::Deleter<ASN1_TIME, ASN1_TIME_free>> t(*parsed);
  struct tm tm {};
  if (ASN1_TIME_to_tm(t.get(), &tm) != 1) {
    ERR_clear_error();
    return Malformed("signingTime unreadable");
  }
  *out = timegm(&tm);
  return Status::Ok();
}

// SignedAttributes ::= SET SIZE (1..MAX) OF Attribute, where
// Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }.
// Unknown attributes are framed and ignored (spec §3.1, goal 7).
Status ReadSignedAttributes(std::string_view attrs, ParsedSignature* out) {
  if (attrs.empty()) return Malformed("SignerInfo has no signed attributes");
  std::vector<bool> seen(kMtasAttrCount + 1, false);
  bool have_ct = false, have_md = false, have_st = false;
  while (!attrs.empty()) {
    TlvView attr, values, value;
    std::string_view type;
    if (!der::ReadTlv(&attrs, der::kSequence, &attr)) return Malformed("a signed attribute is not DER");
    std::string_view body = attr.content;
    if (!der::ReadOid(&body, &type) || !der::ReadTlv(&body, der::kSet, &values) || !body.empty() ||
        !WholeTlvs(values.content, der::Encoding::kDer))
      return Malformed("a signed attribute is not SEQUENCE { OID, SET OF value }");
    auto mtas = MtasAttrOfOid(type);
    int nid = mtas ? NID_undef : NidOfOid(type);
    if (!mtas && nid != NID_pkcs9_contentType && nid != NID_pkcs9_messageDigest && nid != NID_pkcs9_signingTime)
      continue;
    std::string_view rest = values.content;
    if (!der::ReadTlv(&rest, &value) || !rest.empty())
      return Malformed("a signed attribute does not have exactly one value");
    if (mtas) {
      MTAS_RETURN_IF_ERROR(DecodeMtasAttribute(*mtas, value, &out->attrs, &seen));
    } else if (nid == NID_pkcs9_contentType) {
      std::string_view oid;
      std::string_view v = value.whole;
      if (have_ct || !der::ReadOid(&v, &oid) || NidOfOid(oid) != NID_pkcs7_data)
        return Malformed("contentType attribute is not a single id-data");
      have_ct = true;
    } else if (nid == NID_pkcs9_messageDigest) {
      if (have_md || value.tag != der::kOctetString) return Malformed("messageDigest attribute malformed");
      out->message_digest.assign(value.content);
      have_md = true;
    } else {
      if (have_st) return Malformed("signingTime attribute appears twice");  // RFC 5652 §11.3
      MTAS_RETURN_IF_ERROR(ReadSigningTime(value, &out->signing_time));
      have_st = true;
    }
  }
  if (!have_ct || !have_md) return Malformed("contentType or messageDigest attribute missing");
  if (out->attrs.msgid.empty()) return Malformed("msgid attribute missing");
  if (out->attrs.signer.empty()) return Malformed("signer attribute missing");
  if (out->attrs.profile.empty()) {
    for (MtasAttr a : {MtasAttr::kHeaderCounts, MtasAttr::kPartFields, MtasAttr::kPreviousHops})
      if (seen[static_cast<size_t>(a)])
        return Status::Malformed("attribute mtas." + std::to_string(static_cast<int>(a)) + " without the " +
                                 kProfile11 + " profile attribute");
  } else {
    if (out->attrs.profile != kProfile11) return Status::Malformed("unsupported profile " + out->attrs.profile);
    for (MtasAttr a : {MtasAttr::kHeaderCounts, MtasAttr::kPartFields, MtasAttr::kPreviousHops})
      if (!seen[static_cast<size_t>(a)])
        return Status::Malformed(std::string(kProfile11) + " signature lacks attribute mtas." +
                                 std::to_string(static_cast<int>(a)));
  }
  return Status::Ok();
}

// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
//   signedAttrs [0] IMPLICIT, signatureAlgorithm, signature OCTET STRING,
//   unsignedAttrs [1] IMPLICIT OPTIONAL }.
// The first SignerInfo's digest and signed attributes are read into `out`;
// every later one must carry the same (docs/protocol.md §2a), so that the
// attributes a verifier reports are those every signature value covers.
Status ReadSignerInfo(std::string_view in, bool first, ParsedSignature* out) {
  int64_t version = 0;
  TlvView attrs, signature, unsigned_attrs;
  std::string_view digest_oid, signature_oid;
  ParsedSignerInfo si;
  if (!der::ReadInteger(&in, &version, kBer)) return Malformed("SignerInfo version missing or malformed");
  MTAS_RETURN_IF_ERROR(ReadSignerId(&in, &si.sid));
  MTAS_RETURN_IF_ERROR(ReadAlgorithm(&in, &digest_oid, "digestAlgorithm"));
  if (!der::ReadTlv(&in, der::kContext0, &attrs, kBer)) return Malformed("SignerInfo has no signed attributes");
  MTAS_RETURN_IF_ERROR(ReadAlgorithm(&in, &signature_oid, "signatureAlgorithm"));
  MTAS_RETURN_IF_ERROR(Read(&in, der::kOctetString, &signature, "signature value"));
  if (der::ReadTlv(&in, der::kContext1, &unsigned_attrs, kBer) && !WholeTlvs(unsigned_attrs.content, kBer))
    return Malformed("unsignedAttrs are not BER");
  if (!in.empty()) return Malformed("trailing bytes in the SignerInfo");

  auto digest = DigestOfOid(digest_oid);
  if (!digest.ok()) return digest.status();
  si.signature_nid = NidOfOid(signature_oid);
  si.algorithm = AlgorithmOfSignatureNid(si.signature_nid);
  si.algorithm_name = OidName(signature_oid);
  si.signature.assign(signature.content);
  // The signature value covers the DER of the signedAttrs with the SET OF
  // tag (RFC 5652 §5.4): their content as received (read as DER below),
  // framed again, which also undoes a BER length around them.
  std::string signed_attrs_der = der::Tlv(der::kSet, attrs.content);
  if (first) {
    out->digest = *digest;
    MTAS_RETURN_IF_ERROR(ReadSignedAttributes(attrs.content, out));
    out->signed_attrs_der = std::move(signed_attrs_der);
  } else if (*digest != out->digest || signed_attrs_der != out->signed_attrs_der) {
    return Malformed("the SignerInfos differ in digest or signed attributes (they must sign the same)");
  }
  out->signer_infos.push_back(std::move(si));
  return Status::Ok();
}

// SignedData ::= SEQUENCE { version, digestAlgorithms SET OF,
//   encapContentInfo, certificates [0] IMPLICIT OPTIONAL,
//   crls [1] IMPLICIT OPTIONAL, signerInfos SET OF }.
Status ReadSignedData(std::string_view in, ParsedSignature* out) {
  int64_t version = 0;
  TlvView digest_algs, encap, certs, crls, signer_infos, signer_info;
  std::string_view content_type, unused;
  if (!der::ReadInteger(&in, &version, kBer)) return Malformed("SignedData version missing or malformed");
  MTAS_RETURN_IF_ERROR(Read(&in, der::kSet, &digest_algs, "digestAlgorithms"));
  for (std::string_view algs = digest_algs.content; !algs.empty();)
    MTAS_RETURN_IF_ERROR(ReadAlgorithm(&algs, &unused, "a digestAlgorithms entry"));
  MTAS_RETURN_IF_ERROR(Read(&in, der::kSequence, &encap, "encapContentInfo"));
  std::string_view body = encap.content;
  if (!der::ReadOid(&body, &content_type, kBer)) return Malformed("encapContentInfo has no content type");
  if (NidOfOid(content_type) != NID_pkcs7_data) return Malformed("encapsulated content type is not id-data");
  if (!body.empty()) return Malformed("SignedData is not detached");
  if (der::ReadTlv(&in, der::kContext0, &certs, kBer))
    MTAS_RETURN_IF_ERROR(ReadCertificates(certs.content, &out->certificates));
  if (der::ReadTlv(&in, der::kContext1, &crls, kBer)) MTAS_RETURN_IF_ERROR(ReadCrls(crls.content));
  MTAS_RETURN_IF_ERROR(Read(&in, der::kSet, &signer_infos, "signerInfos"));
  if (!in.empty()) return Malformed("trailing bytes in the SignedData");
  for (std::string_view sis = signer_infos.content; !sis.empty();) {
    if (out->signer_infos.size() == kMaxSignerInfos)
      return Status::Malformed("more than " + std::to_string(kMaxSignerInfos) + " SignerInfos");
    if (!der::ReadTlv(&sis, der::kSequence, &signer_info, kBer)) return Malformed("a SignerInfo is malformed");
    MTAS_RETURN_IF_ERROR(ReadSignerInfo(signer_info.content, out->signer_infos.empty(), out));
  }
  if (out->signer_infos.empty()) return Malformed("no SignerInfo");
  // One the verifier can check is needed; others beside it (a newer
  // algorithm) are skipped by verifiers that do not know them.
  bool any_known = std::any_of(out->signer_infos.begin(), out->signer_infos.end(),
                               [](const ParsedSignerInfo& si) { return si.algorithm != KeyAlgorithm::kUnknown; });
  if (!any_known) return Status::Malformed("unknown signature algorithm " + out->signer_infos[0].algorithm_name);
  return Status::Ok();
}

}  // namespace

Result<ParsedSignature> ParseSignature(std::string_view bytes) {
  if (bytes.empty()) return Status::Malformed("empty signature");
  if (bytes.size() > limits::kMaxSignatureBlob)
    return Status::Malformed("signature of " + std::to_string(bytes.size()) + " bytes exceeds the 64 KiB limit");
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }.
  std::string_view in = bytes, body, content_type;
  TlvView content_info, explicit0, signed_data;
  if (!der::ReadTlv(&in, der::kSequence, &content_info, kBer)) return Malformed("signature is not a DER CMS structure");
  if (!in.empty()) return Malformed("trailing bytes after the CMS structure");
  body = content_info.content;
  if (!der::ReadOid(&body, &content_type, kBer) || !der::ReadTlv(&body, der::kContext0, &explicit0, kBer) ||
      !body.empty())
    return Malformed("signature is not a CMS ContentInfo");
  if (NidOfOid(content_type) != NID_pkcs7_signed) return Malformed("CMS content type is not SignedData");
  body = explicit0.content;
  if (!der::ReadTlv(&body, der::kSequence, &signed_data, kBer) || !body.empty())
    return Malformed("SignedData is not one SEQUENCE");
  ParsedSignature out;
  MTAS_RETURN_IF_ERROR(ReadSignedData(signed_data.content, &out));
  return out;
}

}  // namespace mtas
