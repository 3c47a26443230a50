// CMS SignedData for MTAS: build and check (RFC 5652, RFC 8419); reading
// it is parse_signature.cc.
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "cms/attributes.h"
#include "common/der.h"
#include "common/ossl.h"
#include "keys/key_operation.h"
#include "mtas/signature.h"

namespace mtas {

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
  // One digest per recipient, sorted by digest, concatenated: a relay that
  // splits the transaction per destination gives each next hop a subset,
  // which a verifier can check recipient by recipient.
  std::vector<std::string> digests;
  for (const auto& r : rcpts) digests.push_back(HashBytes(alg, "rcpt-to:" + r + "\r\n"));
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  std::string rt;
  for (const auto& d : digests) rt += d;
  return {alg, HashBytes(alg, "mail-from:" + lower(mail_from)), rt};
}

bool RecipientsBound(const EnvelopeBinding& signed_binding, const EnvelopeBinding& given) {
  size_t n = HashBytes(given.alg, "").size();
  if (n == 0 || signed_binding.rcpt_to.size() % n != 0 || given.rcpt_to.size() % n != 0) return false;
  for (size_t i = 0; i < given.rcpt_to.size(); i += n) {
    std::string_view want = std::string_view(given.rcpt_to).substr(i, n);
    bool found = false;
    for (size_t j = 0; j < signed_binding.rcpt_to.size() && !found; j += n)
      found = std::string_view(signed_binding.rcpt_to).substr(j, n) == want;
    if (!found) return false;
  }
  return true;
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

Result<std::string> BuildSignature(const std::vector<SigningKey>& keys, const SignatureRequest& req) {
  if (keys.empty()) return Status::InvalidArgument("no signing key");
  if (keys.size() > kMaxSignerInfos)
    return Status::InvalidArgument("at most " + std::to_string(kMaxSignerInfos) + " keys sign one signature");
  for (const SigningKey& key : keys) {
    if (key.algorithm() == KeyAlgorithm::kUnknown || !key.signer()) return Status::InvalidArgument("no signing key");
    if (key.algorithm() == KeyAlgorithm::kEd25519 && req.digest != DigestAlg::kSha512)
      return Status::InvalidArgument("Ed25519 signatures use SHA-512 (RFC 8419); the content digest must be SHA-512");
  }

  // Every SignerInfo signs the same signedAttrs, with a SET OF tag (RFC
  // 5652 §5.4), so a verifier reads the attributes once whichever it checks.
  std::string attrs = SignedAttributesContent(req);
  std::string tbs = der::Tlv(der::kSet, attrs);
  const std::string& digest_alg = DigestAlgorithmDer(req.digest);

  // SignerInfo version: 3 with a subjectKeyIdentifier (a bare key), 1 with
  // issuerAndSerialNumber (a certificate); SignedData is 3 when any
  // SignerInfo is (RFC 5652 §5.1, §5.3).
  std::vector<std::string> signer_infos, certificates;
  bool any_v3 = false;
  for (const SigningKey& key : keys) {
    auto sig = key.signer()->Sign(req.digest, tbs);
    if (!sig.ok()) return sig.status();
    any_v3 = any_v3 || !key.has_real_cert();
    std::string signer_info = der::Integer(key.has_real_cert() ? 1 : 3) + key.signer_id_der() + digest_alg;
    der::AppendTlv(&signer_info, der::kContext0, attrs);  // [0] IMPLICIT SET OF Attribute
    signer_info += CachedSignatureAlgorithmDer(key.algorithm(), req.digest);
    der::AppendTlv(&signer_info, der::kOctetString, *sig);
    signer_infos.push_back(der::Tlv(der::kSequence, signer_info));
    if (req.embed_certificate && !key.certificate_der().empty() &&
        std::find(certificates.begin(), certificates.end(), key.certificate_der()) == certificates.end())
      certificates.push_back(key.certificate_der());
  }
  std::string signed_data = der::Integer(any_v3 ? 3 : 1) + der::Tlv(der::kSet, digest_alg) +
                            der::Tlv(der::kSequence, Oids().data);  // detached: no eContent
  // Both are SET OF, which DER orders by encoding (X.690 §11.6).
  if (!certificates.empty())
    signed_data += der::SetOf(std::move(certificates), der::kContext0);  // [0] IMPLICIT CertificateSet
  signed_data += der::SetOf(std::move(signer_infos));

  std::string content_info = Oids().signed_data;
  der::AppendTlv(&content_info, der::kContext0, der::Tlv(der::kSequence, signed_data));
  return der::Tlv(der::kSequence, content_info);
}

Result<std::string> BuildSignature(const SigningKey& key, const SignatureRequest& req) {
  return BuildSignature(std::vector<SigningKey>{key}, req);
}

Status CheckSignatureValue(const ParsedSignature& sig, const ParsedSignerInfo& si, const PublicKey& key) {
  KeyAlgorithm key_alg = key.algorithm();
  if (key_alg == KeyAlgorithm::kUnknown && EVP_PKEY_is_a(key.get(), "EC")) key_alg = KeyAlgorithm::kEcdsaP256;
  if (key_alg != si.algorithm)
    return Status::CryptoFailure(std::string("key is ") + std::string(KeyAlgorithmName(key_alg)) +
                                 " but the signature is " + std::string(KeyAlgorithmName(si.algorithm)));
  if (key_alg == KeyAlgorithm::kRsa && key.bits() < 1024)
    return Status::CryptoFailure("RSA key of " + std::to_string(key.bits()) + " bits refused (minimum 1024)");
  if (!key.verifier()) return Status::CryptoFailure("no key to verify with");
  auto valid = key.verifier()->Verify(sig.digest, si.signature, sig.signed_attrs_der);
  if (!valid.ok()) return valid.status();
  if (!*valid) return Status::CryptoFailure("signature value does not verify");
  return Status::Ok();
}

}  // namespace mtas
