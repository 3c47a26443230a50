// Throughput of the byte-level stages alone: body canonicalization and the
// base64 decoder, on 1 MB inputs. Run: build/bench/mtas_bench --benchmark_filter=Stage
#include <benchmark/benchmark.h>

#include "corpus.h"
#include "mtas/canon.h"

namespace mtas::bench {
namespace {

// Discards what it is given: measures the stage, not a hash.
struct NullSink : ByteSink {
  size_t bytes = 0;
  void Write(const char*, size_t n) override { bytes += n; }
};

const std::string& Prose() {
  static const std::string body = [] {
    std::string m = TextMessage(1 << 20);
    return m.substr(m.find("\r\n\r\n") + 4);
  }();
  return body;
}

void BM_StageBodyCanon(benchmark::State& state, Canon canon) {
  const std::string& in = Prose();
  for (auto _ : state) {
    BodyCanonicalizer c(canon);
    NullSink sink;
    c.Update(in, sink);
    c.Finish(sink);
    benchmark::DoNotOptimize(sink.bytes);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

void BM_StageBase64Decode(benchmark::State& state) {
  std::string raw(1 << 20, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 131 + (i >> 7));
  const std::string in = Base64Encode(raw, 76, "\r\n");
  for (auto _ : state) {
    auto dec = MakeDecoder(TransferEncoding::kBase64);
    NullSink sink;
    dec->Update(in.data(), in.size(), sink);
    dec->Finish(sink);
    benchmark::DoNotOptimize(sink.bytes);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_StageBodyCanon, relaxed, Canon::kRelaxed);
BENCHMARK_CAPTURE(BM_StageBodyCanon, simple, Canon::kSimple);
BENCHMARK(BM_StageBase64Decode);

}  // namespace mtas::bench
