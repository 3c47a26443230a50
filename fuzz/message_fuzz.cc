// The header and body scanners on any bytes, fed in chunks whose sizes the
// input's first byte chooses: the index must not depend on the chunking.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mtas/message.h"

namespace {

mtas::BodyIndex Scan(const std::string& msg, size_t chunk) {
  mtas::HeaderScanner hs;
  std::optional<mtas::BodyScanner> body;
  auto start = [&] {
    auto opt = mtas::BodyOptionsFor(hs.fields());
    opt.content_specs = {{mtas::Canon::kRelaxed, mtas::DigestAlg::kSha256},
                         {mtas::Canon::kSimple, mtas::DigestAlg::kSha256}};
    opt.part_algs = {mtas::DigestAlg::kSha256};
    body.emplace(opt);
    body->Write(hs.body_start());
  };
  for (size_t i = 0; i < msg.size(); i += chunk) {
    const char* p = msg.data() + i;
    size_t n = std::min(chunk, msg.size() - i);
    if (!body) {
      size_t used = hs.Write(p, n);
      if (!hs.done()) continue;
      start();
      p += used;
      n -= used;
    }
    body->Write(p, n);
  }
  if (!body) {
    hs.Finish();
    start();
  }
  return body->Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t chunk = 1 + data[0] % 97;
  std::string msg(reinterpret_cast<const char*>(data + 1), size - 1);
  mtas::BodyIndex a = Scan(msg, msg.size() + 1), b = Scan(msg, chunk);
  if (a.final_digests != b.final_digests || a.parts.size() != b.parts.size() || a.entities.size() != b.entities.size())
    std::abort();
  for (size_t i = 0; i < a.parts.size(); ++i)
    if (a.parts[i].digests != b.parts[i].digests || a.parts[i].path != b.parts[i].path ||
        a.parts[i].header_fields != b.parts[i].header_fields ||
        a.parts[i].trailing_empty_lines != b.parts[i].trailing_empty_lines ||
        a.parts[i].lenient_decode != b.parts[i].lenient_decode)
      std::abort();
  if (a.ambiguity != b.ambiguity || a.limit_hit != b.limit_hit) std::abort();
  // The strict MIME value reader on the same bytes, both forms.
  (void)mtas::CanonicalMimeValue(msg, true);
  (void)mtas::CanonicalMimeValue(msg, false);
  (void)mtas::DecodeUnstructured(msg);
  return 0;
}
