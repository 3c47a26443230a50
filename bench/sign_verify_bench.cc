// Sign and verify throughput on generated 4 KB and 1 MB messages, keys
// parsed once (as mtasd does). Run: build/bench/mtas_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "corpus.h"
#include "mtas/sign.h"
#include "mtas/verify.h"

namespace mtas::bench {
namespace {

struct Identity {
  std::shared_ptr<const Signer> signer;
  std::unique_ptr<PinnedKeyResolver> keys;
};

// `alg` names one algorithm, or several joined by '+' (one key each, all
// signing every message: one SignerInfo per key).
const Identity& For(const std::string& alg) {
  static std::map<std::string, Identity> ids;
  auto it = ids.find(alg);
  if (it != ids.end()) return it->second;
  std::string dir = std::filesystem::temp_directory_path() / ("mtas-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<SigningKey> keys;
  auto pinned = std::make_unique<PinnedKeyResolver>();
  for (size_t start = 0; start <= alg.size();) {
    size_t plus = alg.find('+', start);
    std::string one = alg.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    auto gen = GenerateKey(one, "mail.example.com");
    std::ofstream(dir + "/" + one + ".key") << gen->key_pem;
    std::ofstream(dir + "/" + one + ".crt") << gen->cert_pem;
    keys.push_back(*SigningKey::Load(dir + "/" + one + ".key"));
    (void)pinned->Add("mail.example.com", dir + "/" + one + ".crt");
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  SignOptions opt;
  opt.signer = "mail.example.com";
  opt.carrier = Carrier::kHeader;  // the same carrier for text and multipart
  Identity id{*Signer::Create(std::move(keys), opt), std::move(pinned)};
  std::filesystem::remove_all(dir);  // every file is read by now
  return ids.emplace(alg, std::move(id)).first->second;
}

const std::string& Message(bool big) {
  static const std::string small = TextMessage(4096), large = MultipartMessage(1 << 20);
  return big ? large : small;
}

void BM_Sign(benchmark::State& state, std::string alg, bool big) {
  const Identity& id = For(alg);
  const std::string& msg = Message(big);
  for (auto _ : state) {
    auto session = id.signer->Begin();
    session->Write(msg);
    auto edits = session->Finish();
    if (!edits.ok()) state.SkipWithError(edits.status().message().c_str());
    benchmark::DoNotOptimize(edits);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(msg.size()));
}

void BM_Verify(benchmark::State& state, std::string alg, bool big) {
  const Identity& id = For(alg);
  auto session = id.signer->Begin();
  session->Write(Message(big));
  auto edits = session->Finish();
  MemorySource src(Message(big));
  StringSink signed_msg;
  (void)WriteSignedMessage(src, *edits, signed_msg);
  VerifyOptions opt;
  opt.resolver = id.keys.get();
  Verifier verifier(opt);
  for (auto _ : state) {
    MemorySource in(signed_msg.out);
    auto report = verifier.Verify(in);
    if (!report.ok() || report->result != SigResult::kPass) state.SkipWithError("verification did not pass");
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(signed_msg.out.size()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_Sign, ed25519_4k, "ed25519", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, ecdsa_p256_4k, "ecdsa-p256", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, rsa2048_4k, "rsa2048", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, ed25519_4k, "ed25519", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, ecdsa_p256_4k, "ecdsa-p256", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, rsa2048_4k, "rsa2048", false)->UseRealTime();
// Two keys sign each message (a move from RSA to Ed25519, or a rotation).
BENCHMARK_CAPTURE(BM_Sign, ed25519_rsa2048_4k, "ed25519+rsa2048", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, ed25519_rsa2048_4k, "ed25519+rsa2048", false)->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, ed25519_1m, "ed25519", true)->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, rsa2048_1m, "rsa2048", true)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, ed25519_1m, "ed25519", true)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, rsa2048_1m, "rsa2048", true)->UseRealTime();

}  // namespace mtas::bench

BENCHMARK_MAIN();
