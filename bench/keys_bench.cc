// What reading one published key costs, by the form it is published in: a
// DKIM TXT record, a DER certificate (downloads, DNS CERT, LDAP) and an
// OpenPGP key from a key server (librnp checks its self-signatures). The
// network is not measured. Run: build/bench/mtas_bench --benchmark_filter=KeyRead
#include <benchmark/benchmark.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>

#include "mtas/canon.h"
#include "mtas/key_records.h"
#include "mtas/keys.h"
#include "mtas/openpgp.h"

namespace mtas::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void BM_KeyReadDkimTxt(benchmark::State& state) {
  auto made = GenerateKey("ed25519", "bench.example.com");
  auto cert = Certificate::FromDer(made->cert_der);
  std::string spki = PublicKey::Adopt(X509_get_pubkey(cert->get())).SpkiDer();
  std::string record = "v=DKIM1; k=ed25519; p=" + Base64Encode(spki.substr(spki.size() - 32), 0, "");
  for (auto _ : state) benchmark::DoNotOptimize(ParseDkimKey(record).ok());
}

void BM_KeyReadCertificate(benchmark::State& state) {
  auto made = GenerateKey("ed25519", "bench.example.com");
  for (auto _ : state) {
    auto cert = Certificate::FromDer(made->cert_der);
    benchmark::DoNotOptimize(PublicKey::Adopt(X509_get_pubkey(cert->get())).algorithm());
  }
}

void BM_KeyReadOpenPgp(benchmark::State& state) {
  const std::string data = ReadAll(std::string(MTAS_SOURCE_DIR) + "/tests/data/openpgp/public.asc");
  if (!ReadOpenPgpKey(data, "8C63F298B38E2E08496E32531861D5AED1896CC6").ok()) state.SkipWithError("no librnp");
  for (auto _ : state) benchmark::DoNotOptimize(ReadOpenPgpKey(data, "8C63F298B38E2E08496E32531861D5AED1896CC6").ok());
}

}  // namespace

BENCHMARK(BM_KeyReadDkimTxt);
BENCHMARK(BM_KeyReadCertificate);
BENCHMARK(BM_KeyReadOpenPgp);

}  // namespace mtas::bench
