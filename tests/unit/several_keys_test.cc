// A hop signed with several keys at once (one SignerInfo each, over the
// same signed attributes): how signers build it and how verifiers decide,
// whichever of the keys they know (docs/protocol.md §2a).
#include <gtest/gtest.h>

#include "carrier/carrier.h"
#include "mtas/keys.h"
#include "mtas/report.h"
#include "mtas/sign.h"
#include "mtas/signature.h"
#include "mtas/verify.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::Key;
using test::TestKey;

const TestKey& Ed() { return Key("ed25519", "mail.example.com"); }
const TestKey& Rsa() { return Key("rsa2048", "mail.example.com"); }
const TestKey& Ec() { return Key("ecdsa-p256", "mail.example.com"); }
// Another key of the same signer, that signs nothing here.
const TestKey& Stranger() { return Key("ecdsa-p256", "other.example.com"); }

const std::string kMessage =
    "From: alice@example.com\r\nTo: bob@example.net\r\nSubject: two keys\r\n"
    "Date: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <two@example.com>\r\n\r\nHello,\r\nBob.\r\n";

std::vector<SigningKey> Load(const std::vector<const TestKey*>& keys, bool with_certs = false) {
  std::vector<SigningKey> out;
  for (const TestKey* k : keys) {
    auto sk = SigningKey::Load(k->key_path, with_certs ? k->cert_path : "");
    EXPECT_TRUE(sk.ok()) << sk.status().message();
    if (sk.ok()) out.push_back(std::move(*sk));
  }
  return out;
}

using SignedTwice = test::Signed;

SignedTwice SignWithKeys(const std::vector<const TestKey*>& keys, const std::string& message = kMessage,
                         SignOptions options = {}) {
  options.signer = "mail.example.com";
  auto signer = Signer::Create(Load(keys), options);
  EXPECT_TRUE(signer.ok()) << signer.status().message();
  return signer.ok() ? test::SignWith(**signer, message) : SignedTwice{};
}

// The keys pinned for the signer (as their certificates, which pins the
// public key).
VerifyReport VerifyPinned(const std::vector<const TestKey*>& keys, const std::string& message) {
  PinnedKeyResolver pinned;
  for (const TestKey* k : keys) EXPECT_TRUE(pinned.Add("mail.example.com", k->cert_path).ok());
  VerifyOptions options;
  options.resolver = &pinned;
  MemorySource src(message);
  auto report = Verifier(options).Verify(src);
  EXPECT_TRUE(report.ok());
  return report.ok() ? *report : VerifyReport{};
}

// The DER signature in the header carrier of `signed_message`.
std::string SignatureDer(const SignedTwice& s) {
  const std::string& field = s.edits.prepend.at(1);
  return Base64Decode(field.substr(field.find("b=") + 2));
}

// `signed_message` with its signature replaced by `der`.
std::string WithSignature(const SignedTwice& s, const std::string& der) {
  std::string services;
  return test::Replace(s.message, s.edits.prepend.at(1),
                       SignatureHeaderField(s.edits.msgid, services, der, s.edits.eol));
}

TEST(SeveralKeys, EveryKeyAddsOneSignerInfoOverTheSameAttributes) {
  auto s = SignWithKeys({&Ed(), &Rsa()});
  auto sig = ParseSignature(SignatureDer(s));
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  ASSERT_EQ(sig->signer_infos.size(), 2u);
  EXPECT_EQ(sig->digest, DigestAlg::kSha512);  // Ed25519 takes SHA-512, so every key signs it
  std::vector<KeyAlgorithm> algs;
  for (const auto& si : sig->signer_infos) algs.push_back(si.algorithm);
  EXPECT_NE(std::find(algs.begin(), algs.end(), KeyAlgorithm::kEd25519), algs.end());
  EXPECT_NE(std::find(algs.begin(), algs.end(), KeyAlgorithm::kRsa), algs.end());
  auto keys = Load({&Ed(), &Rsa()});
  for (const auto& si : sig->signer_infos) {
    const SigningKey& k = si.algorithm == KeyAlgorithm::kEd25519 ? keys[0] : keys[1];
    EXPECT_TRUE(CheckSignatureValue(*sig, si, k.public_key()).ok());
  }
}

// Whichever of the keys a verifier knows, the hop passes; the report says
// which SignerInfo verified and which could not be checked.
TEST(SeveralKeys, AVerifierThatKnowsAnyOneOfTheKeysPasses) {
  auto s = SignWithKeys({&Ed(), &Rsa()});
  struct Case {
    std::vector<const TestKey*> known;
    int verified;
  } cases[] = {{{&Ed(), &Rsa()}, 2}, {{&Ed()}, 1}, {{&Rsa()}, 1}};
  for (const auto& c : cases) {
    auto r = VerifyPinned(c.known, s.message);
    ASSERT_EQ(r.signatures.size(), 1u);
    const SignatureReport& hop = r.signatures[0];
    SCOPED_TRACE(ReportText(r, nullptr));
    EXPECT_EQ(hop.result, SigResult::kPass) << hop.reason;
    ASSERT_EQ(hop.signer_infos.size(), 2u);
    int pass = 0, neutral = 0;
    for (const auto& si : hop.signer_infos) {
      pass += si.result == SigResult::kPass;
      neutral += si.result == SigResult::kNeutral;
    }
    EXPECT_EQ(pass, c.verified);
    EXPECT_EQ(neutral, 2 - c.verified);
    EXPECT_NE(ReportText(r, nullptr).find("ed25519+rsa/sha512"), std::string::npos);
    EXPECT_EQ(hop.key_method, "pinned");
  }
}

