// The verifier's defences against crafted messages (header and MIME
// tricks, limits, weak crypto, age, replay).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "mtas/limits.h"
#include "mtas/signature.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::Example;
using test::Key;
using test::Replace;
using test::SignWith;
using test::VerifyWith;

const test::TestKey& Ed() { return Key("ed25519", "mx1.example.com"); }

TEST(Defences, SecondFromIsPermerror) {
  auto s = SignWith(Ed(), Example("mixed-attachment.eml"));
  std::string m = Replace(s.message, "From: Alice Example <alice@example.com>\r\n",
                          "From: Alice Example <alice@example.com>\r\nFrom: CEO "
                          "<ceo@example.com>\r\n");
  VerifyReport r = VerifyWith({&Ed()}, m);
  EXPECT_EQ(r.result, SigResult::kPermError);
  EXPECT_NE(r.signatures[0].reason.find("2 From fields"), std::string::npos);
  // A signature that does not cover From is not affected.
  SignOptions o;
  o.headers = {"Subject"};
  auto s2 = SignWith(Ed(), Example("mixed-attachment.eml"), o);
  m = Replace(s2.message, "From: Alice Example <alice@example.com>\r\n",
              "From: Alice Example <alice@example.com>\r\nFrom: CEO "
              "<ceo@example.com>\r\n");
  EXPECT_EQ(VerifyWith({&Ed()}, m).result, SigResult::kPass);
}

// Found by fuzz_roundtrip: the signer signed a message with two From
// fields, and the signature it made could never pass.
TEST(Defences, SignerRefusesASecondFrom) {
  std::string m = Replace(Example("mixed-attachment.eml"), "From: Alice Example <alice@example.com>\r\n",
                          "From: Alice Example <alice@example.com>\r\nFrom: "
                          "CEO <ceo@example.com>\r\n");
  auto signer = test::SignerFor(Ed());
  ASSERT_TRUE(signer);
  MemorySource src(m);
  auto edits = SignMessage(*signer, src);
  ASSERT_FALSE(edits.ok());
  EXPECT_NE(edits.status().message().find("2 From fields"), std::string::npos) << edits.status().message();
}

TEST(Defences, FieldPrependedAboveTheSignedOneIsNamed) {
  auto s = SignWith(Ed(), Example("mixed-attachment.eml"));
  VerifyReport r = VerifyWith({&Ed()}, "Subject: Your account is locked\r\n" + s.message);
  ASSERT_EQ(r.result, SigResult::kPartial);
  const auto& sig = r.signatures[0];
  bool found = false;
  for (const auto& h : sig.headers)
    if (h.name == "Subject") {
      found = true;
      EXPECT_EQ(test::Name(h.status), "changed");
      EXPECT_TRUE(h.added_above);
      EXPECT_EQ(h.current_value, "Subject: Your account is locked");
    }
  EXPECT_TRUE(found);
  EXPECT_NE(sig.reason.find("put above the signed one"), std::string::npos);
}

// The attacker wraps the signed body in a new multipart whose first part is
// theirs: readers show it first.
std::string WrapWithForgedPart(const std::string& signed_msg) {
  size_t body = signed_msg.find("\r\n\r\n") + 4;
  std::string head = signed_msg.substr(0, body), original = signed_msg.substr(body);
  head = Replace(head, "Content-Type: multipart/mixed;\r\n boundary=\"=_mixed_7c2e91d04a5f\"",
                 "Content-Type: multipart/mixed; boundary=\"evil\"");
  return head +
         "--evil\r\nContent-Type: text/plain\r\n\r\nPlease pay invoice 4711 to "
         "IBAN XX00.\r\n"
         "--evil\r\nContent-Type: multipart/mixed; "
         "boundary=\"=_mixed_7c2e91d04a5f\"\r\n\r\n" +
         original + "\r\n--evil--\r\n";
}

TEST(Defences, MimeWrappingIsNeverPass) {
  SignOptions header;
  header.carrier = Carrier::kHeader;
  VerifyReport r =
      VerifyWith({&Ed()}, WrapWithForgedPart(SignWith(Ed(), Example("mixed-attachment.eml"), header).message));
  ASSERT_EQ(r.signatures.size(), 1u);
  const auto& sig = r.signatures[0];
  EXPECT_EQ(sig.result, SigResult::kPartial) << sig.reason;
  ASSERT_EQ(sig.added_parts.size(), 1u);
  EXPECT_EQ(sig.added_parts[0].path, "1");  // the forged part, shown first
  for (const auto& p : sig.parts) EXPECT_EQ(test::Name(p.status), "moved") << p.path;
  EXPECT_NE(sig.reason.find("part 1 (text/plain) added"), std::string::npos);
  // With the body carrier the entity leaves the top-level epilogue: no carrier.
  SignOptions in_body;
  in_body.carrier = Carrier::kBody;
  VerifyReport body =
      VerifyWith({&Ed()}, WrapWithForgedPart(SignWith(Ed(), Example("mixed-attachment.eml"), in_body).message));
  EXPECT_EQ(body.result, SigResult::kPermError);
}

