#include "test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mtas/message.h"

namespace mtas::test {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Example(const std::string& name) {
  return ReadFile(std::string(MTAS_SOURCE_DIR) + "/examples/messages/" + name);
}

std::vector<std::string> ExampleNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(MTAS_SOURCE_DIR) + "/examples/messages"))
    if (e.path().extension() == ".eml") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

const TestKey& Key(const std::string& algorithm, const std::string& signer) {
  static std::map<std::string, TestKey> keys;
  std::string id = algorithm + "/" + signer;
  auto it = keys.find(id);
  if (it != keys.end()) return it->second;
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path() / ("mtas-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  auto gen = GenerateKey(algorithm, signer);
  EXPECT_TRUE(gen.ok()) << gen.status().message();
  TestKey k{algorithm, signer, dir + "/" + algorithm + "-" + signer + ".key.pem",
            dir + "/" + algorithm + "-" + signer + ".crt.pem"};
  std::ofstream(k.key_path) << gen->key_pem;
  std::filesystem::permissions(k.key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(k.cert_path) << gen->cert_pem;
  return keys.emplace(id, k).first->second;
}

std::shared_ptr<const Signer> SignerFor(const TestKey& key, SignOptions options) {
  if (options.signer.empty()) options.signer = key.signer;
  auto sk = SigningKey::Load(key.key_path);
  EXPECT_TRUE(sk.ok()) << sk.status().message();
  auto signer = Signer::Create(std::move(*sk), options);
  EXPECT_TRUE(signer.ok()) << signer.status().message();
  return signer.ok() ? *signer : nullptr;
}

Signed SignWith(const TestKey& key, const std::string& message, SignOptions options, bool with_cert) {
  if (options.signer.empty()) options.signer = key.signer;
  auto sk = SigningKey::Load(key.key_path, with_cert ? key.cert_path : "");
  EXPECT_TRUE(sk.ok()) << sk.status().message();
  auto signer = Signer::Create(std::move(*sk), options);
  EXPECT_TRUE(signer.ok()) << signer.status().message();
  if (!signer.ok()) return {};
  return SignWith(**signer, message);
}

Signed SignWith(const Signer& signer, const std::string& message) {
  MemorySource src(message);
  auto edits = SignMessage(signer, src);
  EXPECT_TRUE(edits.ok()) << edits.status().message();
  if (!edits.ok()) return {};
  StringSink out;
  EXPECT_TRUE(WriteSignedMessage(src, *edits, out).ok());
  return {out.out, *edits};
}

VerifyReport VerifyWith(const std::vector<const TestKey*>& keys, const std::string& message, VerifyOptions options) {
  PinnedKeyResolver pinned;
  for (const auto* k : keys) EXPECT_TRUE(pinned.Add(k->signer, k->cert_path).ok());
  if (!options.resolver) options.resolver = &pinned;
  MemorySource src(message);
  auto report = Verifier(options).Verify(src);
  EXPECT_TRUE(report.ok());
  return report.ok() ? *report : VerifyReport{};
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << "'" << from << "' not in message";
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

SignOptions Opts(Carrier c) {
  SignOptions o;
  o.carrier = c;
  return o;
}

const HeaderReport* HeaderOf(const SignatureReport& s, const std::string& name) {
  for (const auto& h : s.headers)
    if (EqualsIgnoreCase(h.name, name)) return &h;
  return nullptr;
}

}  // namespace mtas::test
