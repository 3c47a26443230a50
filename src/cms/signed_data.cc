// CMS SignedData for MTAS: build, parse, check (RFC 5652, RFC 8419).
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <optional>

#include "cms/attributes.h"
#include "cms/der.h"
#include "cms/key_operation.h"
#include "cms/ossl.h"
#include "mtas/limits.h"
#include "mtas/signature.h"

namespace mtas {
namespace {

// The signedAttrs as a SET OF Attribute: the bytes a CMS signature value
// covers (RFC 5652 §5.4). Taken as received, with the [0] IMPLICIT tag made
// SET again, as OpenSSL's CMS verification does; that saves re-encoding
// every attribute (a fifth of parsing a signature). `der` is the ContentInfo
// that d2i_CMS_ContentInfo accepted with exactly one SignerInfo.
std::optional<std::string> ReceivedSignedAttributes(std::string_view der) {
  der::TlvView content_info, oid, explicit0, signed_data, skip, signer_infos, signer_info, attrs;
  std::string_view in = der;
  if (!der::ReadTlv(&in, der::kSequence, &content_info)) return std::nullopt;
  in = content_info.content;
  if (!der::ReadTlv(&in, der::kObjectIdentifier, &oid) || !der::ReadTlv(&in, der::kContext0, &explicit0))
    return std::nullopt;
  in = explicit0.content;
  if (!der::ReadTlv(&in, der::kSequence, &signed_data)) return std::nullopt;
  in = signed_data.content;
  // version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls
  if (!der::ReadTlv(&in, der::kInteger, &skip) || !der::ReadTlv(&in, der::kSet, &skip) ||
      !der::ReadTlv(&in, der::kSequence, &skip))
    return std::nullopt;
  der::ReadTlv(&in, der::kContext0, &skip);
  der::ReadTlv(&in, der::kContext1, &skip);
  if (!der::ReadTlv(&in, der::kSet, &signer_infos)) return std::nullopt;
  in = signer_infos.content;
  if (!der::ReadTlv(&in, der::kSequence, &signer_info)) return std::nullopt;
  in = signer_info.content;
  // version, sid (issuerAndSerialNumber or [0] subjectKeyIdentifier), digestAlgorithm
  if (!der::ReadTlv(&in, der::kInteger, &skip) || !der::ReadTlv(&in, &skip) ||
      !der::ReadTlv(&in, der::kSequence, &skip) || !der::ReadTlv(&in, der::kContext0, &attrs))
    return std::nullopt;
  std::string out(attrs.whole);
  out[0] = static_cast<char>(der::kSet);
  return out;
}

// The same bytes re-encoded from what OpenSSL parsed, for a SignedData that
// is not framed as DER (ReceivedSignedAttributes gave up on it).
std::string ReencodedSignedAttributes(CMS_SignerInfo* si) {
  std::string content;
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i)
    content += ossl::ToDer<X509_ATTRIBUTE>(i2d_X509_ATTRIBUTE, CMS_signed_get_attr(si, i));
  return der::Tlv(der::kSet, content);
}

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

std::string StringOf(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

EnvelopeBinding BindEnvelope(DigestAlg alg, const std::string& mail_from, const std::vector<std::string>& rcpt_to) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!s.empty() && (s.front() == '<' || s.front() == ' ')) s.erase(s.begin());
    while (!s.empty() && (s.back() == '>' || s.back() == ' ')) s.pop_back();
    return s;
  };
  std::vector<std::string> rcpts;
  for (const auto& r : rcpt_to) rcpts.push_back(lower(r));
  std::sort(rcpts.begin(), rcpts.end());
  std::string rt;
  for (const auto& r : rcpts) rt += "rcpt-to:" + r + "\r\n";
  return {alg, HashBytes(alg, "mail-from:" + lower(mail_from)), HashBytes(alg, rt)};
}

