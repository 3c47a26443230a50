// Signing and verifying whole messages: every body shape and carrier, the
// byte-identity of signed output, multi-hop chains and tampering.
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "carrier/carrier.h"
#include "common/ascii.h"
#include "mtas/report.h"
#include "mtas/result_headers.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::Example;
using test::HeaderOf;
using test::Key;
using test::Opts;
using test::Replace;
using test::SignWith;
using test::VerifyWith;

const test::TestKey& Ed() { return Key("ed25519", "mx1.example.com"); }
const test::TestKey& Ec() { return Key("ecdsa-p256", "relay.example.org"); }
const test::TestKey& Rsa() { return Key("rsa2048", "mx.example.net"); }

const SignatureReport& Hop(const VerifyReport& r, int hop) {
  for (const auto& s : r.signatures)
    if (s.hop == hop) return s;
  static SignatureReport none;
  ADD_FAILURE() << "no hop " << hop;
  return none;
}

TEST(Msgid, FreshSixteenCharacterTokensAcrossBatchesAndThreads) {
  std::set<std::string> seen;
  auto take = [&seen](int n) {
    for (int i = 0; i < n; ++i) {
      std::string id = NewMsgid();
      ASSERT_EQ(id.size(), 16u);
      ASSERT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos) << id;
      ASSERT_TRUE(seen.insert(id).second) << "repeated msgid " << id;
    }
  };
  take(1000);  // several 4 KiB batches of random bytes
  std::vector<std::string> other;
  std::thread([&other] {
    for (int i = 0; i < 300; ++i) other.push_back(NewMsgid());
  }).join();
  for (const auto& id : other) EXPECT_TRUE(seen.insert(id).second) << "thread repeated " << id;
}

TEST(Msgid, AForkedChildDoesNotRepeatItsParent) {
  (void)NewMsgid();  // the parent holds a batch with bytes left
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string id = NewMsgid();
    ssize_t w = write(fds[1], id.data(), id.size());
    _exit(w == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  char buf[16] = {};
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 16);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_NE(std::string(buf, 16), NewMsgid()) << "the child used the parent's next random bytes";
}

TEST(SignVerify, EveryShapeCarrierAndAlgorithmPasses) {
  for (const auto& name : test::ExampleNames()) {
    for (Carrier c : {Carrier::kAuto, Carrier::kBody, Carrier::kHeader}) {
      for (const auto* key : {&Ed(), &Ec(), &Rsa()}) {
        SCOPED_TRACE(name + " " + std::string(CarrierName(c)) + " " + key->algorithm);
        auto s = SignWith(*key, Example(name), Opts(c));
        VerifyReport r = VerifyWith({key}, s.message);
        ASSERT_EQ(r.signatures.size(), 1u);
        const auto& sig = r.signatures[0];
        EXPECT_EQ(sig.result, SigResult::kPass) << sig.reason;
        EXPECT_TRUE(sig.content_intact);
        EXPECT_EQ(sig.signer, key->signer);
        EXPECT_TRUE(sig.added_parts.empty());
        EXPECT_FALSE(sig.parts.empty());
        for (const auto& p : sig.parts) EXPECT_EQ(test::Name(p.status), "same") << p.path;
        EXPECT_EQ(sig.received_intact, std::optional<bool>(true));
        EXPECT_EQ(sig.key_method, "pinned");
        if (c != Carrier::kAuto) {
          EXPECT_EQ(sig.carrier, std::optional<Carrier>(c));
        }
      }
    }
  }
}

// auto is the header carrier, for every shape (docs/protocol.md "Choosing
// the carrier"): it is the one that survived every list manager measured.
TEST(SignVerify, AutoCarrierIsTheHeaderCarrier) {
  for (const auto& name : test::ExampleNames())
    EXPECT_EQ(SignWith(Ed(), Example(name)).edits.carrier, Carrier::kHeader) << name;
  SignOptions body;
  body.carrier = Carrier::kBody;
  EXPECT_EQ(SignWith(Ed(), Example("mixed-attachment.eml"), body).edits.carrier, Carrier::kBody);
}

