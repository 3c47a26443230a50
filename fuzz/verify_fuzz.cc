// The whole verifier on any message, with a pinned key for the signer the
// seed corpus uses (fuzz/run.sh makes it).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mtas/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mtas::PinnedKeyResolver* keys = [] {
    auto* r = new mtas::PinnedKeyResolver();  // lives for the process
    if (const char* pin = std::getenv("MTAS_FUZZ_KEY")) (void)r->Add("fuzz.example.com", pin);
    return r;
  }();
  mtas::VerifyOptions opt;
  opt.resolver = keys;
  opt.report_without_key = true;
  mtas::MemorySource src(std::string_view(reinterpret_cast<const char*>(data), size));
  auto report = mtas::Verifier(opt).Verify(src);
  if (!report.ok()) std::abort();  // a memory source never fails to read
  return 0;
}
