// DNS key record formats and the service-string parser (spec §4).
#include "mtas/key_records.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "mtas/canon.h"
#include "mtas/services.h"
#include "test_util.h"

namespace mtas {
namespace {

// Presentation "FLAGS PROTO ALG BASE64" -> wire RDATA.
std::string KeyRdata(const std::string& presentation) {
  unsigned flags = 0, proto = 0, alg = 0;
  char b64[4096] = {0};
  EXPECT_EQ(std::sscanf(presentation.c_str(), "%u %u %u %4095s", &flags, &proto, &alg, b64), 4);
  std::string r;
  r += static_cast<char>(flags >> 8);
  r += static_cast<char>(flags & 0xff);
  r += static_cast<char>(proto);
  r += static_cast<char>(alg);
  return r + Base64Decode(b64);
}

TEST(KeyRecord, EveryAlgorithmRoundTrips) {
  for (const char* alg : {"ed25519", "ecdsa-p256", "rsa2048"}) {
    auto cert = Certificate::FromFile(test::Key(alg, "k.example").cert_path);
    ASSERT_TRUE(cert.ok());
    PublicKey key = PublicKey::Adopt(X509_get_pubkey(cert->get()));
    auto text = KeyRecordPresentation(key);
    ASSERT_TRUE(text.ok()) << alg;
    auto parsed = ParseKeyRecord(KeyRdata(*text));
    ASSERT_TRUE(parsed.ok()) << alg << ": " << parsed.status().message();
    EXPECT_EQ(parsed->SpkiDer(), key.SpkiDer()) << alg;
  }
}

TEST(KeyRecord, RejectsWhatIsNotAnEmailKey) {
  EXPECT_EQ(ParseKeyRecord("\x02\x00\x03\x0f" + std::string(32, 'k')).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ParseKeyRecord(std::string("\xC2\x00\x02\x0f", 4)).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ParseKeyRecord(std::string("\x02\x00\x02\x05", 4) + "xx").status().code(), Status::Code::kUnsupported);
  EXPECT_EQ(ParseKeyRecord(std::string("\x02\x00\x02\x0f", 4) + "short").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseKeyRecord(std::string("\x02\x00\x02\x08\x03\x01", 6)).status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseKeyRecord("ab").status().code(), Status::Code::kMalformed);
}

TEST(CertRecord, PkixOnly) {
  auto cert = Certificate::FromFile(test::Key("ed25519", "k.example").cert_path);
  std::string rdata = std::string("\x00\x01\x00\x00\x00", 5) + cert->Der();
  auto parsed = ParseCertRecord(rdata);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Der(), cert->Der());
  EXPECT_EQ(ParseCertRecord(std::string("\x00\x03\x00\x00\x00", 5) + "x").status().code(), Status::Code::kUnsupported);
  EXPECT_EQ(ParseCertRecord(std::string("\x00\x01\x00\x00\x00", 5) + "junk").status().code(), Status::Code::kMalformed);
}

TEST(DkimTxt, KeysAndRevocation) {
  for (const char* alg : {"ed25519", "rsa2048"}) {
    auto cert = Certificate::FromFile(test::Key(alg, "k.example").cert_path);
    PublicKey key = PublicKey::Adopt(X509_get_pubkey(cert->get()));
    auto text = DkimKeyText(key);
    ASSERT_TRUE(text.ok());
    auto parsed = ParseDkimKey(*text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(parsed->SpkiDer(), key.SpkiDer());
  }
  EXPECT_EQ(ParseDkimKey("v=DKIM1; k=rsa; p=").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ParseDkimKey("v=DKIM1; k=rsa").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseDkimKey("k=rsa; v=DKIM1; p=AAAA").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseDkimKey("v=DKIM1; k=dsa; p=AAAA").status().code(), Status::Code::kUnsupported);
  EXPECT_FALSE(DkimKeyText(PublicKey::Adopt(X509_get_pubkey(
                               Certificate::FromFile(test::Key("ecdsa-p256", "k.example").cert_path)->get())))
                   .ok());
}

TEST(TxtRecord, CharacterStrings) {
  EXPECT_EQ(*TxtRecordText(std::string("\x03"
                                       "abc"
                                       "\x02"
                                       "de",
                                       7)),
            "abcde");
  EXPECT_EQ(TxtRecordText(std::string("\x05"
                                      "abc",
                                      4))
                .status()
                .code(),
            Status::Code::kMalformed);
}

TEST(Services, ParseTheSeedExample) {
  auto s = ParseServices("\"domain:key:email _key1._certs;\r\n http:download:der _certs completewhois-com-test1.cer\"");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].method, "domain:key:email");
  EXPECT_EQ((*s)[0].args, std::vector<std::string>{"_key1._certs"});
  EXPECT_EQ((*s)[1].args, (std::vector<std::string>{"_certs", "completewhois-com-test1.cer"}));
  EXPECT_TRUE((*s)[1].known);
}

TEST(Services, UnknownMethodsAreKeptAndMarked) {
  auto s = ParseServices("x-new:method arg; ldap:smime-keyserver ldap://k.example;;");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 2u);
  EXPECT_FALSE((*s)[0].known);
  EXPECT_TRUE((*s)[1].known);
}

TEST(Services, MalformedLists) {
  EXPECT_FALSE(ParseServices("domain:key:email").ok());
  EXPECT_FALSE(ParseServices("a b c d").ok());
  std::string many;
  for (int i = 0; i < 17; ++i) many += "domain:key:email k; ";
  EXPECT_FALSE(ParseServices(many).ok());
  EXPECT_TRUE(ParseServices("").ok());
}

TEST(Services, RelativeNames) {
  EXPECT_EQ(ResolveName("_key1._certs", "mail.example.com"), "_key1._certs.mail.example.com");
  EXPECT_EQ(ResolveName("keys.example.net.", "mail.example.com"), "keys.example.net");
}

}  // namespace
}  // namespace mtas
