// mtas_corpus OUTDIR: writes the deterministic benchmark corpus every
// implementation in bench/peers.sh reads:
//   OUTDIR/small/NNNN.eml  1000 × 4 KB text/plain
//   OUTDIR/large/NN.eml    20 × 1 MB multipart/mixed with a base64 attachment
//   OUTDIR/huge/huge.eml   one 50 MiB multipart/mixed message
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "corpus.h"

namespace {

bool Write(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  return static_cast<bool>(out);
}

std::string Numbered(unsigned n, size_t width) {
  std::string s = std::to_string(n);
  return std::string(width > s.size() ? width - s.size() : 0, '0') + s + ".eml";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mtas_corpus OUTDIR\n");
    return 64;
  }
  std::filesystem::path out = argv[1];
  for (const char* sub : {"small", "large", "huge"}) std::filesystem::create_directories(out / sub);
  bool ok = true;
  for (unsigned i = 0; i < 1000; ++i)
    ok &= Write(out / "small" / Numbered(i, 4), mtas::bench::TextMessage(4096, i + 1));
  for (unsigned i = 0; i < 20; ++i)
    ok &= Write(out / "large" / Numbered(i, 2), mtas::bench::MultipartMessage(1 << 20, i + 1));
  ok &= Write(out / "huge" / "huge.eml", mtas::bench::MultipartMessage(50u << 20, 1));
  if (!ok) {
    std::fprintf(stderr, "mtas_corpus: cannot write to %s\n", argv[1]);
    return 1;
  }
  return 0;
}
