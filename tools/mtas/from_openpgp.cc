// mtas keygen --from-openpgp FILE: the key of an OpenPGP secret key (as `gpg
// --export-secret-keys` writes it) as the PEM key mtas signs with, for a
// signer whose verifiers find the same key on an HKP key server through the
// http:pgp-keyserver service (docs/key-publishing.md section 2.7).
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "args.h"
#include "mtas/key_service.h"
#include "mtas/openpgp.h"

namespace mtas::cli {

int KeygenFromOpenPgp(const std::vector<std::string>& argv) {
  Args a(argv, {}, {"from-openpgp", "fingerprint", "signer", "selector", "out", "keyserver"});
  if (!a.ok()) return Usage("keygen", a.error());
  for (const char* req : {"signer", "selector", "out", "keyserver"})
    if (!a.Has(req)) return Usage("keygen", std::string("--from-openpgp needs --") + req);
  const std::string selector = a.Get("selector"), signer = a.Get("signer");
  if (selector.empty() || selector.find('/') != std::string::npos)
    return Usage("keygen", "--selector must be a label without '/'");

  // A regular file within ReadOpenPgpSecretKey's bound: never a FIFO or a device read forever.
  const std::string path = a.Get("from-openpgp");
  std::error_code size_error;
  if (!std::filesystem::is_regular_file(path, size_error) ||
      std::filesystem::file_size(path, size_error) > 1024 * 1024 || size_error)
    return Error("keygen", path + ": not a readable file of at most 1 MB", kUsage);
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Error("keygen", path + ": cannot be read", kUsage);
  auto key = ReadOpenPgpSecretKey(data, a.Get("fingerprint"));
  OPENSSL_cleanse(data.data(), data.size());
  if (!key.ok()) return Error("keygen", path + ": " + key.status().message(), kUsage);

  // The verifier takes the key only for a signer one of its user IDs names:
  // refuse now rather than let every message fail later.
  std::string names;
  for (const auto& d : key->user_id_domains) names += (names.empty() ? "" : ", ") + d;
  if (!KeyCandidate(key->key, Certificate(), key->user_id_domains).IsFor(signer))
    return Error("keygen",
                 "no user ID of OpenPGP key " + key->fingerprint + " has an address at " + signer +
                     " (they are at: " + names + "); add one (gpg --quick-add-uid) and export again",
                 kUsage);

  // The services entry is checked as a verifier will read it.
  auto lookup = HkpLookupUrl(a.Get("keyserver"), key->fingerprint);
  if (!lookup.ok()) return Usage("keygen", "--keyserver: " + lookup.status().message());
  if (!BelongsToSigner(*lookup, signer))
    return Usage("keygen", "--keyserver " + a.Get("keyserver") + " is outside the domain of " + signer +
                               ": verifiers take keys only from the signer's own domain");
  std::string services = "http:pgp-keyserver " + a.Get("keyserver") + " " + key->fingerprint;
  std::string key_path = a.Get("out") + "/" + selector + ".key.pem";
  if (std::filesystem::exists(key_path))
    return Error("keygen", key_path + " exists: a key from OpenPGP needs a selector of its own", kUsage);
  std::error_code ec;
  std::filesystem::create_directories(a.Get("out"), ec);
  if (ec) return Error("keygen", a.Get("out") + ": " + ec.message());
  if (Status st = WriteFile(key_path, key->secret_pem, 0600); !st.ok()) return Error("keygen", st.message());
  std::printf("wrote %s\n", key_path.c_str());
  std::printf("OpenPGP key %s, user ID at %s\n", key->fingerprint.c_str(), signer.c_str());
  std::printf("publish it: gpg --keyserver %s --send-keys %s\n", a.Get("keyserver").c_str(), key->fingerprint.c_str());
  std::printf("sign with: --key %s --signer %s --services \"%s\"\n", key_path.c_str(), signer.c_str(),
              services.c_str());
  return 0;
}

}  // namespace mtas::cli
