// Reading OpenPGP keys (mtas/openpgp.h) from a key gpg made: a certify-only
// primary key, a signing subkey and an encryption subkey (tests/data/openpgp).
#include "mtas/openpgp.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "common/ossl.h"
#include "unit/test_util.h"

namespace mtas {
namespace {

constexpr const char* kPrimary = "7D16A3577E856B80CB2A446E35F230436E18211E";
constexpr const char* kSigning = "8C63F298B38E2E08496E32531861D5AED1896CC6";
constexpr const char* kEncrypting = "D2D2AED14E4874C5B14AEC6193885913FBBFDF89";

std::string Data(const char* name) {
  return test::ReadFile(std::string(MTAS_SOURCE_DIR) + "/tests/data/openpgp/" + name);
}

TEST(OpenPgp, FingerprintsAreFortyHexDigits) {
  EXPECT_EQ(*NormalizeOpenPgpFingerprint("0x8c63f298b38e2e08496e32531861d5aed1896cc6"), kSigning);
  EXPECT_EQ(*NormalizeOpenPgpFingerprint(kSigning), kSigning);
  for (const char* bad :
       {"", "0x", "8C63F298B38E2E08496E32531861D5AED1896CC", "8C63F298B38E2E08496E32531861D5AED1896CC6A",
        "1861D5AED1896CC6", "8C63F298B38E2E08496E32531861D5AED1896CCZ", "8C63 F298B38E2E08496E32531861D5AED1896C"})
    EXPECT_EQ(NormalizeOpenPgpFingerprint(bad).status().code(), Status::Code::kMalformed) << bad;
}

TEST(OpenPgp, TheSigningSubkeyIsReadWithItsPrimaryKeysUserIds) {
  for (const char* file : {"public.gpg", "public.asc", "secret.gpg"}) {
    auto key = ReadOpenPgpKey(Data(file), kSigning);
    ASSERT_TRUE(key.ok()) << file << ": " << key.status().message();
    EXPECT_EQ(key->fingerprint, kSigning);
    EXPECT_EQ(key->key.algorithm(), KeyAlgorithm::kEd25519);
    EXPECT_EQ(key->user_id_domains, std::vector<std::string>{"signer.example"});
    EXPECT_TRUE(key->secret_pem.empty());
  }
}

TEST(OpenPgp, KeysThatMayNotSignAreRefused) {
  for (const char* fpr : {kPrimary, kEncrypting}) {
    auto key = ReadOpenPgpKey(Data("public.gpg"), fpr);
    EXPECT_EQ(key.status().code(), Status::Code::kInvalidArgument) << fpr;
    EXPECT_NE(key.status().message().find("not allowed to sign"), std::string::npos) << key.status().message();
  }
  EXPECT_EQ(ReadOpenPgpKey(Data("public.gpg"), "0123456789ABCDEF0123456789ABCDEF01234567").status().code(),
            Status::Code::kNotFound);
}

TEST(OpenPgp, WhatIsNotOpenPgpIsMalformed) {
  for (std::string bad :
       {std::string(), std::string("<html>no keys</html>"), std::string(2 * 1024 * 1024, 'A'),
        std::string("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")})
    EXPECT_EQ(ReadOpenPgpKey(bad, kSigning).status().code(), Status::Code::kMalformed) << bad.substr(0, 40);
}

// The secret key, as PEM, signs what the public key from the server verifies.
TEST(OpenPgp, TheSecretKeyIsTheSameKeyAsPem) {
  auto secret = ReadOpenPgpSecretKey(Data("secret.gpg"), "");  // the only key that may sign
  ASSERT_TRUE(secret.ok()) << secret.status().message();
  EXPECT_EQ(secret->fingerprint, kSigning);
  auto published = ReadOpenPgpKey(Data("public.asc"), kSigning);
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(secret->key.SpkiDer(), published->key.SpkiDer());

  ossl::BioPtr bio(BIO_new_mem_buf(secret->secret_pem.data(), static_cast<int>(secret->secret_pem.size())));
  ossl::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(pkey);
  const std::string text = "signed attributes";
  unsigned char sig[64];
  size_t len = sizeof sig;
  ossl::MdCtxPtr sign(EVP_MD_CTX_new()), verify(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestSignInit(sign.get(), nullptr, nullptr, nullptr, pkey.get()), 1);
  ASSERT_EQ(EVP_DigestSign(sign.get(), sig, &len, reinterpret_cast<const unsigned char*>(text.data()), text.size()), 1);
  ASSERT_EQ(EVP_DigestVerifyInit(verify.get(), nullptr, nullptr, nullptr, published->key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(verify.get(), sig, len, reinterpret_cast<const unsigned char*>(text.data()), text.size()),
            1);

  EXPECT_EQ(ReadOpenPgpSecretKey(Data("public.gpg"), "").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ReadOpenPgpSecretKey(Data("secret.gpg"), kEncrypting).status().code(), Status::Code::kInvalidArgument);
}

// The class of a forged key: every single changed byte of the published key
// either is refused or yields the very same key for the very same domains
// (a changed user ID, key or binding signature must not verify).
TEST(OpenPgp, NoChangedByteYieldsAnotherKeyOrName) {
  const std::string original = Data("public.gpg");
  auto good = ReadOpenPgpKey(original, kSigning);
  ASSERT_TRUE(good.ok());
  int refused = 0, same = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    std::string changed = original;
    changed[i] = static_cast<char>(changed[i] ^ (i % 2 ? 0x01 : 0x20));
    auto key = ReadOpenPgpKey(changed, kSigning);
    if (!key.ok()) {
      ++refused;
      continue;
    }
    ++same;
    EXPECT_EQ(key->key.SpkiDer(), good->key.SpkiDer()) << "byte " << i;
    EXPECT_EQ(key->user_id_domains, good->user_id_domains) << "byte " << i;
  }
  EXPECT_GT(refused, static_cast<int>(original.size()) / 2) << same << " changes still gave the key";
}

}  // namespace
}  // namespace mtas
