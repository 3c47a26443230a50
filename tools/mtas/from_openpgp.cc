// mtas keygen --from-openpgp FILE: the key of an OpenPGP secret key (as `gpg
// --export-secret-keys` writes it) as the PEM key mtas signs with, for a
// signer whose verifiers find the same key on an HKP key server through the
// http:pgp-keyserver service (docs/key-publishing.md section 2.7).
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

  std::ifstream in(a.Get("from-openpgp"), std::ios::binary);
  if (!in) return Error("keygen", a.Get("from-openpgp") + ": cannot be read");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = ReadOpenPgpSecretKey(data, a.Get("fingerprint"));
  if (!key.ok()) return Error("keygen", a.Get("from-openpgp") + ": " + key.status().message(), kUsage);

  // The verifier takes the key only for a signer one of its user IDs names:
  // refuse now rather than let every message fail later.
  std::string name = signer;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool named = false;
  std::string names;
  for (const auto& d : key->user_id_domains) {
    named |= d == name;
    names += (names.empty() ? "" : ", ") + d;
  }
  if (!named)
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
