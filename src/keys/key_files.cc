// Loading certificates, public and private keys from files.
#include <openssl/pem.h>

#include <algorithm>

#include "common/der.h"
#include "common/ossl.h"
#include "common/read_file.h"
#include "keys/key_operation.h"
#include "keys/pkcs11_key.h"
#include "mtas/digest.h"
#include "mtas/keys.h"

namespace mtas {
namespace {

Result<std::string> ReadKeyFile(const std::string& path) {
  auto data = ReadSmallFile(path, 1 << 20);
  if (!data.ok() && data.status().code() == Status::Code::kInvalidArgument)
    return Status::InvalidArgument(data.status().message() + ", not a key file");
  return data;
}

ossl::BioPtr MemBio(const std::string& data) {
  return ossl::BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// A self-signed stand-in certificate carrying the key's subjectKeyIdentifier,
// so that CMS_add1_signer can build a SignerInfo for a bare key.
Result<X509*> MakeStandInCert(EVP_PKEY* key, const std::string& ski) {
  ossl::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mtas bare key"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  ossl::AsnStringPtr octets(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(octets.get(), reinterpret_cast<const unsigned char*>(ski.data()), static_cast<int>(ski.size()));
  X509_add1_ext_i2d(cert.get(), NID_subject_key_identifier, octets.get(), 0, X509V3_ADD_DEFAULT);
  const EVP_MD* md = EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256();
  if (!X509_sign(cert.get(), key, md)) return Status::CryptoFailure("cannot make key stand-in: " + ossl::LastError());
  return cert.release();
}

}  // namespace

std::string_view KeyAlgorithmName(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::kEd25519:
      return "ed25519";
    case KeyAlgorithm::kEcdsaP256:
      return "ecdsa-p256";
    case KeyAlgorithm::kRsa:
      return "rsa";
    default:
      return "unknown";
  }
}

std::string_view KeyTrustName(KeyTrust trust) {
  switch (trust) {
    case KeyTrust::kNone:
      return "";
    case KeyTrust::kLocal:
      return "local";
    case KeyTrust::kPkix:
      return "pkix";
    case KeyTrust::kDnssec:
      return "dnssec";
    case KeyTrust::kHttps:
      return "https";
    case KeyTrust::kTls:
      return "tls";
    case KeyTrust::kWeak:
      return "weak";
  }
  return "";
}

// ---- Certificate ----

Certificate Certificate::Adopt(X509* cert) {
  Certificate c;
  c.cert_.reset(cert, X509_free);
  return c;
}

Result<Certificate> Certificate::FromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!cert) return Status::Malformed("not a DER X.509 certificate: " + ossl::LastError());
  return Adopt(cert);
}

Result<Certificate> Certificate::FromFile(const std::string& path) {
  auto data = ReadKeyFile(path);
  if (!data.ok()) return data.status();
  auto bio = MemBio(*data);
  if (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) return Adopt(cert);
  ERR_clear_error();
  auto der = FromDer(*data);
  if (!der.ok()) return Status::InvalidArgument(path + ": not a PEM or DER certificate");
  return der;
}

std::string Certificate::Der() const { return cert_ ? ossl::ToDer<X509>(i2d_X509, cert_.get()) : ""; }

// ---- PublicKey ----

namespace {

KeyAlgorithm AlgorithmOf(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(key, "RSA")) return KeyAlgorithm::kRsa;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) &&
        std::string_view(group) == "prime256v1")
      return KeyAlgorithm::kEcdsaP256;
  }
  return KeyAlgorithm::kUnknown;
}

// RFC 5280 §4.2.1.2 method 1.
std::string SubjectKeyIdOf(EVP_PKEY* key) {
  X509_PUBKEY* raw = nullptr;
  if (!X509_PUBKEY_set(&raw, key)) return {};
  ossl::PubkeyPtr pub(raw);
  const unsigned char* bits = nullptr;
  int len = 0;
  X509_PUBKEY_get0_param(nullptr, &bits, &len, nullptr, pub.get());
  return HashBytes(DigestAlg::kSha1, std::string_view(reinterpret_cast<const char*>(bits), static_cast<size_t>(len)));
}

}  // namespace

// What the verifier asks of a key for every message is worked out here,
// once: each of these goes through OpenSSL's provider lookups (locks and
// an encoder for the key identifier), which cost more per message than an
// RSA verification.
PublicKey PublicKey::Adopt(EVP_PKEY* key) {
  PublicKey k;
  if (!key) return k;
  k.key_.reset(key, EVP_PKEY_free);
  k.algorithm_ = AlgorithmOf(key);
  k.bits_ = EVP_PKEY_get_bits(key);
  k.subject_key_id_ = SubjectKeyIdOf(key);
  k.verifier_ = std::make_shared<const KeyOperation>(k.key_, KeyOperation::Kind::kVerify);
  return k;
}

std::string PublicKey::SpkiDer() const { return key_ ? ossl::ToDer<EVP_PKEY>(i2d_PUBKEY, key_.get()) : ""; }

// ---- SignerIdentity ----

bool SignerIdentity::Matches(const Certificate& cert) const {
  if (!cert) return false;
  if (!key_id.empty()) {
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
    if (ski && std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)),
                                static_cast<size_t>(ASN1_STRING_length(ski))) == key_id)
      return true;
    // RFC 5280 §4.2.1.2 method 1, over the certificate's own key bits: as
    // PublicKey::SubjectKeyId(), without building a key (a SignerInfo is
    // matched against every pinned certificate of its signer).
    const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert.get());
    return bits &&
           HashBytes(DigestAlg::kSha1, std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(bits)),
                                                        static_cast<size_t>(ASN1_STRING_length(bits)))) == key_id;
  }
  return ossl::ToDer<X509_NAME>(i2d_X509_NAME, X509_get_issuer_name(cert.get())) == issuer_der &&
         ossl::ToDer<ASN1_INTEGER>(i2d_ASN1_INTEGER, X509_get0_serialNumber(cert.get())) == serial_der;
}