namespace {

// AlgorithmIdentifier DER for a digest, as CMS_add1_signer writes it
// (X509_ALGOR_set_md: parameters absent for SHA-2).
const std::string& DigestAlgorithmDer(DigestAlg alg) {
  static const auto ders = [] {
    std::array<std::string, kDigestAlgCount> out;
    for (DigestAlg a : {DigestAlg::kSha1, DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512}) {
      ossl::AlgorPtr algor(X509_ALGOR_new());
      X509_ALGOR_set_md(algor.get(), EVP_get_digestbyname(DigestOpenSslName(a)));
      out[static_cast<size_t>(a)] = ossl::ToDer<X509_ALGOR>(i2d_X509_ALGOR, algor.get());
    }
    return out;
  }();
  return ders[static_cast<size_t>(alg)];
}

// The signatureAlgorithm: id-Ed25519 (RFC 8419), rsaEncryption with NULL
// parameters (RFC 3370 §3.2), or ecdsa-with-SHAx (RFC 5753 §7.1.3).
std::string SignatureAlgorithmDer(KeyAlgorithm key, DigestAlg digest) {
  ossl::AlgorPtr algor(X509_ALGOR_new());
  switch (key) {
    case KeyAlgorithm::kEd25519:
      X509_ALGOR_set0(algor.get(), OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, nullptr);
      break;
    case KeyAlgorithm::kRsa:
      X509_ALGOR_set0(algor.get(), OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, nullptr);
      break;
    default: {
      int sig_nid = NID_undef;
      OBJ_find_sigid_by_algs(&sig_nid, DigestNid(digest), NID_X9_62_id_ecPublicKey);
      X509_ALGOR_set0(algor.get(), OBJ_nid2obj(sig_nid), V_ASN1_UNDEF, nullptr);
    }
  }
  return ossl::ToDer<X509_ALGOR>(i2d_X509_ALGOR, algor.get());
}

const std::string& CachedSignatureAlgorithmDer(KeyAlgorithm key, DigestAlg digest) {
  static const auto ders = [] {
    std::array<std::array<std::string, kDigestAlgCount>, 3> out;
    for (KeyAlgorithm k : {KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kRsa})
      for (DigestAlg d : {DigestAlg::kSha1, DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512})
        out[static_cast<size_t>(k)][static_cast<size_t>(d)] = SignatureAlgorithmDer(k, d);
    return out;
  }();
  return ders[static_cast<size_t>(key)][static_cast<size_t>(digest)];
}

// The DER of the fixed object identifiers a SignedData names, encoded once.
struct FixedOids {
  std::string data = ObjectDer(OBJ_nid2obj(NID_pkcs7_data));
  std::string signed_data = ObjectDer(OBJ_nid2obj(NID_pkcs7_signed));
  std::string content_type = ObjectDer(OBJ_nid2obj(NID_pkcs9_contentType));
  std::string message_digest = ObjectDer(OBJ_nid2obj(NID_pkcs9_messageDigest));
  std::string signing_time = ObjectDer(OBJ_nid2obj(NID_pkcs9_signingTime));
};
const FixedOids& Oids() {
  static const FixedOids oids;
  return oids;
}

// signingTime as ASN1_TIME_set writes it (RFC 5280 §4.1.2.5): UTCTime for
// 1950 to 2049, GeneralizedTime outside.
std::string SigningTimeDer(std::time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  int year = tm.tm_year + 1900;
  char buf[32];
  bool utc = year >= 1950 && year < 2050;
  int n = utc ? std::snprintf(buf, sizeof buf, "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec)
              : std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                              tm.tm_min, tm.tm_sec);
  return der::Tlv(utc ? der::kUtcTime : der::kGeneralizedTime, std::string_view(buf, static_cast<size_t>(n)));
}

// The content of the signedAttrs SET OF, sorted: the standard attributes
// (RFC 5652 §11) and one per MTAS value.
std::string SignedAttributesContent(const SignatureRequest& req) {
  std::vector<std::string> attrs = EncodeMtasAttributes(req.attrs);
  attrs.push_back(AttributeDer(Oids().content_type, Oids().data));
  attrs.push_back(AttributeDer(Oids().message_digest, der::Tlv(der::kOctetString, req.content_digest)));
  attrs.push_back(AttributeDer(Oids().signing_time, SigningTimeDer(req.signing_time)));
  std::sort(attrs.begin(), attrs.end(), der::SetOfLess);
  std::string content;
  for (const auto& a : attrs) content += a;
  return content;
}

}  // namespace