// Signed output = the added header fields + the input byte for byte + the carrier.
TEST(SignVerify, OutputIsTheInputPlusTrackingAndCarrier) {
  for (const auto& name : test::ExampleNames()) {
    std::string in = Example(name);
    for (Carrier c : {Carrier::kAuto, Carrier::kHeader}) {
      auto s = SignWith(Ec(), in, Opts(c));
      std::string prefix;
      for (const auto& f : s.edits.prepend) prefix += f + s.edits.eol;
      ASSERT_EQ(s.message.substr(0, prefix.size()), prefix) << name;
      ASSERT_EQ(s.message.substr(prefix.size(), in.size()), in) << name;
      EXPECT_EQ(s.message.substr(prefix.size() + in.size()), s.edits.body_suffix) << name;
      EXPECT_EQ(s.edits.prepend[0].rfind("X-PostalTracking: MTAS/1.0 msgid=" + s.edits.msgid, 0), 0u);
      if (s.edits.carrier == Carrier::kHeader) {
        EXPECT_TRUE(s.edits.body_suffix.empty());
        EXPECT_EQ(s.edits.prepend[1].rfind("MTAS-Signature: ", 0), 0u);
      } else {
        EXPECT_EQ(s.edits.body_suffix.rfind("Content-Type: multipart/x-postal-data; msgid=\"" + s.edits.msgid, 0), 0u);
      }
    }
  }
}

TEST(SignVerify, LfOnlyInputGetsLfOnlyAdditions) {
  auto s = SignWith(Ed(), Example("lf-only.eml"), Opts(Carrier::kBody));
  EXPECT_EQ(s.message.find('\r'), std::string::npos);
  EXPECT_EQ(VerifyWith({&Ed()}, s.message).result, SigResult::kPass);
  // A relay that turns LF into CRLF changes nothing that matters.
  std::string crlf;
  for (char ch : s.message) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  VerifyReport r = VerifyWith({&Ed()}, crlf);
  EXPECT_EQ(r.result, SigResult::kPass) << r.signatures[0].reason;
}

TEST(SignVerify, BodyCarrierWrapsANonMultipartBody) {
  std::string in = Example("text-plain.eml");
  auto s = SignWith(Rsa(), in, Opts(Carrier::kBody));
  EXPECT_TRUE(s.edits.wrapped);
  ASSERT_EQ(s.edits.removed.size(), 2u);  // Content-Type and Content-Transfer-Encoding move into the part
  EXPECT_NE(s.message.find("Content-Type: multipart/mixed; boundary=\"----=_mtas_wrap_"), std::string::npos);
  std::string body = in.substr(in.find("\r\n\r\n") + 4);
  EXPECT_NE(s.message.find(body), std::string::npos) << "original body kept unchanged";
  VerifyReport r = VerifyWith({&Rsa()}, s.message);
  ASSERT_EQ(r.result, SigResult::kPass) << r.signatures[0].reason;
  EXPECT_EQ(r.signatures[0].wrapped, "text/plain; charset=us-ascii");
  ASSERT_EQ(r.signatures[0].parts.size(), 1u);
  EXPECT_EQ(r.signatures[0].parts[0].content_type, "text/plain");
}

TEST(SignVerify, ExistingEpilogueIsKeptAndTheEntityFollowsIt) {
  std::string in = Example("with-epilogue.eml");
  auto s = SignWith(Ed(), in, Opts(Carrier::kBody));
  std::string epilogue_tail = in.substr(in.rfind("--\r\n") + 4);
  ASSERT_FALSE(epilogue_tail.empty());
  size_t at = s.message.find(epilogue_tail);
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(at, s.message.find("Content-Type: multipart/x-postal-data"));
  EXPECT_EQ(VerifyWith({&Ed()}, s.message).result, SigResult::kPass);
}

// Signs `in` written `chunk` bytes at a time, for each chunk size, and
// expects each signed message to verify.
void ExpectChunkedSigningVerifies(const test::TestKey& key, const std::string& in, std::vector<size_t> chunks) {
  auto signer = test::SignerFor(key);
  ASSERT_TRUE(signer);
  for (size_t chunk : chunks) {
    auto session = signer->Begin();
    for (size_t i = 0; i < in.size(); i += chunk) session->Write(in.data() + i, std::min(chunk, in.size() - i));
    auto edits = session->Finish();
    ASSERT_TRUE(edits.ok());
    MemorySource src(in);
    StringSink out;
    ASSERT_TRUE(WriteSignedMessage(src, *edits, out).ok());
    EXPECT_EQ(VerifyWith({&key}, out.out).result, SigResult::kPass) << "chunks of " << chunk;
  }
}

TEST(SignVerify, ChunkedSigningMatchesWholeSigning) {
  ExpectChunkedSigningVerifies(Ec(), Example("related-in-mixed.eml"), {1, 7, 100, 65536});
}

