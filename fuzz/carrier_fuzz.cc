// Parsers of header field values: tracking header, MTAS-Signature, MIME
// parameters and Content-Type.
#include <cstdint>
#include <string_view>

#include "carrier/carrier.h"
#include "mtas/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mtas::ParseTracking(in);
  (void)mtas::ParseSignatureField(in);
  (void)mtas::ParseParams(in);
  (void)mtas::ContentType::Parse(in);
  (void)mtas::ParseTransferEncoding(in);
  return 0;
}
