// The mtasd configuration parser (key/value lines, tables, CIDR lists).
#include <cstdint>
#include <string_view>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto config = mtasd::ParseConfig(in, "fuzz.conf", "/nonexistent");
  if (config.ok()) {
    (void)mtasd::KeyFor(*config, "example.com");
    (void)mtasd::IsInternal(*config, "192.0.2.1");
    (void)mtasd::IsInternal(*config, "2001:db8::1");
  }
  return 0;
}