// A large message (the second hashing thread on, a base64 attachment) signed
// from writes of every size around the scanner's 64 KiB runs and blocks.
TEST(SignVerify, LargeMessageChunkedSigningMatchesWholeSigning) {
  std::string binary;
  for (size_t i = 0; binary.size() < 400 * 1024; ++i) binary.push_back(static_cast<char>(i * 2654435761u >> 13));
  std::string in =
      "From: a@example.com\r\nTo: b@example.net\r\nSubject: large\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
      std::string(3000, 'x') +
      "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      Base64Encode(binary, 76) + "--b--\r\n";
  ExpectChunkedSigningVerifies(Ed(), in, {in.size(), 16384, 65536, 65537});
}

TEST(SignVerify, DigestAndCanonicalizationChoices) {
  for (DigestAlg d : {DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512}) {
    for (Canon c : {Canon::kSimple, Canon::kRelaxed}) {
      SignOptions o;
      o.digest = d;
      o.canon = c;
      auto s = SignWith(Rsa(), Example("alternative.eml"), o);
      VerifyReport r = VerifyWith({&Rsa()}, s.message);
      ASSERT_EQ(r.result, SigResult::kPass);
      EXPECT_EQ(r.signatures[0].digest, DigestName(d));
      EXPECT_EQ(r.signatures[0].canonicalization, CanonName(c));
      // Without the tracking hints the verifier needs a second pass: same result.
      std::string no_hints = s.message;
      size_t semi = no_hints.find("; carrier=");
      no_hints.erase(semi, no_hints.find("\r\n") - semi);
      EXPECT_EQ(VerifyWith({&Rsa()}, no_hints).result, SigResult::kPass);
    }
  }
}

TEST(SignVerify, Sha1OnlyWhenAllowed) {
  auto sk = SigningKey::Load(Rsa().key_path);
  ASSERT_TRUE(sk.ok());
  SignOptions o;
  o.signer = Rsa().signer;
  o.digest = DigestAlg::kSha1;
  EXPECT_FALSE(Signer::Create(*sk, o).ok());
  o.allow_sha1 = true;
  auto s = SignWith(Rsa(), Example("alternative.eml"), o);
  VerifyReport strict = VerifyWith({&Rsa()}, s.message);
  EXPECT_EQ(strict.result, SigResult::kPermError);
  EXPECT_NE(strict.signatures[0].reason.find("SHA-1"), std::string::npos);
  VerifyOptions allow;
  allow.allow_sha1 = true;
  EXPECT_EQ(VerifyWith({&Rsa()}, s.message, allow).result, SigResult::kPass);
}

TEST(SignVerify, Ed25519RequiresSha512) {
  auto sk = SigningKey::Load(Ed().key_path);
  ASSERT_TRUE(sk.ok());
  SignOptions o;
  o.signer = Ed().signer;
  o.digest = DigestAlg::kSha256;
  auto r = Signer::Create(*sk, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("RFC 8419"), std::string::npos);
}

TEST(SignVerify, EmbeddedCertificateValidatedAgainstACaFile) {
  auto s = SignWith(
      Ec(), Example("mixed-attachment.eml"),
      [] {
        SignOptions o;
        o.embed_certificate = true;
        return o;
      }(),
      true);
  auto pkix = PkixResolver::FromCaFile(Ec().cert_path);  // self-signed: its own CA
  ASSERT_TRUE(pkix.ok());
  VerifyOptions opt;
  opt.resolver = pkix->get();
  VerifyReport r = VerifyWith({}, s.message, opt);
  ASSERT_EQ(r.result, SigResult::kPass) << r.signatures[0].reason;
  EXPECT_EQ(r.signatures[0].key_method, "pkix");
  // The same certificate does not vouch for another signer name.
  SignOptions other;
  other.embed_certificate = true;
  other.signer = "evil.example.net";
  auto forged = SignWith(Ec(), Example("mixed-attachment.eml"), other, true);
  VerifyReport f = VerifyWith({}, forged.message, opt);
  EXPECT_EQ(f.result, SigResult::kNeutral);  // no trust path: no key, other sources may still know one
  EXPECT_NE(f.signatures[0].reason.find("not trusted"), std::string::npos);
  // Without the certificate embedded PKIX finds nothing: neutral.
  auto bare = SignWith(Ec(), Example("mixed-attachment.eml"), {}, true);
  EXPECT_EQ(VerifyWith({}, bare.message, opt).result, SigResult::kNeutral);
}

