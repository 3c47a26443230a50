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

namespace mtas {
namespace {

// A user ID stands for the domain of the one address it is, however it is
// dressed: the RFC 5322 reading, never the last '@' or the last '<'.
TEST(OpenPgp, AUserIdNamesTheDomainOfItsOneAddress) {
  const std::pair<const char*, const char*> cases[] = {
      {"mtas <postmaster@Mail.Example.COM>", "mail.example.com"},
      {"postmaster@mail.example.com", "mail.example.com"},
      {"\"mtas, the MTA\" <postmaster@mail.example.com>", "mail.example.com"},
      {"Eve <e@attacker.example> (c <x@mail.example.com>)", "attacker.example"},
      {"\"<x@mail.example.com>\"@attacker.example", "attacker.example"},
      {"e@attacker.example x@mail.example.com", ""},
      {"a@attacker.example, b@mail.example.com", ""},
      {"mtas <postmaster@mail.example.com", ""},
      {"mtas", ""},
      {"", ""},
      {"mtas <postmaster@mail.example.com.>", ""},
  };
  for (const auto& [uid, domain] : cases) EXPECT_EQ(OpenPgpUserIdDomain(uid), domain) << uid;
  EXPECT_EQ(OpenPgpUserIdDomain(std::string("e@attacker.example\0@mail.example.com", 36)), "");
}

TEST(OpenPgp, AKeyServerIsAPlainHostAndPort) {
  const std::string fpr = kSigning, q = std::string(kHkpLookup) + kSigning;
  EXPECT_EQ(*HkpLookupUrl("hkp://keys.example.com", fpr), "http://keys.example.com:11371" + q);
  EXPECT_EQ(*HkpLookupUrl("HKP://keys.example.com:8080/", fpr), "http://keys.example.com:8080" + q);
  EXPECT_EQ(*HkpLookupUrl("hkps://keys.example.com", fpr), "https://keys.example.com" + q);
  EXPECT_EQ(*HkpLookupUrl("https://keys.example.com:8443", "0x" + fpr), "https://keys.example.com:8443" + q);
  for (const char* bad :
       {"keys.example.com", "ldap://keys.example.com", "hkp://", "hkp://keys.example.com/path",
        "hkp://u:p@keys.example.com", "hkp://evil.example@keys.example.com", "hkp://evil.example%2ekeys.example.com",
        "hkp://[::1]:11371", "hkp://keys.example.com:", "hkp://keys.example.com:80:80", "hkp://keys.example.com:123456",
        "hkp://keys.example.com\\@evil.example", "hkp://keys.example.com?x", "hkp://keys.example.com#x"})
    EXPECT_EQ(HkpLookupUrl(bad, fpr).status().code(), Status::Code::kMalformed) << bad;
  EXPECT_EQ(HkpLookupUrl("hkp://keys.example.com", "D437374A40D62621").status().code(), Status::Code::kMalformed);
}

// Packets, as RFC 4880 §4.2 frames them (new format, two-octet lengths).
std::string Packet(int tag, const std::string& body) {
  std::string p(1, static_cast<char>(0xc0 | tag));
  if (body.size() < 192) {
    p += static_cast<char>(body.size());
  } else {
    p += static_cast<char>(((body.size() - 192) >> 8) + 192);
    p += static_cast<char>((body.size() - 192) & 0xff);
  }
  return p + body;
}
std::string Mpi(int bits) {
  std::string m{static_cast<char>(bits >> 8), static_cast<char>(bits & 0xff)};
  m += static_cast<char>(0x80 >> ((8 - bits % 8) % 8));
  return m + std::string(static_cast<size_t>((bits + 7) / 8 - 1), '\x01');
}
std::string KeyBody(int algorithm, const std::string& numbers) {
  return std::string("\x04\x5f\x00\x00\x00", 5) + static_cast<char>(algorithm) + numbers;
}

// Shapes that would make librnp work long (its self-signature checks) or
// that no key block has are refused before librnp reads them.
TEST(OpenPgp, KeyBlocksOfUnusualShapeAreRefusedFirst) {
  const std::string good = Data("public.gpg");
  const std::pair<std::string, const char*> cases[] = {
      {Packet(6, KeyBody(1, Mpi(2048) + Mpi(40))), "exponent of 40 bits"},
      {Packet(6, KeyBody(1, Mpi(16384) + Mpi(17))), "over 8192 bits"},
      {Packet(6, KeyBody(17, Mpi(2048))), "DSA"},
      {good + Packet(8, "\x01\x02\x03"), "type 8"},
      {Packet(8, "\x01\x02\x03"), "no primary key first"},
      {Packet(13, "mtas <postmaster@signer.example>") + good, "no primary key first"},
      {good + good, "more than one primary key"},
      {good + Packet(11, "literal"), "type 11"},
      {good.substr(0, good.size() - 1), "truncated"},
      {std::string("\xc6\xff\x7f\xff\xff\xff", 6), "truncated"},
      {std::string("\x9b\x00", 2), "indeterminate"},
  };
  for (const auto& [data, why] : cases) {
    auto key = ReadOpenPgpKey(data, kSigning);
    EXPECT_EQ(key.status().code(), Status::Code::kMalformed) << why;
    EXPECT_NE(key.status().message().find(why), std::string::npos) << key.status().message();
  }
  std::string many_subkeys = good;
  for (int i = 0; i < 17; ++i) many_subkeys += Packet(14, KeyBody(22, Mpi(263)));
  EXPECT_NE(ReadOpenPgpKey(many_subkeys, kSigning).status().message().find("more than 16 subkeys"), std::string::npos);
  std::string many_user_ids = good;
  for (int i = 0; i < 33; ++i) many_user_ids += Packet(13, "u" + std::to_string(i) + "@signer.example");
  EXPECT_NE(ReadOpenPgpKey(many_user_ids, kSigning).status().message().find("more than 32 user IDs"),
            std::string::npos);
}

}  // namespace
}  // namespace mtas