Result<std::string> BuildSignature(const SigningKey& key, const SignatureRequest& req) {
  DigestAlg digest = key.algorithm() == KeyAlgorithm::kEd25519 ? DigestAlg::kSha512 : req.digest;
  if (digest != req.digest)
    return Status::InvalidArgument("Ed25519 signatures use SHA-512 (RFC 8419); the content digest must be SHA-512");
  if (key.algorithm() == KeyAlgorithm::kUnknown) return Status::InvalidArgument("no signing key");

  // The signature covers the signedAttrs with a SET OF tag (RFC 5652 §5.4).
  std::string attrs = SignedAttributesContent(req);
  std::string tbs = der::Tlv(der::kSet, attrs);
  if (!key.signer()) return Status::InvalidArgument("no signing key");
  auto sig = key.signer()->Sign(digest, tbs);
  if (!sig.ok()) return sig.status();

  // SignerInfo and SignedData versions: 3 with a subjectKeyIdentifier (a
  // bare key), 1 with issuerAndSerialNumber (a certificate); RFC 5652 §5.1, §5.3.
  std::string version = der::Integer(key.has_real_cert() ? 1 : 3);
  const std::string& digest_alg = DigestAlgorithmDer(digest);

  std::string signer_info = version + key.signer_id_der() + digest_alg;
  der::AppendTlv(&signer_info, der::kContext0, attrs);  // [0] IMPLICIT SET OF Attribute
  signer_info += CachedSignatureAlgorithmDer(key.algorithm(), digest);
  der::AppendTlv(&signer_info, der::kOctetString, *sig);

  std::string signed_data =
      version + der::Tlv(der::kSet, digest_alg) + der::Tlv(der::kSequence, Oids().data);  // detached: no eContent
  if (req.embed_certificate && !key.certificate_der().empty())
    der::AppendTlv(&signed_data, der::kContext0, key.certificate_der());  // [0] IMPLICIT CertificateSet
  der::AppendTlv(&signed_data, der::kSet, der::Tlv(der::kSequence, signer_info));

  std::string content_info = Oids().signed_data;
  der::AppendTlv(&content_info, der::kContext0, der::Tlv(der::kSequence, signed_data));
  return der::Tlv(der::kSequence, content_info);
}