// Without a CA file, the system's hashed certificate directory is the
// trust store (SSL_CERT_DIR here, a directory holding the self-signed
// certificate under its subject hash, as update-ca-certificates names
// them): read when a chain needs it, not loaded whole at start.
TEST(SignVerify, EmbeddedCertificateValidatedAgainstTheSystemDirectory) {
  SignOptions o;
  o.embed_certificate = true;
  auto s = SignWith(Ec(), Example("mixed-attachment.eml"), o, true);
  std::string dir = std::filesystem::temp_directory_path() / ("mtas-cadir-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto cert = Certificate::FromFile(Ec().cert_path);
  ASSERT_TRUE(cert.ok());
  char hashed[16];
  std::snprintf(hashed, sizeof hashed, "%08lx.0", X509_subject_name_hash(cert->get()));
  std::filesystem::copy_file(Ec().cert_path, dir + "/" + hashed, std::filesystem::copy_options::overwrite_existing);
  const char* dir_before = std::getenv("SSL_CERT_DIR");
  const char* file_before = std::getenv("SSL_CERT_FILE");
  std::string saved_dir = dir_before ? dir_before : "", saved_file = file_before ? file_before : "";
  // In the directory; in neither; in the bundle file only (systems without
  // hashed links), read when the directory gave no issuer.
  struct Case {
    const char* dir;
    const char* file;
    SigResult want;
  } cases[] = {{dir.c_str(), "/nonexistent", SigResult::kPass},
               {"/nonexistent", "/nonexistent", SigResult::kNeutral},
               {"/nonexistent", Ec().cert_path.c_str(), SigResult::kPass}};
  for (const Case& c : cases) {
    setenv("SSL_CERT_DIR", c.dir, 1);
    setenv("SSL_CERT_FILE", c.file, 1);
    auto pkix = PkixResolver::FromCaFile("");
    ASSERT_TRUE(pkix.ok());
    VerifyOptions opt;
    opt.resolver = pkix->get();
    VerifyReport r = VerifyWith({}, s.message, opt);
    EXPECT_EQ(r.result, c.want) << c.dir << " " << c.file << ": " << r.signatures[0].reason;
  }
  auto restore = [](const char* name, const char* before, const std::string& saved) {
    if (before)
      setenv(name, saved.c_str(), 1);
    else
      unsetenv(name);
  };
  restore("SSL_CERT_DIR", dir_before, saved_dir);
  restore("SSL_CERT_FILE", file_before, saved_file);
  std::filesystem::remove_all(dir);
}

TEST(SignVerify, SeedSignatureLabelIsAccepted) {
  auto s = SignWith(Ed(), Example("alternative.eml"), Opts(Carrier::kBody));
  std::string seed = Replace(s.message, "application/x-mtas-signature", "application/x-pkcs7-signature");
  EXPECT_EQ(VerifyWith({&Ed()}, seed).result, SigResult::kPass);
}

TEST(SignVerify, UnsignedContentAfterTheEntityIsReported) {
  auto s = SignWith(Ed(), Example("alternative.eml"), Opts(Carrier::kBody));
  VerifyReport r = VerifyWith({&Ed()}, s.message + "appended by someone\r\n");
  EXPECT_EQ(r.result, SigResult::kPass);  // readers do not show the epilogue
  EXPECT_EQ(r.signatures[0].unsigned_trailing_bytes, 21u);
}

TEST(SignVerify, ResignCarriesVerificationInfo) {
  auto s1 = SignWith(Ed(), Example("mixed-attachment.eml"));
  VerifyReport r1 = VerifyWith({&Ed()}, s1.message);
  SignOptions o;
  o.verification_info = FormatVerificationInfoValue(InfoFor(r1.signatures[0], "relay.example.org"));
  auto s2 = SignWith(Ec(), s1.message, o);
  VerifyReport r2 = VerifyWith({&Ed(), &Ec()}, s2.message);
  ASSERT_EQ(r2.result, SigResult::kPass);
  EXPECT_NE(Hop(r2, 2).verification_info.find("result=pass"), std::string::npos);
}

// Three hops with three algorithms and both carriers, then the changes a
// mailing list and a careless relay make.
class MultiHop : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h1 = SignWith(Ed(), Example("mixed-attachment.eml"), Opts(Carrier::kBody));
    auto h2 = SignWith(
        Ec(), "Received: from mx1.example.com by relay.example.org; Wed, 11 Mar 2026 16:03:00 +0100\r\n" + h1.message,
        Opts(Carrier::kHeader));
    auto h3 = SignWith(
        Rsa(), "Received: from relay.example.org by mx.example.net; Wed, 11 Mar 2026 16:03:05 +0100\r\n" + h2.message,
        Opts(Carrier::kBody));
    signed_ = h3.message;
  }
  VerifyReport Verify(const std::string& m) { return VerifyWith({&Ed(), &Ec(), &Rsa()}, m); }
  std::string signed_;
};

