// Keys: signing keys (parsed once), public keys and certificates, and the
// KeyResolver interface through which the verifier finds a signer's key.
//
// Resolvers for DNS and HTTP key services plug in behind KeyResolver; this
// file has the local ones: keys pinned per signer, and embedded
// certificates validated against a CA file (PKIX).
#pragma once

#include <openssl/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/status.h"

namespace mtas {

class KeyOperation;  // src/cms/key_operation.h

enum class KeyAlgorithm { kEd25519, kEcdsaP256, kRsa, kUnknown };
std::string_view KeyAlgorithmName(KeyAlgorithm alg);  // "ed25519", "ecdsa-p256", "rsa"

// How a found key is vouched for, strongest first: pinned by the
// administrator, a certificate chaining to a trusted CA, DNSSEC, an https
// server's certificate, an ldaps directory's certificate (kTls); kWeak:
// plain DNS or http, ftp, tftp, ldap.
enum class KeyTrust { kNone, kLocal, kPkix, kDnssec, kHttps, kTls, kWeak };
std::string_view KeyTrustName(KeyTrust trust);  // "", "local", "pkix", "dnssec", "https", "tls", "weak"

// An X.509 certificate (shared, immutable).
class Certificate {
 public:
  Certificate() = default;
  static Result<Certificate> FromFile(const std::string& path);  // PEM or DER
  static Result<Certificate> FromDer(std::string_view der);
  static Certificate Adopt(X509* cert);  // takes ownership
  X509* get() const { return cert_.get(); }
  explicit operator bool() const { return static_cast<bool>(cert_); }
  std::string Der() const;

 private:
  std::shared_ptr<X509> cert_;
};

// A public key (shared, immutable).
class PublicKey {
 public:
  PublicKey() = default;
  static PublicKey Adopt(EVP_PKEY* key);  // takes ownership
  EVP_PKEY* get() const { return key_.get(); }
  explicit operator bool() const { return static_cast<bool>(key_); }
  KeyAlgorithm algorithm() const { return algorithm_; }
  int bits() const { return bits_; }
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING.
  const std::string& SubjectKeyId() const { return subject_key_id_; }
  // SubjectPublicKeyInfo DER.
  std::string SpkiDer() const;
  // Verifying with this key, contexts prepared once (internal).
  const KeyOperation* verifier() const { return verifier_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<const KeyOperation> verifier_;
  KeyAlgorithm algorithm_ = KeyAlgorithm::kUnknown;  // these three are computed once, in Adopt
  int bits_ = 0;
  std::string subject_key_id_;
};

// Who signed, as the SignerInfo says (RFC 5652 §5.3 sid).
struct SignerIdentity {
  std::string key_id;      // subjectKeyIdentifier, or empty
  std::string issuer_der;  // issuerAndSerialNumber, or empty
  std::string serial_der;
  bool Matches(const Certificate& cert) const;
  bool Matches(const PublicKey& key) const;  // key_id only; true when sid is issuer+serial
};

// A private key with what the CMS SignerInfo needs, loaded once.
class SigningKey {
 public:
  // key_path: PEM private key file, or a PKCS#11 URI ("pkcs11:token=…;
  // object=…;pin-source=file:…") for a key that stays in its token (through
  // OpenSSL's pkcs11 engine). cert_path: optional PEM/DER certificate
  // (then sid = issuerAndSerialNumber, else subjectKeyIdentifier).
  static Result<SigningKey> Load(const std::string& key_path, const std::string& cert_path = "");
  EVP_PKEY* key() const { return key_.get(); }
  // The certificate CMS_add1_signer gets: the real one, or (bare key) a
  // self-signed stand-in that carries the subjectKeyIdentifier and is
  // never put into a signature.
  X509* signer_cert() const { return cert_.get(); }
  bool has_real_cert() const { return real_cert_; }
  KeyAlgorithm algorithm() const { return algorithm_; }
  PublicKey public_key() const { return public_; }
  // How a SignedData names this key, encoded once at load: the DER of the
  // SignerIdentifier (issuerAndSerialNumber with a real certificate, else
  // [0] subjectKeyIdentifier), and of the certificate (empty without one).
  const std::string& signer_id_der() const { return *signer_id_der_; }
  const std::string& certificate_der() const { return *certificate_der_; }
  // Signing with this key, contexts prepared once (internal).
  const KeyOperation* signer() const { return signer_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<const KeyOperation> signer_;
  std::shared_ptr<X509> cert_;
  std::shared_ptr<const std::string> signer_id_der_ = std::make_shared<const std::string>();
  std::shared_ptr<const std::string> certificate_der_ = signer_id_der_;
  PublicKey public_;
  bool real_cert_ = false;
  KeyAlgorithm algorithm_ = KeyAlgorithm::kUnknown;
};

// Loads the keys one hop signs with together (SigningKey::Load each); each
// certificate goes with the key whose public key it holds, and one that
// holds none of them is an error.
Result<std::vector<SigningKey>> LoadSigningKeys(const std::vector<std::string>& key_paths,
                                                const std::vector<std::string>& cert_paths);

// Reads a public key from a file holding a PEM public key, a PEM private
// key, or a PEM/DER certificate. `cert` is set when it was a certificate.
Status LoadPublicKeyFile(const std::string& path, PublicKey* key, Certificate* cert);

// What the verifier asks a resolver.
struct KeyRequest {
  std::string signer;    // signed `signer` attribute (FQDN)
  std::string services;  // signed verificationServices
  SignerIdentity sid;
  std::vector<Certificate> embedded;  // certificates in the SignedData
  int* lookup_budget = nullptr;       // network lookups this message may still make
  // Whether the signature verifies with a key: for candidates the signer
  // identifier cannot tell apart (issuerAndSerialNumber against a bare key).
  std::function<bool(const PublicKey&)> verifies;
  // Service entries this message may still try, answers from the cache
  // included: each costs key matching, and signatures x SignerInfos x
  // services are the attacker's to choose.
  int* service_budget = nullptr;
};

struct KeyLookup {
  enum class Outcome {
    kFound,
    kNoKey,      // nothing usable, not temporary (neutral)
    kTemporary,  // timeout, network (temperror)
    kMalformed,  // a published record is broken (permerror)
    kRejected,   // evidence against the key: bogus DNSSEC, bad chain (fail)
    // The signer's keys were found and none is the one that signed: a fail
    // for a signature's only SignerInfo; beside a SignerInfo that verifies,
    // a key this verifier does not know (a new key not yet published).
    kOtherKey,
  };
  Outcome outcome = Outcome::kNoKey;
  PublicKey key;
  Certificate cert;    // when the key came in a certificate
  std::string method;  // "pinned", "pkix", later "domain:key:email", …
  KeyTrust trust = KeyTrust::kNone;
  std::string reason;              // one line, for the report
  std::vector<std::string> notes;  // services skipped (unsupported, budget)

