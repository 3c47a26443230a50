// mtas_corpus_bench sign|verify ALG CORPUS_DIR KEY_DIR
//
// The mtas harness of bench/peers.sh, with the same contract as the peers'
// harnesses: every *.eml of CORPUS_DIR is read into memory and the key
// KEY_DIR/ALG.key.pem parsed once (untimed); then the messages are signed
// (or, signed once untimed, verified with the key pinned: no DNS) in passes
// until at least 2 s (MTAS_BENCH_SECONDS) have gone by. Prints one JSON line:
//   {"impl":"mtas","alg":…,"op":…,"messages":N,"bytes":B,"seconds":S}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mtas/sign.h"
#include "mtas/verify.h"

namespace {

// One copy of the file in memory (a stringstream would hold two at the
// peak, which the harness's RSS would count).
std::string ReadAll(const std::filesystem::path& path) {
  std::string data(std::filesystem::file_size(path), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "mtas_corpus_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) Die("usage: mtas_corpus_bench sign|verify ALG CORPUS_DIR KEY_DIR");
  const std::string op = argv[1], alg = argv[2];
  if (op != "sign" && op != "verify") Die("unknown operation " + op);

  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(argv[3]))
    if (e.path().extension() == ".eml") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) Die(std::string("no .eml files in ") + argv[3]);
  std::vector<std::string> messages;
  for (const auto& p : paths) messages.push_back(ReadAll(p));

  const std::string key_path = std::string(argv[4]) + "/" + alg + ".key.pem";
  auto key = mtas::SigningKey::Load(key_path);
  if (!key.ok()) Die(key.status().message());
  mtas::SignOptions sign_options;
  sign_options.signer = "mail.bench.example";
  auto signer = mtas::Signer::Create(std::move(*key), sign_options);
  if (!signer.ok()) Die(signer.status().message());
  mtas::PinnedKeyResolver keys;
  if (auto s = keys.Add(sign_options.signer, key_path); !s.ok()) Die(s.message());
  mtas::VerifyOptions verify_options;
  verify_options.resolver = &keys;
  const mtas::Verifier verifier(verify_options);

  auto sign = [&](const std::string& message) {
    mtas::MemorySource src(message);
    auto edits = mtas::SignMessage(**signer, src);
    if (!edits.ok()) Die("sign: " + edits.status().message());
    return std::move(*edits);
  };
  if (op == "verify") {  // the corpus, signed once (untimed)
    for (auto& m : messages) {
      mtas::MemorySource src(m);
      mtas::StringSink out;
      if (!mtas::WriteSignedMessage(src, sign(m), out).ok()) Die("writing a signed message");
      m = std::move(out.out);
    }
  }

  const char* env = std::getenv("MTAS_BENCH_SECONDS");
  const double min_seconds = env ? std::atof(env) : 2.0;
  uint64_t count = 0, bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    for (const auto& m : messages) {
      if (op == "sign") {
        (void)sign(m);
      } else {
        mtas::MemorySource src(m);
        auto report = verifier.Verify(src);
        if (!report.ok() || report->result != mtas::SigResult::kPass) Die("a signed message did not verify");
      }
      ++count;
      bytes += m.size();
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds);
  std::printf("{\"impl\":\"mtas\",\"alg\":\"%s\",\"op\":\"%s\",\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n",
              alg.c_str(), op.c_str(), static_cast<unsigned long long>(count), static_cast<unsigned long long>(bytes),
              elapsed);
  return 0;
}