TEST_F(MultiHop, AllHopsPass) {
  VerifyReport r = Verify(signed_);
  ASSERT_EQ(r.signatures.size(), 3u);
  EXPECT_EQ(r.result, SigResult::kPass);
  EXPECT_EQ(Hop(r, 1).signer, "mx1.example.com");
  EXPECT_EQ(Hop(r, 1).algorithm, KeyAlgorithm::kEd25519);
  EXPECT_EQ(Hop(r, 2).signer, "relay.example.org");
  EXPECT_EQ(Hop(r, 2).carrier, std::optional<Carrier>(Carrier::kHeader));
  EXPECT_EQ(Hop(r, 3).signer, "mx.example.net");
  EXPECT_EQ(Hop(r, 3).algorithm, KeyAlgorithm::kRsa);
  for (const auto& s : r.signatures) EXPECT_EQ(s.result, SigResult::kPass) << s.hop << ": " << s.reason;
}

// Base64 attachment re-encoded as quoted-printable (binary-safe: CR and LF
// bytes escaped), as some relays do.
std::string ReencodeAsQp(const std::string& msg, const std::string& part_header_marker) {
  size_t hdr = msg.find(part_header_marker);
  size_t cte = msg.find("Content-Transfer-Encoding: base64", hdr);
  size_t body = msg.find("\r\n\r\n", cte) + 4;
  size_t end = msg.find("\r\n--", body);
  std::string bytes = Base64Decode(msg.substr(body, end - body));
  std::string qp;
  size_t col = 0;
  for (unsigned char c : AsBytes(bytes)) {
    char buf[4];
    bool plain = (c >= 33 && c <= 126 && c != '=');
    std::string tok = plain ? std::string(1, static_cast<char>(c)) : (std::snprintf(buf, sizeof buf, "=%02X", c), buf);
    if (col + tok.size() > 75) {
      qp += "=\r\n";
      col = 0;
    }
    qp += tok;
    col += tok.size();
  }
  std::string out = msg;
  out.replace(body, end - body, qp);
  out.replace(cte, 33, "Content-Transfer-Encoding: quoted-printable");
  return out;
}

TEST_F(MultiHop, ListChangesAreNamedAndResultsPartial) {
  std::string m = signed_;
  m = Replace(m, "Subject: Weekly relay report", "Subject: [ops-list] Weekly relay report");
  m = ReencodeAsQp(m, "Content-Type: application/pdf");
  // A footer part before the closing delimiter of the top-level multipart.
  std::string closing = "--=_mixed_7c2e91d04a5f--";
  m = Replace(m, closing,
              "--=_mixed_7c2e91d04a5f\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
                  test::ReadFile(std::string(MTAS_SOURCE_DIR) + "/examples/messages/list-footer.txt") + "\r\n" +
                  closing);
  // Reorder To and Cc.
  size_t to = m.find("\r\nTo: ") + 2, to_end = m.find("\r\n", to) + 2;
  std::string to_line = m.substr(to, to_end - to);
  m.erase(to, to_end - to);
  size_t cc_end = m.find("\r\n", m.find("\r\nCc: ") + 2) + 2;
  m.insert(cc_end, to_line);

  VerifyReport r = Verify(m);
  ASSERT_EQ(r.signatures.size(), 3u);
  EXPECT_EQ(r.result, SigResult::kPartial);
  for (const auto& s : r.signatures) {
    SCOPED_TRACE("hop " + std::to_string(s.hop));
    EXPECT_EQ(s.result, SigResult::kPartial) << s.reason;
    EXPECT_FALSE(s.content_intact);
    const HeaderReport* subject = HeaderOf(s, "Subject");
    ASSERT_NE(subject, nullptr);
    EXPECT_EQ(test::Name(subject->status), "changed");
    EXPECT_EQ(subject->signed_value, "Subject: Weekly relay report (week 10)");
    EXPECT_EQ(test::Name(HeaderOf(s, "To")->status), "same");
    EXPECT_EQ(test::Name(HeaderOf(s, "Cc")->status), "same");
    EXPECT_EQ(test::Name(HeaderOf(s, "From")->status), "same");
    ASSERT_EQ(s.parts.size(), 3u);
    // The re-encoded PDF decodes, strictly, to the same bytes: re-encoded
    // in transit, which no reader shows, and named as such.
    for (const auto& p : s.parts) {
      if (p.content_type == "application/pdf") {
        EXPECT_EQ(test::Name(p.status), "re-encoded");
        EXPECT_EQ(p.reencoded, "base64->quoted-printable");
        EXPECT_TRUE(p.changed_fields.empty());
      } else {
        EXPECT_EQ(test::Name(p.status), "same") << p.path << " " << p.content_type;
      }
    }
    ASSERT_EQ(s.added_parts.size(), 1u);
    EXPECT_EQ(s.added_parts[0].path, "4");
    EXPECT_NE(s.reason.find("Subject changed"), std::string::npos);
    EXPECT_NE(s.reason.find("part 4 (text/plain) added"), std::string::npos);
  }
  std::string text = ReportText(r);
  EXPECT_NE(text.find("signed: Subject: Weekly relay report (week 10)"), std::string::npos);
}

