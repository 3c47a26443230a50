// DNS key record parsers and the service-string parser.
#include <cstdint>
#include <string_view>

#include "mtas/key_records.h"
#include "mtas/services.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mtas::ParseKeyRecord(in);
  (void)mtas::ParseCertRecord(in);
  auto text = mtas::TxtRecordText(in);
  if (text.ok()) (void)mtas::ParseDkimKey(*text);
  (void)mtas::ParseDkimKey(in);
  (void)mtas::ParseServices(in);
  return 0;
}