  // How much an outcome weighs when sources disagree:
  // rejected > other key > temporary > malformed > no key > found.
  static int Severity(Outcome o);
};

// Thread safety: Certificate, PublicKey and SigningKey are immutable and
// cheap to copy (shared handles). The resolvers here are thread-safe once
// set up (Add and FromCaFile before sharing); a resolver of one's own that
// a shared Verifier uses must be too.
class KeyResolver {
 public:
  virtual ~KeyResolver() = default;
  virtual KeyLookup Resolve(const KeyRequest& request) = 0;
};

// Keys or certificates an administrator pins per signer FQDN.
class PinnedKeyResolver final : public KeyResolver {
 public:
  Status Add(const std::string& signer, const std::string& path);
  KeyLookup Resolve(const KeyRequest& request) override;
  bool empty() const { return keys_.empty(); }

 private:
  struct Entry {
    PublicKey key;
    Certificate cert;
    std::string path;
  };
  std::multimap<std::string, Entry> keys_;  // lowercase signer
};

// The embedded certificate chain validated against a CA file (or, with an
// empty name, the system trust store); the DNS SAN must match the signer.
class PkixResolver final : public KeyResolver {
 public:
  static Result<std::unique_ptr<PkixResolver>> FromCaFile(const std::string& ca_file);
  ~PkixResolver() override;
  KeyLookup Resolve(const KeyRequest& request) override;

 private:
  PkixResolver() = default;
  // Without a CA file: the system's hashed directory, and its bundle file
  // (SSL_CERT_FILE, else OpenSSL's default), loaded the first time a chain
  // finds no issuer there, as on systems without hashed links.
  void LoadSystemBundleOnce();
  X509_STORE* store_ = nullptr;
  bool system_store_ = false;
  std::once_flag bundle_loaded_;
};

// Tries resolvers in order; the first that finds a key, or that has
// evidence against it (kRejected: a pinned key that is not the signer's),
// decides. Otherwise the most serious outcome is reported (temporary >
// malformed > no key).
class ChainResolver final : public KeyResolver {
 public:
  void Add(std::unique_ptr<KeyResolver> r) { resolvers_.push_back(std::move(r)); }
  KeyLookup Resolve(const KeyRequest& request) override;
  bool empty() const { return resolvers_.empty(); }

 private:
  std::vector<std::unique_ptr<KeyResolver>> resolvers_;
};

// Key generation for `mtas keygen`.
struct KeygenResult {
  std::string key_pem;
  std::string cert_pem;
  std::string cert_der;
};
Result<KeygenResult> GenerateKey(std::string_view algorithm, const std::string& signer, int valid_days = 730);

}  // namespace mtas
