// OpenPGP key data as a key server or `gpg --export-secret-keys` gives it.
// The first 40 bytes are the fingerprint looked up, the rest the key data.
#include <cstdint>
#include <string_view>

#include "mtas/openpgp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view fingerprint = in.substr(0, 40), keys = in.substr(in.size() < 40 ? in.size() : 40);
  (void)mtas::ReadOpenPgpKey(keys, fingerprint);
  (void)mtas::ReadOpenPgpSecretKey(keys, fingerprint);
  (void)mtas::ReadOpenPgpSecretKey(keys, "");
  return 0;
}
