#include "mtas/digest.h"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <array>
#include <cctype>

#include "common/ascii.h"

namespace mtas {
namespace {

struct AlgInfo {
  DigestAlg alg;
  std::string_view name;
  std::string_view micalg;
  const char* ossl_name;
  int nid;
};

constexpr std::array<AlgInfo, kDigestAlgCount> kAlgs = {{
    {DigestAlg::kSha1, "sha1", "sha-1", "SHA1", NID_sha1},
    {DigestAlg::kSha256, "sha256", "sha-256", "SHA256", NID_sha256},
    {DigestAlg::kSha384, "sha384", "sha-384", "SHA384", NID_sha384},
    {DigestAlg::kSha512, "sha512", "sha-512", "SHA512", NID_sha512},
}};

const AlgInfo& Info(DigestAlg alg) { return kAlgs[static_cast<size_t>(alg)]; }

// Explicit fetches, done once: OpenSSL 3 otherwise fetches (and locks) on
// every EVP_DigestInit_ex with the legacy EVP_sha256() getters.
const EVP_MD* FetchedMd(DigestAlg alg) {
  static const std::array<EVP_MD*, kDigestAlgCount> mds = [] {
    std::array<EVP_MD*, kDigestAlgCount> out{};
    for (const auto& a : kAlgs) out[static_cast<size_t>(a.alg)] = EVP_MD_fetch(nullptr, a.ossl_name, nullptr);
    return out;
  }();
  return mds[static_cast<size_t>(alg)];
}

}  // namespace

std::string_view DigestName(DigestAlg alg) { return Info(alg).name; }
std::string_view DigestMicalg(DigestAlg alg) { return Info(alg).micalg; }
int DigestNid(DigestAlg alg) { return Info(alg).nid; }
const char* DigestOpenSslName(DigestAlg alg) { return Info(alg).ossl_name; }

Result<DigestAlg> ParseDigestName(std::string_view name) {
  std::string n;
  for (char c : name)
    if (c != '-') n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& a : kAlgs)
    if (n == a.name) return a.alg;
  return Status::InvalidArgument("unknown digest algorithm '" + std::string(name) + "'");
}

Result<DigestAlg> DigestFromNid(int nid) {
  for (const auto& a : kAlgs)
    if (a.nid == nid) return a.alg;
  return Status::Unsupported(std::string("unsupported digest algorithm ") + OBJ_nid2sn(nid));
}

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Hasher::Hasher(DigestAlg alg) : alg_(alg), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, FetchedMd(alg), nullptr);
}

Hasher::Hasher(const Hasher& other) : alg_(other.alg_), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_MD_CTX_copy_ex(ctx_->md, other.ctx_->md);
}

Hasher& Hasher::operator=(const Hasher& other) {
  if (this != &other) {
    alg_ = other.alg_;
    EVP_MD_CTX_copy_ex(ctx_->md, other.ctx_->md);
  }
  return *this;
}

Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::Update(const void* data, size_t len) {
  if (len) EVP_DigestUpdate(ctx_->md, data, len);
}

std::string Hasher::Finish() {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, buf, &len);
  return std::string(reinterpret_cast<char*>(buf), len);
}

std::string HashBytes(DigestAlg alg, std::string_view data) {
  Hasher h(alg);
  h.Update(data);
  return h.Finish();
}

std::string ToHex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : AsBytes(bytes)) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace mtas
