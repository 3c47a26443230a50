// Canonicalizers and transfer decoders: any bytes, any split, the same
// output, and for canonicalization and base64 the output the RFC text gives
// (tests/support/oracles.h).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mtas/canon.h"
#include "support/oracles.h"

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
  if (size < 3) return 0;
  // data[2] repeats the input up to 32 times: the decoders' 16 KiB output
  // blocks fill and flush at offsets short inputs never reach.
  std::string unit(reinterpret_cast<const char*>(data + 3), size - 3), in;
  for (int i = 0, times = data[2] % 32 + 1; i < times; ++i) in += unit;
  size_t cut = in.empty() ? 0 : static_cast<size_t>(data[0] | data[1] << 8) % (in.size() + 1);
  for (mtas::Canon c : {mtas::Canon::kSimple, mtas::Canon::kRelaxed}) {
    mtas::BodyCanonicalizer split(c);
    std::string want = mtas::oracle::ReferenceBody(c, in);
    if (Run(split, in, cut) != want || mtas::BodyCanonicalizer::Apply(c, in) != want) std::abort();
  }
  {
    auto split = mtas::MakeDecoder(mtas::TransferEncoding::kBase64);
    if (Run(*split, in, cut) != mtas::oracle::ReferenceBase64(in)) std::abort();
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
