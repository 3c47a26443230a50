// The CMS SignedData and MTAS attribute decoder, then the signature check
// with the key fuzz/run.sh made for its seed corpus.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mtas/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mtas::PublicKey key = [] {
    mtas::PublicKey k;
    mtas::Certificate cert;
    if (const char* pin = std::getenv("MTAS_FUZZ_KEY")) (void)mtas::LoadPublicKeyFile(pin, &k, &cert);
    return k;
  }();
  auto sig = mtas::ParseSignature(std::string_view(reinterpret_cast<const char*>(data), size));
  if (sig.ok() && key) (void)mtas::CheckSignatureValue(*sig, key);
  return 0;
}