// No SignerInfo by a key the signer has: a fail, as with one SignerInfo.
TEST(SeveralKeys, NoneByAKnownKeyFails) {
  auto s = SignWithKeys({&Ed(), &Rsa()});
  auto r = VerifyPinned({&Stranger()}, s.message);
  ASSERT_EQ(r.signatures.size(), 1u);
  EXPECT_EQ(r.signatures[0].result, SigResult::kFail);
  EXPECT_NE(r.signatures[0].reason.find("not the key that signed"), std::string::npos) << r.signatures[0].reason;
}

// A SignerInfo whose value does not verify with its signer's key fails the
// hop although another verifies: a verifier never passes a hop any check
// of which failed.
TEST(SeveralKeys, OneBadSignatureValueFailsTheHop) {
  auto s = SignWithKeys({&Ed(), &Rsa()});
  std::string der = SignatureDer(s);
  auto sig = ParseSignature(der);
  ASSERT_TRUE(sig.ok());
  for (size_t bad = 0; bad < 2; ++bad) {
    std::string value = sig->signer_infos[bad].signature;
    size_t at = der.find(value);
    ASSERT_NE(at, std::string::npos);
    std::string tampered = der;
    tampered[at + value.size() / 2] ^= 0x01;
    auto r = VerifyPinned({&Ed(), &Rsa()}, WithSignature(s, tampered));
    ASSERT_EQ(r.signatures.size(), 1u);
    EXPECT_EQ(r.signatures[0].result, SigResult::kFail);
    EXPECT_NE(r.signatures[0].reason.find("SignerInfo " + std::to_string(bad + 1)), std::string::npos)
        << r.signatures[0].reason;
    EXPECT_EQ(r.signatures[0].signer_infos[bad].result, SigResult::kFail);
    EXPECT_EQ(r.signatures[0].signer_infos[1 - bad].result, SigResult::kPass);
    // Only the other key known: the bad one cannot be checked, the hop passes.
    const TestKey* other = sig->signer_infos[1 - bad].algorithm == KeyAlgorithm::kEd25519 ? &Ed() : &Rsa();
    EXPECT_EQ(VerifyPinned({other}, WithSignature(s, tampered)).signatures[0].result, SigResult::kPass);
  }
}

// A hop with several keys is judged on its content as any other: a change
// readers see is reported, and what can be undone is recovered (the
// rebuilt message is checked with the key that verified).
TEST(SeveralKeys, ChangesAreReportedAndRecoveredAsForOneKey) {
  auto s = SignWithKeys({&Ec(), &Rsa()});
  std::string changed = test::Replace(s.message, "Bob.\r\n", "Bob.\r\n-- \r\nlist footer\r\n");
  PinnedKeyResolver pinned;
  ASSERT_TRUE(pinned.Add("mail.example.com", Ec().cert_path).ok());
  ASSERT_TRUE(pinned.Add("mail.example.com", Rsa().cert_path).ok());
  VerifyOptions options;
  options.resolver = &pinned;
  options.recover = true;
  MemorySource src(changed);
  auto r = Verifier(options).Verify(src);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->signatures.size(), 1u);
  EXPECT_EQ(r->signatures[0].result, SigResult::kPartial) << r->signatures[0].reason;
  EXPECT_TRUE(r->signatures[0].recovered) << r->signatures[0].not_recovered;

  std::string from = test::Replace(s.message, "From: alice@example.com", "From: mallory@example.com");
  EXPECT_EQ(VerifyPinned({&Ec(), &Rsa()}, from).signatures[0].result, SigResult::kFail);
}

TEST(SeveralKeys, SignerRefusesWhatVerifiersCouldNotCheck) {
  SignOptions o;
  o.signer = "mail.example.com";
  EXPECT_FALSE(Signer::Create(Load({&Ed(), &Ed()}), o).ok());  // one key twice
  auto with_cert = Load({&Rsa()}, true);
  auto bare = Load({&Rsa()});
  EXPECT_FALSE(Signer::Create({with_cert[0], bare[0]}, o).ok());  // the same key, once with its certificate
  EXPECT_FALSE(Signer::Create(Load({&Ed(), &Rsa(), &Ec(), &Stranger(), &Key("rsa2048", "x.example.com")}), o).ok());
  EXPECT_FALSE(Signer::Create(std::vector<SigningKey>{}, o).ok());
  o.digest = DigestAlg::kSha256;
  EXPECT_FALSE(Signer::Create(Load({&Rsa(), &Ed()}), o).ok());  // Ed25519 signs SHA-512 only
  EXPECT_TRUE(Signer::Create(Load({&Rsa(), &Ec()}), o).ok());
}

// Certificates go with the key whose public key they hold, in any order.
TEST(SeveralKeys, CertificatesPairWithTheirKeys) {
  auto keys = LoadSigningKeys({Ed().key_path, Rsa().key_path}, {Rsa().cert_path, Ed().cert_path});
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_TRUE((*keys)[0].has_real_cert());
  EXPECT_EQ((*keys)[0].algorithm(), KeyAlgorithm::kEd25519);
  EXPECT_TRUE((*keys)[1].has_real_cert());
  auto partly = LoadSigningKeys({Ed().key_path, Rsa().key_path}, {Rsa().cert_path});
  ASSERT_TRUE(partly.ok());
  EXPECT_FALSE((*partly)[0].has_real_cert());
  EXPECT_TRUE((*partly)[1].has_real_cert());
  auto stray = LoadSigningKeys({Ed().key_path}, {Rsa().cert_path});
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("holds none of the signing keys"), std::string::npos);
}

}  // namespace
}  // namespace mtas
