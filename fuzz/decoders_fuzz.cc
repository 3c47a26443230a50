// Canonicalizers and transfer decoders: any bytes, any split, same output.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mtas/canon.h"

namespace {

template <typename Stage>
std::string Run(Stage& stage, const std::string& in, size_t cut) {
  mtas::StringSink out;
  stage.Update(in.data(), cut, out);
  stage.Update(in.data() + cut, in.size() - cut, out);
  stage.Finish(out);
  return out.out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string in(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t cut = in.empty() ? 0 : (data[0] | data[1] << 8) % (in.size() + 1);
  for (mtas::Canon c : {mtas::Canon::kSimple, mtas::Canon::kRelaxed}) {
    mtas::BodyCanonicalizer split(c);
    if (Run(split, in, cut) != mtas::BodyCanonicalizer::Apply(c, in)) std::abort();
  }
  for (auto enc : {mtas::TransferEncoding::kBase64, mtas::TransferEncoding::kQuotedPrintable}) {
    auto whole = mtas::MakeDecoder(enc);
    auto split = mtas::MakeDecoder(enc);
    if (Run(*whole, in, in.size()) != Run(*split, in, cut)) std::abort();
  }
  if (mtas::Base64Decode(mtas::Base64Encode(in, 76)) != in) std::abort();
  (void)mtas::CanonicalHeaderRelaxed(in);
  return 0;
}
