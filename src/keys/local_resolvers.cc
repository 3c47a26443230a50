// Local key resolvers: pinned keys, PKIX validation of embedded certificates,
// and the chain that tries them in order.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/ossl.h"
#include "mtas/keys.h"

namespace mtas {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int KeyLookup::Severity(Outcome o) {
  switch (o) {
    case Outcome::kRejected:
      return 5;
    case Outcome::kOtherKey:  // above temporary: a forger's unreachable service must not turn fail into a deferral
      return 4;
    case Outcome::kTemporary:
      return 3;
    case Outcome::kMalformed:
      return 2;
    case Outcome::kNoKey:
      return 1;
    default:
      return 0;
  }
}

Status PinnedKeyResolver::Add(const std::string& signer, const std::string& path) {
  Entry e;
  e.path = path;
  MTAS_RETURN_IF_ERROR(LoadPublicKeyFile(path, &e.key, &e.cert));
  keys_.emplace(Lower(signer), std::move(e));
  return Status::Ok();
}

KeyLookup PinnedKeyResolver::Resolve(const KeyRequest& request) {
  KeyLookup out;
  out.method = "pinned";
  auto [begin, end] = keys_.equal_range(Lower(request.signer));
  if (begin == end) {
    out.reason = "no key pinned for signer " + request.signer;
    return out;
  }
  for (auto it = begin; it != end; ++it) {
    const Entry& e = it->second;
    bool match = e.cert ? request.sid.Matches(e.cert) || (!request.sid.key_id.empty() && request.sid.Matches(e.key))
                        : request.sid.Matches(e.key) &&
                              (!request.sid.key_id.empty() || !request.verifies || request.verifies(e.key));
    if (!match) continue;
    out.outcome = KeyLookup::Outcome::kFound;
    out.key = e.key;
    out.cert = e.cert;
    out.trust = KeyTrust::kLocal;
    out.reason = "key pinned from " + e.path;
    return out;
  }
  out.outcome = KeyLookup::Outcome::kOtherKey;
  out.reason = "the key pinned for " + request.signer + " is not the key that signed";
  return out;
}

Result<std::unique_ptr<PkixResolver>> PkixResolver::FromCaFile(const std::string& ca_file) {
  std::unique_ptr<PkixResolver> r(new PkixResolver());
  r->store_ = X509_STORE_new();
  if (ca_file.empty()) {
    // The system's hashed certificate directory (SSL_CERT_DIR, else
    // OpenSSL's default), read certificate by certificate when a chain
    // needs one. X509_STORE_set_default_paths would also parse the whole
    // bundle file at once: 20 ms of every `mtas verify`, for signatures
    // that mostly embed no certificate.
    X509_LOOKUP* dir = X509_STORE_add_lookup(r->store_, X509_LOOKUP_hash_dir());
    if (!dir || X509_LOOKUP_add_dir(dir, nullptr, X509_FILETYPE_DEFAULT) != 1) ERR_clear_error();
    r->system_store_ = true;
  } else if (::access(ca_file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument(ca_file + ": " + std::strerror(errno));
  } else if (X509_STORE_load_file(r->store_, ca_file.c_str()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(ca_file + ": cannot load CA certificates");
  }
  return r;
}

PkixResolver::~PkixResolver() { X509_STORE_free(store_); }

void PkixResolver::LoadSystemBundleOnce() {
  std::call_once(bundle_loaded_, [this] {
    const char* env = std::getenv(X509_get_default_cert_file_env());
    const char* file = env && *env ? env : X509_get_default_cert_file();
    if (X509_STORE_load_file(store_, file) != 1) ERR_clear_error();  // none there: the directory was all
  });
}

KeyLookup PkixResolver::Resolve(const KeyRequest& request) {
  KeyLookup out;
  out.method = "pkix";
  const Certificate* leaf = nullptr;
  for (const auto& c : request.embedded)
    if (request.sid.Matches(c)) leaf = &c;
  if (!leaf) {
    out.reason = request.embedded.empty() ? "no certificate embedded" : "no embedded certificate matches the signer";
    return out;
  }
  ossl::X509StackPtr chain(sk_X509_new_null());
  for (const auto& c : request.embedded) {
    X509_up_ref(c.get());
    sk_X509_push(chain.get(), c.get());
  }
  ossl::StoreCtxPtr ctx;
  auto verify = [&] {
    ctx.reset(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store_, leaf->get(), chain.get());
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set1_host(param, request.signer.c_str(), request.signer.size());
    return X509_verify_cert(ctx.get()) == 1;
  };
  bool trusted = verify();
  int first_error = trusted ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
  if (!trusted && system_store_ &&
      (first_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
       first_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || first_error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
       first_error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)) {
    ERR_clear_error();
    LoadSystemBundleOnce();
    trusted = verify();
  }
  if (!trusted) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    // No trust path is no evidence against the key: other sources may know it.
    out.outcome = KeyLookup::Outcome::kNoKey;
    out.reason = std::string("embedded certificate not trusted for ") + request.signer + ": " +
                 X509_verify_cert_error_string(err);
    return out;
  }
  out.outcome = KeyLookup::Outcome::kFound;
  out.cert = *leaf;
  out.key = PublicKey::Adopt(X509_get_pubkey(leaf->get()));
  out.trust = KeyTrust::kPkix;
  out.reason = "embedded certificate chains to a trusted CA, DNS name matches";
  return out;
}

KeyLookup ChainResolver::Resolve(const KeyRequest& request) {
  KeyLookup worst;
  worst.reason = "no key service configured";
  bool any = false;
  for (auto& r : resolvers_) {
    KeyLookup l = r->Resolve(request);
    // A pinned key is the signer's key: another one is not looked for further.
    if (l.outcome == KeyLookup::Outcome::kFound || l.outcome == KeyLookup::Outcome::kRejected ||
        l.outcome == KeyLookup::Outcome::kOtherKey)
      return l;
    if (!any || KeyLookup::Severity(l.outcome) >= KeyLookup::Severity(worst.outcome))
      worst = std::move(l);  // ties: the later source
    any = true;
  }
  return worst;
}

}  // namespace mtas
