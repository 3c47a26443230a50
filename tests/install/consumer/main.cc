// Verifies one message with a pinned certificate through the installed
// public API and prints the result name: `consumer MESSAGE SIGNER CERT`.
#include <mtas/keys.h>
#include <mtas/source.h>
#include <mtas/verify.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return 64;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  std::string message = data.str();
  mtas::PinnedKeyResolver keys;
  if (!keys.Add(argv[2], argv[3]).ok()) return 2;
  mtas::VerifyOptions options;
  options.resolver = &keys;
  mtas::MemorySource source(message);
  auto report = mtas::Verifier(options).Verify(source);
  if (!report.ok()) return 3;
  std::printf("%s\n", std::string(mtas::ResultName(report->result)).c_str());
  return 0;
}