TEST_F(MultiHop, LaterHopThatSignsAfterTheListVouches) {
  std::string m = Replace(signed_, "Subject: Weekly", "Subject: [list] Weekly");
  auto h4 = SignWith(Key("ed25519", "lists.example.org"), m, Opts(Carrier::kBody));
  VerifyReport r = VerifyWith({&Ed(), &Ec(), &Rsa(), &Key("ed25519", "lists.example.org")}, h4.message);
  ASSERT_EQ(r.signatures.size(), 4u);
  EXPECT_EQ(Hop(r, 1).result, SigResult::kPartial);
  EXPECT_EQ(Hop(r, 4).result, SigResult::kPass);
}

// Tampering matrix: each change gets its defined result.
TEST_F(MultiHop, TamperedBodyByte) {
  VerifyReport r = Verify(Replace(signed_, "Volumes are up", "Volumes are UP"));
  for (const auto& s : r.signatures) {
    EXPECT_EQ(s.result, SigResult::kPartial);
    EXPECT_EQ(test::Name(s.parts[0].status), "changed");
    EXPECT_EQ(test::Name(s.parts[1].status), "same");
  }
}

TEST_F(MultiHop, FromChangedIsFail) {
  VerifyReport r = Verify(Replace(signed_, "From: Alice Example <alice@example.com>", "From: Alice <ceo@example.com>"));
  EXPECT_EQ(r.result, SigResult::kFail);
  for (const auto& s : r.signatures) EXPECT_NE(s.reason.find("From changed"), std::string::npos);
}

TEST_F(MultiHop, PrependedSubjectAboveTheSignedOneIsChanged) {
  VerifyReport r = Verify("Subject: Invoice overdue\r\n" + signed_);
  for (const auto& s : r.signatures) {
    EXPECT_EQ(s.result, SigResult::kPartial);
    EXPECT_EQ(test::Name(HeaderOf(s, "Subject")->status), "changed");
    EXPECT_EQ(HeaderOf(s, "Subject")->current_value, "Subject: Invoice overdue");
  }
}

TEST_F(MultiHop, TamperedSignatureByteIsFail) {
  // Flip one byte of hop 3's signature value (the last bytes of its DER).
  size_t entity = signed_.rfind("Content-Type: multipart/x-postal-data");
  size_t b64 = signed_.find("\r\n\r\n", signed_.find("Content-Transfer-Encoding: base64", entity)) + 4;
  size_t end = signed_.find("\r\n--", b64);
  std::string der = Base64Decode(signed_.substr(b64, end - b64));
  der[der.size() - 5] ^= 0x01;
  std::string m = signed_;
  m.replace(b64, end - b64, Base64Encode(der, 76));
  VerifyReport r = Verify(m);
  EXPECT_EQ(Hop(r, 3).result, SigResult::kFail);
  EXPECT_NE(Hop(r, 3).reason.find("does not verify"), std::string::npos);
  EXPECT_EQ(Hop(r, 1).result, SigResult::kPass);
  // Garbage instead of DER is malformed: permerror.
  m = signed_;
  m.replace(b64, end - b64, "AAAAAAAA");
  EXPECT_EQ(Hop(Verify(m), 3).result, SigResult::kPermError);
}

