// One hop's key facts as the text reports write them. Internal header.
#pragma once

#include <string>

#include "mtas/verify.h"

namespace mtas {

// "ed25519/sha512", or "" before the signature could be read.
inline std::string AlgorithmText(const SignatureReport& s) {
  if (s.algorithm == KeyAlgorithm::kUnknown) return "";
  return std::string(KeyAlgorithmName(s.algorithm)) + "/" + s.digest;
}

// "body" or "header", or "" when no carrier was found.
inline std::string CarrierText(const SignatureReport& s) {
  return s.carrier ? std::string(CarrierName(*s.carrier)) : "";
}

// "domain:key:email (dnssec)", or "" when no key was found.
inline std::string KeyText(const SignatureReport& s) {
  if (s.key_method.empty()) return "";
  std::string trust(KeyTrustName(s.key_trust));
  return trust.empty() ? s.key_method : s.key_method + " (" + trust + ")";
}

}  // namespace mtas