bool SignerIdentity::Matches(const PublicKey& key) const {
  if (key_id.empty()) return true;  // issuer+serial names a certificate, not a bare key
  return key.SubjectKeyId() == key_id;
}

// ---- SigningKey ----

Result<SigningKey> SigningKey::Load(const std::string& key_path, const std::string& cert_path) {
  EVP_PKEY* raw = nullptr;
  // How messages name the key: a PKCS#11 URI without its PIN.
  const std::string key_name =
      key_path.substr(0, IsPkcs11Uri(key_path) ? key_path.find("pin-value") : std::string::npos);
  if (IsPkcs11Uri(key_path)) {  // a key that stays in its token
    auto key = LoadPkcs11Key(key_path);
    if (!key.ok()) return key.status();
    raw = *key;
  } else {
    auto data = ReadKeyFile(key_path);
    if (!data.ok()) return data.status();
    auto bio = MemBio(*data);
    raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!raw) return Status::InvalidArgument(key_path + ": not a PEM private key (" + ossl::LastError() + ")");
  }
  SigningKey sk;
  sk.key_.reset(raw, EVP_PKEY_free);
  sk.signer_ = std::make_shared<const KeyOperation>(sk.key_, KeyOperation::Kind::kSign);
  EVP_PKEY_up_ref(raw);
  sk.public_ = PublicKey::Adopt(raw);
  sk.algorithm_ = sk.public_.algorithm();
  if (sk.algorithm_ == KeyAlgorithm::kUnknown)
    return Status::InvalidArgument(key_name + ": key type not supported (use Ed25519, ECDSA P-256 or RSA)");
  if (sk.algorithm_ == KeyAlgorithm::kRsa && sk.public_.bits() < 2048)
    return Status::InvalidArgument(key_name + ": RSA keys under 2048 bits are not used for signing");
  if (!cert_path.empty()) {
    auto cert = Certificate::FromFile(cert_path);
    if (!cert.ok()) return cert.status();
    if (X509_check_private_key(cert->get(), raw) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument(cert_path + ": certificate does not match the key " + key_name);
    }
    X509_up_ref(cert->get());
    sk.cert_.reset(cert->get(), X509_free);
    sk.real_cert_ = true;
  } else {
    auto stand_in = MakeStandInCert(raw, sk.public_.SubjectKeyId());
    if (!stand_in.ok()) return stand_in.status();
    sk.cert_.reset(*stand_in, X509_free);
  }
  std::string sid, cert_der;
  if (sk.real_cert_) {
    cert_der = ossl::ToDer<X509>(i2d_X509, sk.cert_.get());
    std::string issuer_and_serial = ossl::ToDer<X509_NAME>(i2d_X509_NAME, X509_get_issuer_name(sk.cert_.get())) +
                                    ossl::ToDer<ASN1_INTEGER>(i2d_ASN1_INTEGER, X509_get0_serialNumber(sk.cert_.get()));
    sid = der::Tlv(der::kSequence, issuer_and_serial);
  } else {
    sid = der::Tlv(der::kContext0Primitive, sk.public_.SubjectKeyId());
  }
  sk.signer_id_der_ = std::make_shared<const std::string>(std::move(sid));
  sk.certificate_der_ = std::make_shared<const std::string>(std::move(cert_der));
  return sk;
}

Result<std::vector<SigningKey>> LoadSigningKeys(const std::vector<std::string>& key_paths,
                                                const std::vector<std::string>& cert_paths) {
  std::vector<std::string> cert_keys;  // subjectKeyIdentifier of each certificate's public key
  for (const auto& path : cert_paths) {
    auto cert = Certificate::FromFile(path);
    if (!cert.ok()) return cert.status();
    cert_keys.push_back(PublicKey::Adopt(X509_get_pubkey(cert->get())).SubjectKeyId());
  }
  std::vector<SigningKey> keys;
  std::vector<bool> used(cert_paths.size(), false);
  for (const auto& path : key_paths) {
    auto key = SigningKey::Load(path);
    if (!key.ok()) return key.status();
    auto it = std::find(cert_keys.begin(), cert_keys.end(), key->public_key().SubjectKeyId());
    if (it != cert_keys.end()) {
      size_t i = static_cast<size_t>(it - cert_keys.begin());
      used[i] = true;
      key = SigningKey::Load(path, cert_paths[i]);
      if (!key.ok()) return key.status();
    }
    keys.push_back(std::move(*key));
  }
  for (size_t i = 0; i < cert_paths.size(); ++i)
    if (!used[i]) return Status::InvalidArgument(cert_paths[i] + ": the certificate holds none of the signing keys");
  return keys;
}

Status LoadPublicKeyFile(const std::string& path, PublicKey* key, Certificate* cert) {
  auto data = ReadKeyFile(path);
  if (!data.ok()) return data.status();
  {
    auto bio = MemBio(*data);
    if (EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)) {
      *key = PublicKey::Adopt(k);
      return Status::Ok();
    }
  }
  {
    auto bio = MemBio(*data);
    if (EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)) {
      *key = PublicKey::Adopt(k);
      return Status::Ok();
    }
  }
  ERR_clear_error();
  auto c = Certificate::FromFile(path);
  if (!c.ok()) return Status::InvalidArgument(path + ": not a public key, private key or certificate");
  *cert = *c;
  *key = PublicKey::Adopt(X509_get_pubkey(c->get()));
  return Status::Ok();
}

}  // namespace mtas