TEST_F(MultiHop, BrokenMsgidLinkIsPermerror) {
  VerifyReport r0 = Verify(signed_);
  std::string id1 = Hop(r0, 1).msgid;
  // The tracking header names a msgid no carrier holds: that header is a
  // permerror at its place. The carrier it named is still found, by
  // itself, and placed by its signed chain (hop 1); the hops above see an
  // extra hop below them, a changed chain.
  std::string m = Replace(signed_, "msgid=" + id1 + ";", "msgid=ZZZZZZZZZZZZ;");
  VerifyReport r = Verify(m);
  EXPECT_EQ(r.result, SigResult::kPermError);
  bool stray = false, found = false;
  for (const auto& s : r.signatures) {
    if (s.msgid == "ZZZZZZZZZZZZ") {
      stray = s.result == SigResult::kPermError && s.reason.find("no carrier") != std::string::npos && s.hop == 1;
    } else if (s.msgid == id1) {
      found = s.result == SigResult::kPass && s.hop == 1;
      bool noted = false;
      for (const auto& n : s.notes) noted |= n.find("no tracking header") != std::string::npos;
      EXPECT_TRUE(noted);
    }
  }
  EXPECT_TRUE(stray);
  EXPECT_TRUE(found);
  EXPECT_EQ(Hop(r, 2).result, SigResult::kPartial) << Hop(r, 2).reason;
  EXPECT_FALSE(Hop(r, 2).hop_chain_intact);
  EXPECT_TRUE(Hop(r, 2).content_intact);
}

// A list that strips X- fields removes every tracking header: each
// signature is still found by its carrier and placed by its signed chain.
TEST_F(MultiHop, SignaturesSurviveStrippedTrackingHeaders) {
  std::string m;
  std::istringstream in(signed_);
  std::string line;
  bool in_header = true, skipping = false;
  while (std::getline(in, line)) {
    line += "\n";
    if (in_header && (line == "\r\n" || line == "\n")) in_header = false;
    if (in_header && (line[0] == ' ' || line[0] == '\t')) {
      if (!skipping) m += line;
      continue;
    }
    skipping = in_header && StartsWithIgnoreCase(line, "X-PostalTracking:");
    if (!skipping) m += line;
  }
  ASSERT_EQ(m.find("X-PostalTracking"), std::string::npos);
  VerifyReport r = Verify(m);
  ASSERT_EQ(r.signatures.size(), 3u);
  EXPECT_EQ(r.result, SigResult::kPass);
  for (int hop = 1; hop <= 3; ++hop) EXPECT_EQ(Hop(r, hop).result, SigResult::kPass) << hop;
  EXPECT_EQ(Hop(r, 2).signer, "relay.example.org");
  // Without its carrier a hop is missing from the chain of those above.
  size_t entity = m.find("Content-Type: multipart/x-postal-data");
  size_t end = m.find("Content-Type: multipart/x-postal-data", entity + 10);
  std::string without_hop1 = m.substr(0, entity) + m.substr(end);
  VerifyReport r2 = Verify(without_hop1);
  for (const auto& s : r2.signatures) EXPECT_NE(s.result, SigResult::kPass) << s.hop;
}

TEST_F(MultiHop, RelinkedSignatureIsFail) {
  // Tracking header and entity both renamed: the signed msgid disagrees.
  VerifyReport r0 = Verify(signed_);
  std::string id1 = Hop(r0, 1).msgid;
  std::string m = Replace(signed_, "msgid=" + id1 + ";", "msgid=RELINKED0001;");
  m = Replace(m, "msgid=\"" + id1 + "\"", "msgid=\"RELINKED0001\"");
  VerifyReport r = Verify(m);
  EXPECT_EQ(Hop(r, 1).result, SigResult::kFail);
  EXPECT_NE(Hop(r, 1).reason.find("signed msgid"), std::string::npos);
}

// The entities sit in the epilogue, which no reader shows: swapped, they
// change the signed bytes but nothing a reader sees, which a pass says.
TEST_F(MultiHop, SwappedEntitiesChangeOnlyBytesNoReaderShows) {
  size_t first = signed_.find("Content-Type: multipart/x-postal-data");
  size_t second = signed_.find("Content-Type: multipart/x-postal-data", first + 10);
  ASSERT_NE(second, std::string::npos);
  std::string e1 = signed_.substr(first, second - first), e2 = signed_.substr(second);
  std::string m = signed_.substr(0, first) + e2 + e1;
  VerifyReport r = Verify(m);
  for (int hop : {1, 3}) {
    const SignatureReport& s = Hop(r, hop);
    EXPECT_EQ(s.result, SigResult::kPass) << s.reason;
    EXPECT_FALSE(s.content_intact);
    bool noted = false;
    for (const auto& n : s.notes) noted |= n.find("every part reads as signed") != std::string::npos;
    EXPECT_TRUE(noted);
  }
  for (const auto& s : r.signatures)
    for (const auto& p : s.parts) EXPECT_EQ(test::Name(p.status), "same");
}

