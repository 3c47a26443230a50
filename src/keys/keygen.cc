// Key and self-signed certificate generation for `mtas keygen`.
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/ossl.h"
#include "mtas/keys.h"

namespace mtas {
namespace {

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ossl::ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    return Status::CryptoFailure("certificate extension: " + ossl::LastError());
  return Status::Ok();
}

}  // namespace

Result<KeygenResult> GenerateKey(std::string_view algorithm, const std::string& signer, int valid_days) {
  EVP_PKEY* raw = nullptr;
  if (algorithm == "ed25519")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else if (algorithm == "ecdsa-p256")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (algorithm == "rsa2048")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (algorithm == "rsa3072")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
  else
    return Status::InvalidArgument("unknown algorithm '" + std::string(algorithm) +
                                   "' (use ed25519, ecdsa-p256, rsa2048 or rsa3072)");
  if (!raw) return Status::CryptoFailure("key generation failed: " + ossl::LastError());
  ossl::PkeyPtr key(raw);

  ossl::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  ossl::AsnIntegerPtr sn(ASN1_INTEGER_new());
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, sn.get());
  BN_free(bn);
  X509_set_serialNumber(cert.get(), sn.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(signer.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * valid_days);
  X509_set_pubkey(cert.get(), key.get());
  std::string san = "DNS:" + signer;
  MTAS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, san.c_str()));
  MTAS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  MTAS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  MTAS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  const EVP_MD* md = EVP_PKEY_is_a(key.get(), "ED25519") ? nullptr : EVP_sha256();
  if (!X509_sign(cert.get(), key.get(), md)) return Status::CryptoFailure("certificate signing: " + ossl::LastError());

  KeygenResult out;
  ossl::BioPtr kb(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = BioToString(kb.get());
  ossl::BioPtr cb(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cb.get(), cert.get());
  out.cert_pem = BioToString(cb.get());
  out.cert_der = ossl::ToDer<X509>(i2d_X509, cert.get());
  return out;
}

}  // namespace mtas
