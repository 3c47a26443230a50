// Helpers shared by the unit tests: example messages, keys made on the fly,
// sign and verify in memory.
#pragma once

#include <string>
#include <vector>

#include "mtas/sign.h"
#include "mtas/verify.h"

namespace mtas::test {

// A report status by its name, for comparing with the names the report
// writes ("same", "changed", …).
inline std::string Name(HeaderStatus s) { return std::string(HeaderStatusName(s)); }
inline std::string Name(PartStatus s) { return std::string(PartStatusName(s)); }

std::string ReadFile(const std::string& path);
std::string Example(const std::string& name);  // examples/messages/<name>
std::vector<std::string> ExampleNames();       // every *.eml there

// A key pair with a self-signed certificate in a fresh temporary directory.
struct TestKey {
  std::string algorithm;  // ed25519 | ecdsa-p256 | rsa2048
  std::string signer;
  std::string key_path;
  std::string cert_path;
};
const TestKey& Key(const std::string& algorithm, const std::string& signer);

struct Signed {
  std::string message;
  MessageEdits edits;
};
// A Signer for the key (options.signer defaults to the key's signer).
std::shared_ptr<const Signer> SignerFor(const TestKey& key, SignOptions options = {});
Signed SignWith(const TestKey& key, const std::string& message, SignOptions options = {}, bool with_cert = false);
Signed SignWith(const Signer& signer, const std::string& message);

// Verifies with the given keys pinned for their signers.
VerifyReport VerifyWith(const std::vector<const TestKey*>& keys, const std::string& message,
                        VerifyOptions options = {});

// Sign options with the carrier `c`.
SignOptions Opts(Carrier c);

// The report of the signed field `name` (any case), nullptr when not reported.
const HeaderReport* HeaderOf(const SignatureReport& s, const std::string& name);

// Replaces the first occurrence of `from` (must exist).
std::string Replace(std::string s, const std::string& from, const std::string& to);

}  // namespace mtas::test