TEST_F(MultiHop, DuplicatedEntityIsPermerror) {
  size_t first = signed_.find("Content-Type: multipart/x-postal-data");
  size_t second = signed_.find("Content-Type: multipart/x-postal-data", first + 10);
  std::string m = signed_ + signed_.substr(first, second - first);
  VerifyReport r = Verify(m);
  EXPECT_EQ(Hop(r, 1).result, SigResult::kPermError);
  EXPECT_NE(Hop(r, 1).reason.find("more than one carrier"), std::string::npos);
}

TEST_F(MultiHop, WrongOrMissingKey) {
  VerifyReport wrong = VerifyWith({&Ed(), &Ec(), &Key("rsa2048", "mx.example.net-other")}, signed_);
  EXPECT_EQ(Hop(wrong, 3).result, SigResult::kNeutral);  // no key pinned for that signer
  // A different key pinned under the right name: the signer identity does not match.
  test::TestKey impostor = Key("rsa2048", "impostor.example.net");
  impostor.signer = "mx.example.net";
  VerifyReport r = VerifyWith({&Ed(), &Ec(), &impostor}, signed_);
  EXPECT_EQ(Hop(r, 3).result, SigResult::kFail);
  VerifyReport none = VerifyWith({}, signed_);
  EXPECT_EQ(none.result, SigResult::kNeutral);
}

TEST(SignVerify, SinglePartWhollyChangedIsFail) {
  auto s = SignWith(Ed(), Example("text-plain.eml"), Opts(Carrier::kHeader));
  VerifyReport r = VerifyWith({&Ed()}, Replace(s.message, "Hi Bob", "Hi Eve"));
  EXPECT_EQ(r.result, SigResult::kFail);
  EXPECT_NE(r.signatures[0].reason.find("no signed part is intact"), std::string::npos);
}

TEST(SignVerify, NoSignatureIsNone) {
  VerifyReport r = VerifyWith({}, Example("alternative.eml"));
  EXPECT_EQ(r.result, SigResult::kNone);
  EXPECT_EQ(ExitStatusFor(r.result), 2);
}

TEST(Carrier, TrackingAndSignatureFieldParsing) {
  auto t = ParseTracking(" MTAS/1.0 msgid=8A2A6KQ3ZP; carrier=header; x-unknown=1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->msgid, "8A2A6KQ3ZP");
  EXPECT_EQ(t->carrier, "header");
  EXPECT_FALSE(ParseTracking("DKIM/1 msgid=A").ok());
  EXPECT_FALSE(ParseTracking("MTAS/1.0 carrier=body").ok());
  EXPECT_FALSE(ParseTracking("MTAS/1.0 msgid=\"a b\"").ok());
  auto f =
      ParseSignatureField(" msgid=ABC; vs=\"domain:key:email _k; http:download:der _c c.cer\";\r\n b=MIIB\r\n CgYJ");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->services, "domain:key:email _k; http:download:der _c c.cer");
  EXPECT_EQ(f->signature_base64, "MIIBCgYJ");
  EXPECT_FALSE(ParseSignatureField("msgid=ABC").ok());
  // A quote left open takes the rest of the field: here the b= tag with it.
  EXPECT_FALSE(ParseSignatureField("msgid=ABC; vs=\"a; b=XYZ").ok());
  auto two = ParseSignatureField("vs=\"a;b\" x \"c;d\"; msgid=ABC;b=XYZ");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->msgid, "ABC");
  EXPECT_EQ(two->signature_base64, "XYZ");
  EXPECT_EQ(SignatureFieldMsgid("vs=\"a;msgid=X\" x; msgid=AB\r\n C; b=XYZ"), "AB C");
  EXPECT_EQ(SignatureFieldMsgid("b=XYZ"), "");
}

}  // namespace
}  // namespace mtas

namespace mtas {
namespace {

TEST(SignVerify, SignMessageReadsFromTheFirstByteEvenAfterOthersRead) {
  std::string in = test::Example("mixed-attachment.eml");
  MemorySource src(in);
  char buf[4096];
  while (*src.Read(buf, sizeof buf) > 0) {  // someone (a verifier) read it all before
  }
  auto signer = test::SignerFor(test::Key("ed25519", "mx1.example.com"));
  ASSERT_TRUE(signer);
  auto edits = SignMessage(*signer, src);
  ASSERT_TRUE(edits.ok());
  StringSink out;
  ASSERT_TRUE(WriteSignedMessage(src, *edits, out).ok());
  EXPECT_EQ(test::VerifyWith({&test::Key("ed25519", "mx1.example.com")}, out.out).result, SigResult::kPass);
}

}  // namespace
}  // namespace mtas
