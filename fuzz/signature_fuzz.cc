// The CMS SignedData and MTAS attribute reader, then the signature check
// with the key fuzz/run.sh made for its seed corpus. What the reader (a DER
// walk) accepts and OpenSSL's CMS parser accepts too must read the same:
// tests/support/cms_oracle.h compares every field, and a difference aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mtas/signature.h"
#include "support/cms_oracle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mtas::PublicKey key = [] {
    mtas::PublicKey k;
    mtas::Certificate cert;
    if (const char* pin = std::getenv("MTAS_FUZZ_KEY")) (void)mtas::LoadPublicKeyFile(pin, &k, &cert);
    return k;
  }();
  std::string_view der(reinterpret_cast<const char*>(data), size);
  auto sig = mtas::ParseSignature(der);
  if (!sig.ok()) return 0;
  auto verdict = mtas::test::CompareWithOpenSsl(der, *sig);
  if (verdict.openssl_accepts && !verdict.difference.empty()) {
    std::fprintf(stderr, "the DER walk and OpenSSL read %s differently\n", verdict.difference.c_str());
    std::abort();
  }
  if (key) (void)mtas::CheckSignatureValue(*sig, sig->signer_infos.front(), key);
  return 0;
}