Result<ParsedSignature> ParseSignature(std::string_view der) {
  if (der.empty()) return Status::Malformed("empty signature");
  if (der.size() > limits::kMaxSignatureBlob)
    return Status::Malformed("signature of " + std::to_string(der.size()) + " bytes exceeds the 64 KiB limit");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* start = p;
  ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) {
    ERR_clear_error();
    return Status::Malformed("signature is not a DER CMS structure");
  }
  if (p != start + der.size()) return Status::Malformed("trailing bytes after the CMS structure");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return Status::Malformed("CMS content type is not SignedData");
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_pkcs7_data)
    return Status::Malformed("encapsulated content type is not id-data");
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (content && *content) return Status::Malformed("SignedData is not detached");
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(sis) != 1) return Status::Malformed("expected exactly one SignerInfo");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);

  ParsedSignature out;
  X509_ALGOR *dig = nullptr, *sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, &sig_alg);
  auto digest = DigestFromNid(OBJ_obj2nid(dig->algorithm));
  if (!digest.ok()) return Status::Malformed(digest.status().message());
  out.digest = *digest;
  out.signature_nid = OBJ_obj2nid(sig_alg->algorithm);
  out.algorithm = AlgorithmOfSignatureNid(out.signature_nid);
  if (out.algorithm == KeyAlgorithm::kUnknown) {
    char name[80];
    OBJ_obj2txt(name, sizeof name, sig_alg->algorithm, 0);
    return Status::Malformed(std::string("unknown signature algorithm ") + name);
  }

  ASN1_OCTET_STRING* keyid = nullptr;
  X509_NAME* issuer = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial) != 1)
    return Status::Malformed("SignerInfo has no signer identifier");
  if (keyid) out.sid.key_id = StringOf(keyid);
  if (issuer) out.sid.issuer_der = ossl::ToDer<X509_NAME>(i2d_X509_NAME, issuer);
  if (serial) out.sid.serial_der = ossl::ToDer<ASN1_INTEGER>(i2d_ASN1_INTEGER, serial);
  out.signature = StringOf(CMS_SignerInfo_get0_signature(si));

  int count = CMS_signed_get_attr_count(si);
  if (count <= 0) return Status::Malformed("SignerInfo has no signed attributes");
  std::vector<bool> seen(kMtasAttrCount + 1, false);
  bool have_ct = false, have_md = false;
  for (int i = 0; i < count; ++i) {
    X509_ATTRIBUTE* a = CMS_signed_get_attr(si, i);
    const ASN1_OBJECT* obj = X509_ATTRIBUTE_get0_object(a);
    int nid = OBJ_obj2nid(obj);
    auto mtas = MtasAttrOf(obj);
    if (!mtas && nid != NID_pkcs9_contentType && nid != NID_pkcs9_messageDigest && nid != NID_pkcs9_signingTime)
      continue;  // unknown attributes are ignored (spec §3.1, goal 7)
    if (X509_ATTRIBUTE_count(a) != 1) return Status::Malformed("a signed attribute does not have exactly one value");
    const ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(a, 0);
    if (mtas) {
      MTAS_RETURN_IF_ERROR(DecodeMtasAttribute(*mtas, v, &out.attrs, &seen));
    } else if (nid == NID_pkcs9_contentType) {
      if (have_ct || !v || v->type != V_ASN1_OBJECT || OBJ_obj2nid(v->value.object) != NID_pkcs7_data)
        return Status::Malformed("contentType attribute is not a single id-data");
      have_ct = true;
    } else if (nid == NID_pkcs9_messageDigest) {
      if (have_md || !v || v->type != V_ASN1_OCTET_STRING)
        return Status::Malformed("messageDigest attribute malformed");
      out.message_digest = StringOf(v->value.octet_string);
      have_md = true;
    } else if (nid == NID_pkcs9_signingTime) {
      if (!v || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
        return Status::Malformed("signingTime attribute malformed");
      struct tm tm {};
      if (ASN1_TIME_to_tm(v->value.utctime, &tm) != 1) return Status::Malformed("signingTime unreadable");
      out.signing_time = timegm(&tm);
    }
  }
  if (!have_ct || !have_md) return Status::Malformed("contentType or messageDigest attribute missing");
  if (out.attrs.msgid.empty()) return Status::Malformed("msgid attribute missing");
  if (out.attrs.signer.empty()) return Status::Malformed("signer attribute missing");
  auto received = ReceivedSignedAttributes(der);
  out.signed_attrs_der = received ? std::move(*received) : ReencodedSignedAttributes(si);

  if (STACK_OF(X509)* certs = CMS_get1_certs(cms.get())) {
    for (int i = 0; i < sk_X509_num(certs); ++i)
      out.certificates.push_back(Certificate::Adopt(sk_X509_value(certs, i)));
    sk_X509_free(certs);  // the Certificates own the references now
  }
  ERR_clear_error();
  return out;
}

Status CheckSignatureValue(const ParsedSignature& sig, const PublicKey& key) {
  KeyAlgorithm key_alg = key.algorithm();
  if (key_alg == KeyAlgorithm::kUnknown && EVP_PKEY_is_a(key.get(), "EC")) key_alg = KeyAlgorithm::kEcdsaP256;
  if (key_alg != sig.algorithm)
    return Status::CryptoFailure(std::string("key is ") + std::string(KeyAlgorithmName(key_alg)) +
                                 " but the signature is " + std::string(KeyAlgorithmName(sig.algorithm)));
  if (key_alg == KeyAlgorithm::kRsa && key.bits() < 1024)
    return Status::CryptoFailure("RSA key of " + std::to_string(key.bits()) + " bits refused (minimum 1024)");
  if (!key.verifier()) return Status::CryptoFailure("no key to verify with");
  auto valid = key.verifier()->Verify(sig.digest, sig.signature, sig.signed_attrs_der);
  if (!valid.ok()) return valid.status();
  if (!*valid) return Status::CryptoFailure("signature value does not verify");
  return Status::Ok();
}

}  // namespace mtas