TEST(Defences, PartAppendedInTheEpilogueIsReported) {
  auto s = SignWith(Ed(), Example("alternative.eml"), [] {
    SignOptions o;
    o.carrier = Carrier::kBody;
    return o;
  }());
  VerifyReport r = VerifyWith({&Ed()}, s.message + "--alt\r\nContent-Type: text/plain\r\n\r\nextra\r\n");
  EXPECT_GT(r.signatures[0].unsigned_trailing_bytes, 0u);
}

TEST(Defences, OnlyFiftySignaturesAreExamined) {
  std::string m = Example("alternative.eml");
  for (int i = 0; i < 55; ++i) m = "X-PostalTracking: MTAS/1.0 msgid=FAKE" + std::to_string(i) + "\r\n" + m;
  VerifyReport r = VerifyWith({}, m);
  EXPECT_EQ(r.signatures.size(), limits::kMaxSignatures);
  bool noted = false;
  for (const auto& n : r.notes) noted |= n.find("only the oldest 50") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(Defences, RsaUnder1024BitsIsRefused) {
  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{768});
  ASSERT_NE(weak, nullptr);
  ParsedSignature sig;
  ParsedSignerInfo si;
  si.algorithm = KeyAlgorithm::kRsa;
  sig.digest = DigestAlg::kSha256;
  sig.signed_attrs_der = "attributes";
  si.signature = std::string(96, 'x');
  Status st = CheckSignatureValue(sig, si, PublicKey::Adopt(weak));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("768 bits refused"), std::string::npos);
}

TEST(Defences, OldSignaturesAreFlagged) {
  auto s = SignWith(Ed(), Example("alternative.eml"));
  sleep(2);
  VerifyOptions o;
  o.max_age_seconds = 1;
  VerifyReport r = VerifyWith({&Ed()}, s.message, o);
  EXPECT_TRUE(r.signatures[0].too_old);
  o.max_age_seconds = 3600;
  EXPECT_FALSE(VerifyWith({&Ed()}, s.message, o).signatures[0].too_old);
}

TEST(Defences, EnvelopeBindingResistsReplay) {
  auto sk = SigningKey::Load(Ed().key_path);
  SignOptions so;
  so.signer = Ed().signer;
  auto signer = Signer::Create(std::move(*sk), so);
  std::string in = Example("alternative.eml");
  MemorySource src(in);
  Envelope sent{"<Alice@Example.com>", {"bob@example.net", "carol@example.org"}};
  auto edits = SignMessage(**signer, src, &sent);
  ASSERT_TRUE(edits.ok());
  StringSink out;
  ASSERT_TRUE(WriteSignedMessage(src, *edits, out).ok());

  VerifyOptions o;
  o.envelope = Envelope{"alice@example.com", {"carol@example.org", "bob@example.net"}};  // order and case free
  VerifyReport same = VerifyWith({&Ed()}, out.out, o);
  EXPECT_EQ(same.result, SigResult::kPass);
  // A relay splits the transaction per destination: each next hop sees
  // only its own recipients, and that is no replay.
  for (const char* one : {"bob@example.net", "CAROL@example.org"}) {
    o.envelope = Envelope{"alice@example.com", {one}};
    EXPECT_EQ(VerifyWith({&Ed()}, out.out, o).result, SigResult::kPass) << one;
  }
  o.envelope = Envelope{"alice@example.com", {"bob@example.net", "victim@example.biz"}};
  EXPECT_EQ(VerifyWith({&Ed()}, out.out, o).result, SigResult::kFail);
  o.envelope = Envelope{"alice@example.com", {"victim@example.biz"}};
  VerifyReport replay = VerifyWith({&Ed()}, out.out, o);
  EXPECT_EQ(replay.result, SigResult::kFail);
  EXPECT_NE(replay.signatures[0].reason.find("RCPT TO differs"), std::string::npos);
  o.envelope = Envelope{"bounce@evil.example", {}};
  EXPECT_EQ(VerifyWith({&Ed()}, out.out, o).result, SigResult::kFail);
  // Relayed on since (two Received fields added): another transmission, not
  // checked.
  VerifyReport relayed = VerifyWith({&Ed()}, "Received: from b by c; x\r\nReceived: from a by b; x\r\n" + out.out, o);
  EXPECT_EQ(relayed.result, SigResult::kPass);
  VerifyReport unknown = VerifyWith({&Ed()}, out.out);
  EXPECT_EQ(unknown.result, SigResult::kPass);
  EXPECT_NE(unknown.signatures[0].notes.back().find("none was given"), std::string::npos);
  // A later hop signs: the earlier binding was for an earlier transmission.
  auto hop2 = SignWith(Key("ecdsa-p256", "relay.example.org"), out.out);
  VerifyReport later = VerifyWith({&Ed(), &Key("ecdsa-p256", "relay.example.org")}, hop2.message, o);
  EXPECT_EQ(later.result, SigResult::kPass);
}

}  // namespace
}  // namespace mtas
