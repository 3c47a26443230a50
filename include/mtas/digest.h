// Digest algorithms and a small RAII hasher over OpenSSL's EVP layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mtas/status.h"

namespace mtas {

enum class DigestAlg : uint8_t { kSha1, kSha256, kSha384, kSha512 };
inline constexpr int kDigestAlgCount = 4;

// "sha256", as on the command line.
std::string_view DigestName(DigestAlg alg);
// "sha-256", the MIME micalg spelling (RFC 5751).
std::string_view DigestMicalg(DigestAlg alg);
// Accepts "sha256", "sha-256", "SHA256" and the micalg spelling.
Result<DigestAlg> ParseDigestName(std::string_view name);
// OpenSSL NID and name ("SHA256") of the algorithm.
int DigestNid(DigestAlg alg);
const char* DigestOpenSslName(DigestAlg alg);
Result<DigestAlg> DigestFromNid(int nid);

// Incremental hash. Copyable (the copy continues from the same state), so
// a streaming reader can take a snapshot of a running digest and finish it.
class Hasher {
 public:
  explicit Hasher(DigestAlg alg);
  Hasher(const Hasher& other);
  Hasher& operator=(const Hasher& other);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void Update(const void* data, size_t len);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Returns the digest; the hasher must not be updated afterwards.
  std::string Finish();
  DigestAlg alg() const { return alg_; }

 private:
  struct Ctx;
  DigestAlg alg_;
  std::unique_ptr<Ctx> ctx_;
};

// One-shot convenience.
std::string HashBytes(DigestAlg alg, std::string_view data);

// Lowercase hexadecimal of raw bytes.
std::string ToHex(std::string_view bytes);

}  // namespace mtas
