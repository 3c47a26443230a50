// Signing or verifying with one key, with OpenSSL's contexts prepared once.
// Internal header.
//
// OpenSSL 3 looks up an algorithm's implementation, under its global locks,
// each time a signing or verifying context is initialised
// (EVP_DigestSignInit_ex and friends). For ECDSA P-256 that look-up cost a
// third of a whole 4 KB message's signature. A KeyOperation initialises one
// context per digest on first use and then works on a copy of it for each
// message. The copies are independent, so threads share a KeyOperation.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>

#include "common/ossl.h"
#include "mtas/digest.h"
#include "mtas/status.h"

namespace mtas {

class KeyOperation {
 public:
  enum class Kind { kSign, kVerify };
  // `key` is shared with the object that owns this one. Ed25519 keys hash
  // inside the signature (RFC 8032) and ignore `digest` below.
  KeyOperation(std::shared_ptr<EVP_PKEY> key, Kind kind);
  KeyOperation(const KeyOperation&) = delete;
  KeyOperation& operator=(const KeyOperation&) = delete;

  // The signature over `tbs` (kSign only).
  Result<std::string> Sign(DigestAlg digest, std::string_view tbs) const;
  // Whether `signature` is a valid signature over `tbs` (kVerify only).
  // Fails with CryptoFailure when the key cannot be used at all.
  Result<bool> Verify(DigestAlg digest, std::string_view signature, std::string_view tbs) const;

 private:
  // The prepared context for one digest. Ed25519 keeps a message-digest
  // context (its signature is one-shot over the message); RSA and ECDSA a
  // public-key context that takes the digest we compute.
  struct Prepared {
    std::once_flag once;
    ossl::MdCtxPtr eddsa;
    ossl::PkeyCtxPtr pkey;
    std::string error;  // why preparing failed, when both are empty
  };
  const Prepared& PreparedFor(DigestAlg digest) const;

  std::shared_ptr<EVP_PKEY> key_;
  Kind kind_;
  bool eddsa_;
  mutable std::array<Prepared, kDigestAlgCount> prepared_;
};

}  // namespace mtas
