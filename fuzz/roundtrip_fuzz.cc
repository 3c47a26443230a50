// Sign any input, then verify: signing either refuses with an error or
// produces a message whose newest signature passes. The key is made once
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
  return 0;
}
