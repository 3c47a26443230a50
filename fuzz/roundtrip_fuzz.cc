// Sign any input, then verify: signing either refuses with an error or
// produces a message whose newest signature passes, and whose original
// `Verifier::Restore` rebuilds into a message that passes (also after a
// footer was appended, whenever the hop is recovered). The key is made once
// per process, in memory.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "mtas/sign.h"
#include "mtas/verify.h"

namespace {

struct Fixture {
  std::shared_ptr<const mtas::Signer> signer;
  mtas::PinnedKeyResolver keys;
};

Fixture* MakeFixture() {
  auto* f = new Fixture();  // lives for the process
  auto gen = mtas::GenerateKey("ed25519", "fuzz.example.com");
  if (!gen.ok()) std::abort();
  std::string dir = "/tmp/mtas-roundtrip-fuzz-" + std::to_string(getpid());
  std::string mkdir = "mkdir -p " + dir;
  if (std::system(mkdir.c_str()) != 0) std::abort();
  std::ofstream(dir + "/k.key.pem") << gen->key_pem;
  std::ofstream(dir + "/k.crt.pem") << gen->cert_pem;
  auto key = mtas::SigningKey::Load(dir + "/k.key.pem");
  if (!key.ok() || !f->keys.Add("fuzz.example.com", dir + "/k.crt.pem").ok()) std::abort();
  mtas::SignOptions opt;
  opt.signer = "fuzz.example.com";
  auto signer = mtas::Signer::Create(std::move(*key), opt);
  if (!signer.ok()) std::abort();
  f->signer = *signer;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = MakeFixture();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mtas::MemorySource src(in);
  auto edits = mtas::SignMessage(*f->signer, src);
  if (!edits.ok()) return 0;  // refused with an error: allowed
  mtas::StringSink out;
  if (!mtas::WriteSignedMessage(src, *edits, out).ok()) std::abort();
  mtas::VerifyOptions vopt;
  vopt.resolver = &f->keys;
  mtas::MemorySource signed_src(out.out);
  auto report = mtas::Verifier(vopt).Verify(signed_src);
  if (!report.ok()) std::abort();
  const mtas::SignatureReport* newest = nullptr;
  for (const auto& s : report->signatures)
    if (s.msgid == edits->msgid) newest = &s;
  if (!newest || newest->result != mtas::SigResult::kPass) {
    std::fprintf(stderr, "signed message does not verify: %s\n",
                 newest ? newest->reason.c_str() : "signature not found");
    std::abort();
  }
  // Rebuilding what a hop signed: of the signed message itself, and of it
  // with a footer appended; whenever the verifier says recovered (or pass),
  // the rebuilt message must pass.
  std::string footer_added = out.out + "\r\n-- \r\nfooter\r\n";
  for (const std::string* m : {&out.out, &footer_added}) {
    mtas::MemorySource again(*m);
    auto r = mtas::Verifier(vopt).Verify(again);
    if (!r.ok()) std::abort();
    for (const auto& s : r->signatures) {
      if (s.msgid != edits->msgid || (s.result != mtas::SigResult::kPass && !s.recovered)) continue;
      mtas::StringSink rebuilt;
      auto written = mtas::Verifier(vopt).Restore(again, s.hop, rebuilt);
      if (!written.ok()) {
        std::fprintf(stderr, "hop %d (%s) cannot be rebuilt: %s\n", s.hop, s.recovered ? "recovered" : "pass",
                     written.status().message().c_str());
        std::abort();
      }
      mtas::MemorySource rebuilt_src(rebuilt.out);
      auto check = mtas::Verifier(vopt).Verify(rebuilt_src);
      if (!check.ok()) std::abort();
      for (const auto& c : check->signatures)
        if (c.msgid == s.msgid && c.result != mtas::SigResult::kPass) {
          std::fprintf(stderr, "the rebuilt message gives %s: %s\n", std::string(mtas::ResultName(c.result)).c_str(),
                       c.reason.c_str());
          std::abort();
        }
    }
  }
  return 0;
}
