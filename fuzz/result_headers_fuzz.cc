// The result-header parsers (MTAS-VerificationInfo, Authentication-Results).
// Whatever parses must survive format-then-parse: what we write from a
// parsed header is something we can read back.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mtas/result_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto info = mtas::ParseVerificationInfo(in); info.ok()) {
    if (!mtas::ParseVerificationInfo(mtas::FormatVerificationInfoValue(*info)).ok()) std::abort();
  }
  if (auto ar = mtas::ParseAuthResults(in); ar.ok()) {
    std::string field = mtas::FormatAuthResults(*ar, "\r\n");
    (void)mtas::FoldField(field, "\n", 40);
  }
  return 0;
}
