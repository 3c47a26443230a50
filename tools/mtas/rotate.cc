// mtas keygen --rotate ID --config FILE --selector NEW --out DIR: the next
// key of one KeyTable entry, and the steps that move signing to it without
// a moment where mail is signed by a key verifiers cannot find (docs/
// key-publishing.md "Rotating a key"). It writes the new key and its
// records; the KeyTable lines it prints are for the operator to put in
// place, as the KeyTable is theirs.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "args.h"
#include "config.h"
#include "mtas/keys.h"
#include "mtas/signature.h"

namespace mtas::cli {
namespace {

// The keygen name of a key's algorithm ("rsa2048" for RSA of 2048 bits).
std::string KeygenName(const PublicKey& key) {
  switch (key.algorithm()) {
    case KeyAlgorithm::kEd25519:
      return "ed25519";
    case KeyAlgorithm::kEcdsaP256:
      return "ecdsa-p256";
    case KeyAlgorithm::kRsa:
      return key.bits() >= 3072 ? "rsa3072" : "rsa2048";
    default:
      return "";
  }
}

// The public half of a KeyTable key: from its file, or through the token.
Result<PublicKey> PublicOf(const std::string& key_file) {
  if (key_file.rfind("pkcs11:", 0) == 0) {
    auto sk = SigningKey::Load(key_file);
    if (!sk.ok()) return sk.status();
    return sk->public_key();
  }
  PublicKey key;
  Certificate cert;
  MTAS_RETURN_IF_ERROR(LoadPublicKeyFile(key_file, &key, &cert));
  return key;
}

// One KeyTable word, quoted when the table's reader would split it.
std::string Word(const std::string& w) { return w.find_first_of(" \t#") == std::string::npos ? w : "\"" + w + "\""; }

// A KeyTable line for `entry` signing with `keys` (certificates kept for
// the keys they hold) and `services`.
std::string KeyTableLine(const mtasd::KeyEntry& entry, const mtasd::Config& config,
                         const std::vector<std::string>& keys, const std::vector<std::string>& certs,
                         const std::string& services) {
  std::string line = Word(entry.id) + " " + Word(keys.front()) + " " + entry.signer;
  if (!services.empty()) line += " services=\"" + services + "\"";
  if (entry.carrier != config.carrier) line += " carrier=" + std::string(CarrierName(entry.carrier));
  for (size_t i = 1; i < keys.size(); ++i) line += " key=" + Word(keys[i]);
  for (const auto& c : certs) line += " cert=" + Word(c);
  return line;
}

}  // namespace

int KeygenRotate(const std::vector<std::string>& argv) {
  Args a(argv, {"https"}, {"rotate", "config", "selector", "out", "algorithm", "days"});
  if (!a.ok()) return Usage("keygen", a.error());
  for (const char* req : {"rotate", "config", "selector", "out"})
    if (!a.Has(req)) return Usage("keygen", std::string("--rotate needs --") + req);
  auto days = ParseDays(a.Get("days", "730"));
  if (!days.ok()) return Usage("keygen", days.status().message());
  auto config = mtasd::LoadConfig(a.Get("config"));
  if (!config.ok()) return Error("keygen", config.status().message(), kUsage);
  const std::string id = a.Get("rotate");
  auto entry = std::find_if(config->keys.begin(), config->keys.end(), [&](auto& k) { return k.id == id; });
  if (entry == config->keys.end()) return Error("keygen", "the KeyTable has no entry '" + id + "'", kUsage);

  // The entry's keys by algorithm: the new key replaces those of its own
  // algorithm (all of them when it has one), and joins the others.
  std::vector<PublicKey> publics;
  for (const auto& file : entry->key_files) {
    auto pk = PublicOf(file);
    if (!pk.ok()) return Error("keygen", "KeyTable " + id + ": " + pk.status().message());
    publics.push_back(*pk);
  }
  std::string algorithm = a.Get("algorithm", KeygenName(publics.front()));
  // Never over a key that may be the one signing now, nor over records
  // verifiers still need for mail the old key signed.
  const std::string selector = a.Get("selector");
  if (std::filesystem::exists(a.Get("out") + "/" + selector + ".key.pem"))
    return Error("keygen", a.Get("out") + "/" + selector + ".key.pem exists: the next key needs a selector of its own",
                 kUsage);
  for (const std::string& word : {" " + selector + ".", " " + selector + "._"})
    if ((" " + entry->services).find(word) != std::string::npos)
      return Error("keygen", "selector " + selector + " is in entry " + id + "'s services: the next key needs its own",
                   kUsage);
  if (entry->key_files.size() >= kMaxSignerInfos)
    return Error("keygen",
                 "entry " + id + " already signs with " + std::to_string(entry->key_files.size()) +
                     " keys, the most that sign together; finish the rotation under way first",
                 kUsage);
  auto made = WriteNewKey(algorithm, entry->signer, selector, a.Get("out"), *days, a.Has("https"));
  if (!made.ok())
    return Error("keygen", made.status().message(), made.status().code() == Status::Code::kIoError ? 1 : kUsage);
  // mtasd reads the new key as it reads the old one: the same owner and group.
  if (struct stat old_key{}; entry->key_files.front().rfind("pkcs11:", 0) != 0 &&
                             ::stat(entry->key_files.front().c_str(), &old_key) == 0 &&
                             ::chown(made->key_path.c_str(), old_key.st_uid, old_key.st_gid) != 0)
    std::printf("note: %s is not owned as %s is (%s): mtasd must be able to read it\n", made->key_path.c_str(),
                entry->key_files.front().c_str(), std::strerror(errno));
  auto new_public = PublicOf(made->key_path);
  if (!new_public.ok()) return Error("keygen", new_public.status().message());
  // One family per KeyAlgorithm: an RSA key replaces RSA keys of any size.
  const KeyAlgorithm family = new_public->algorithm();

  // The KeyTable names files relative to mtasd.conf; the new key's, made
  // relative to here, is written absolute.
  std::string new_key = std::filesystem::absolute(made->key_path).lexically_normal().string();
  std::vector<std::string> grace = entry->key_files, final_keys;
  grace.push_back(new_key);
  bool same_family =
      std::any_of(publics.begin(), publics.end(), [&](const PublicKey& k) { return k.algorithm() == family; });
  // A key of another algorithm than the entry's only key takes its place
  // (a move from RSA to Ed25519); beside several, it joins them.
  if (same_family || entry->key_files.size() > 1)
    for (size_t i = 0; i < entry->key_files.size(); ++i)
      if (publics[i].algorithm() != family) final_keys.push_back(entry->key_files[i]);
  final_keys.push_back(new_key);
  // Certificates stay with the keys that stay.
  std::vector<std::string> kept_certs;
  for (const auto& cert_file : entry->cert_files) {
    PublicKey pk;
    Certificate cert;
    if (!LoadPublicKeyFile(cert_file, &pk, &cert).ok()) continue;
    for (size_t i = 0; i < publics.size(); ++i)
      if (pk.SpkiDer() == publics[i].SpkiDer() &&
          std::find(final_keys.begin(), final_keys.end(), entry->key_files[i]) != final_keys.end())
        kept_certs.push_back(cert_file);
  }
  // The new key's services go first: verifiers try them in order, and
  // after the rotation most signatures are the new key's.
  std::string services = entry->services.empty() ? made->services : made->services + "; " + entry->services;
  bool replaces_all = final_keys.size() == 1;
  std::string final_services = replaces_all ? made->services : services;

  std::printf(
      "\nRotating KeyTable entry %s (signer %s) to %s:\n\n"
      "1. Publish %s in the zone of %s.\n\n"
      "2. Sign with the old and the new key together: put this line in the KeyTable in place of\n"
      "   entry %s and reload mtasd (systemctl reload mtasd, or kill -HUP). Mail passes with\n"
      "   whichever key a verifier finds, so this is safe before the new records are visible.\n\n"
      "%s\n\n"
      "3. Run until it reports every key of entry %s visible:\n\n"
      "   mtas dns-record --check --config %s\n\n"
      "   then wait the zone's negative-caching TTL (the last field of its SOA), which a\n"
      "   verifier that asked before step 1 may still be caching.\n\n"
      "4. Sign with the new key alone: put this line in place and reload mtasd.\n\n"
      "%s\n\n",
      id.c_str(), entry->signer.c_str(), new_key.c_str(), made->zone_path.c_str(), entry->signer.c_str(), id.c_str(),
      KeyTableLine(*entry, *config, grace, entry->cert_files, services).c_str(), id.c_str(), a.Get("config").c_str(),
      KeyTableLine(*entry, *config, final_keys, kept_certs, final_services).c_str());
  if (!replaces_all)
    std::printf(
        "   (The entry keeps keys of other algorithms, so its services still list the old key's\n"
        "   records; take those out of services= once they are withdrawn.)\n\n");
  std::printf(
      "5. Keep the old key's records published for as long as mail signed with it may still be\n"
      "   verified (mail in queues, and readers that verify stored mail), then withdraw them.\n");
  return 0;
}

}  // namespace mtas::cli
