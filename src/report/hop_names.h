// One hop's key facts as the text reports write them. Internal header.
#pragma once

#include <string>

#include "mtas/verify.h"

namespace mtas {

// One SignerInfo's algorithm: "ed25519", or the OID name of one unknown here.
inline std::string AlgorithmText(const SignerInfoReport& si) {
  return si.algorithm == KeyAlgorithm::kUnknown ? si.algorithm_name : std::string(KeyAlgorithmName(si.algorithm));
}

// "ed25519/sha512", "ed25519+rsa/sha512" for a hop signed with two keys,
// or "" before the signature could be read.
inline std::string AlgorithmText(const SignatureReport& s) {
  if (s.algorithm == KeyAlgorithm::kUnknown) return "";
  if (s.signer_infos.size() < 2) return std::string(KeyAlgorithmName(s.algorithm)) + "/" + s.digest;
  std::string out;
  for (const auto& si : s.signer_infos) out += (out.empty() ? "" : "+") + AlgorithmText(si);
  return out + "/" + s.digest;
}

// "signer info 2 (rsa): fail, the signature value does not verify", one per
// SignerInfo of a hop signed with several keys.
inline std::string SignerInfoText(const SignerInfoReport& si, size_t index) {
  std::string out = "signer info " + std::to_string(index + 1) + " (" + AlgorithmText(si) +
                    "): " + std::string(ResultName(si.result));
  if (!si.key_method.empty()) out += ", key " + si.key_method + " (" + std::string(KeyTrustName(si.key_trust)) + ")";
  if (!si.reason.empty()) out += ", " + si.reason;
  return out;
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
