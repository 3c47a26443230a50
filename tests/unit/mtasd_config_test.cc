// mtasd.conf parsing (mtasd.conf(5)): settings, key and signing tables,
// errors naming file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config.h"
#include "test_util.h"

namespace mtasd {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mtasd-conf-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    key_ = mtas::test::Key("ed25519", "mail.example.com").key_path;
  }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  mtas::Result<Config> Parse(const std::string& text) { return ParseConfig(text, "mtasd.conf", dir_); }
  std::string dir_, key_;
};

TEST_F(ConfigTest, FullConfiguration) {
  Write("keys", "main " + key_ +
                    " mail.example.com services=\"domain:key:email k._certs\" carrier=Header\n"
                    "list " +
                    key_ + " lists.example.org\n");
  Write("signing", "# sender domain -> key\nlists.example.org list\n*.example.com main\nexample.com main\n");
  auto c = Parse(
      "Mode both\nSocket inet:8894@127.0.0.1\nAuthservID mx.example.net\nKeyTable keys\n"
      "SigningTable signing\nInternalHosts 127.0.0.1, 10.0.0.0/8\nTimeout 1500\nMaxMessageSize 10M\n"
      "OnError accept\nPolicy yes\nPinnedKey a.example " +
      key_ +
      "\nSyslog local3\n"
      "TrustedForwarders Lists.Example.org, fwd.example.net\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->mode, Mode::kBoth);
  EXPECT_EQ(c->keys.size(), 2u);
  EXPECT_EQ(c->keys[0].carrier, mtas::Carrier::kHeader);
  EXPECT_EQ(c->keys[0].services, "domain:key:email k._certs");
  EXPECT_EQ(c->max_message_size, 10u << 20);
  EXPECT_EQ(c->timeout_ms, 1500);
  EXPECT_FALSE(c->on_error_tempfail);
  EXPECT_EQ(c->trusted_forwarders, (std::vector<std::string>{"lists.example.org", "fwd.example.net"}));
  EXPECT_EQ(KeyFor(*c, "lists.example.org")->id, "list");
  EXPECT_EQ(KeyFor(*c, "news.example.com")->id, "main");
  EXPECT_EQ(KeyFor(*c, "example.com")->id, "main");
  EXPECT_EQ(KeyFor(*c, "example.net"), nullptr);
  EXPECT_TRUE(IsInternal(*c, "10.1.2.3"));
  EXPECT_FALSE(IsInternal(*c, "192.0.2.1"));
}

TEST_F(ConfigTest, ErrorsNameTheLine) {
  auto bad = Parse("Mode verify\nFrobnicate yes\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "mtasd.conf:2: unknown setting 'Frobnicate'");
  EXPECT_FALSE(Parse("Mode verify\nTimeout 5s\n").ok());
  EXPECT_FALSE(Parse("Mode verify\nMaxMessageSize lots\n").ok());
  EXPECT_FALSE(Parse("Mode verify\nTimeout 99999999999999999999\n").ok());  // too large: refused, not a crash
  EXPECT_FALSE(Parse("Mode verify\nMaxMessageSize 99999999999M\n").ok());
  EXPECT_FALSE(Parse("Mode verify\nMaxMessageSize -5\n").ok());
  EXPECT_FALSE(Parse("Mode sideways\n").ok());
  EXPECT_FALSE(Parse("Mode verify\nTrustedForwarders *.example.org\n").ok());
  EXPECT_FALSE(Parse("Mode verify\nSocket 8894\n").ok());
  EXPECT_FALSE(Parse("Mode sign\n").ok());  // signing without a key
  Write("dup", "k " + key_ + " a.example\nk " + key_ + " b.example\n");
  EXPECT_FALSE(Parse("KeyTable dup\n").ok());
  Write("keys1", "k " + key_ + " a.example\n");
  Write("signing1", "example.com nokey\n");
  EXPECT_FALSE(Parse("KeyTable keys1\nSigningTable signing1\n").ok());
}

// What `mtasd -n` must refuse because it would break mail, each with the
// exact message an administrator sees (file:line, the setting, the reason).
TEST_F(ConfigTest, ConfigsThatWouldBreakMailAreRefusedWithTheReason) {
  auto error = [&](const std::string& text) {
    auto c = Parse(text);
    return c.ok() ? std::string("accepted") : c.status().message();
  };
  EXPECT_EQ(error("Mode verify\nTrustAnchor /nonexistent/root.key\n"),
            "mtasd.conf:2: TrustAnchor /nonexistent/root.key: No such file or directory");
  EXPECT_EQ(error("Mode verify\nCAFile /nonexistent/ca.pem\n"),
            "mtasd.conf:2: CAFile /nonexistent/ca.pem: No such file or directory");
  EXPECT_EQ(error("Mode verify\nPinnedKey a.example /nonexistent/k.pem\n"),
            "mtasd.conf:2: PinnedKey /nonexistent/k.pem: No such file or directory");
  EXPECT_EQ(error("Mode verify\nSocket inet:127.0.0.1:8894\n"),
            "mtasd.conf:2: Socket inet:127.0.0.1:8894: that is Postfix's notation; mtasd, like OpenDKIM, wants "
            "inet:PORT@ADDRESS (here inet:8894@127.0.0.1)");
  EXPECT_EQ(error("Mode verify\nSocket inet:99999@127.0.0.1\n"),
            "mtasd.conf:2: Socket inet:99999@127.0.0.1: '99999' is not a port (1..65535)");
  EXPECT_EQ(error("Mode verify\nSocket unix:run/mtasd.sock\n"),
            "mtasd.conf:2: Socket unix:run/mtasd.sock: unix:/PATH wants an absolute path");
  EXPECT_EQ(
      error("Mode verify\nInternalHosts 127.0.0.1, 10.0.0.0/33\n"),
      "mtasd.conf:2: InternalHosts: '10.0.0.0/33' is not an IP address or CIDR block (prefix 0..32, IPv6 0..128)");
  EXPECT_EQ(error("Mode verify\nInternalHosts mx.example.com\n"),
            "mtasd.conf:2: InternalHosts: 'mx.example.com' is not an IP address or CIDR block (prefix 0..32, IPv6 "
            "0..128)");
  EXPECT_EQ(error("Mode verify\nAuthservID \"mx.example.com\n"), "mtasd.conf:2: a quote is not closed");
  EXPECT_EQ(error("Mode verify\nResolver 127.0.0.1:70000\n"),
            "mtasd.conf:2: Resolver: '127.0.0.1:70000': the port is not 1..65535");
  EXPECT_EQ(error("Mode verify\nResolver dns.example.com\n"),
            "mtasd.conf:2: Resolver: 'dns.example.com' is not an IP address (optionally with :PORT or @PORT)");
  EXPECT_EQ(error("Mode verify\nResolver 127.0.0.1:5353\n"), "accepted");
  EXPECT_EQ(error("Mode verify\nResolver ::1@5353\n"), "accepted");

  std::string keys = dir_ + "/keys";
  Write("keys", "k " + key_ + " mail_example.com\n");
  EXPECT_EQ(error("KeyTable keys\n"),
            keys + ":1: signer 'mail_example.com' is not a host name (the FQDN verifiers look its key up under)");
  Write("keys", "k " + key_ + " mail.example.com services=\"domian:key:email k._certs\"\n");
  EXPECT_EQ(
      error("KeyTable keys\n"),
      keys +
          ":1: services: unknown method 'domian:key:email' (they implement: http:download:der, https:download:der, "
          "ftp:download:der, tftp:download:der, domain:key:email, domain:cert:pkix, domain:txt:dk, "
          "ldap:smime-keyserver, http:pgp-keyserver)");
  Write("keys", "k " + key_ + " mail.example.com services=\"domain:key:email\"\n");
  EXPECT_NE(error("KeyTable keys\n").find(keys + ":1: services: "), std::string::npos);
  Write("keys", "k " + key_ + " mail.example.com services=\"domain:key:email k._certs\n");
  EXPECT_EQ(error("KeyTable keys\n"), keys + ":1: a quote is not closed");
  std::string open_key = dir_ + "/open.key.pem";
  std::filesystem::copy_file(key_, open_key, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(open_key, std::filesystem::perms(0644));
  Write("keys", "k " + open_key + " mail.example.com\n");
  EXPECT_EQ(error("KeyTable keys\n"), keys + ":1: key " + open_key +
                                          " is readable or writable by others (mode 0644): chmod 600 it, or 640 "
                                          "with mtasd's group");
  Write("keys", "k " + dir_ + "/missing.pem mail.example.com\n");
  EXPECT_EQ(error("KeyTable keys\n"), keys + ":1: key " + dir_ + "/missing.pem: No such file or directory");
  EXPECT_EQ(error("KeyTable nokeys\n"), dir_ + "/nokeys: No such file or directory");
  Write("keys", "k " + key_ + " mail.example.com key=" + key_ + "\n");
  EXPECT_EQ(error("KeyTable keys\n"), keys + ":1: key " + key_ + " is named twice");
  Write("keys", "k " + key_ + " mail.example.com key=" + dir_ + "/missing.pem\n");
  EXPECT_EQ(error("KeyTable keys\n"), keys + ":1: key " + dir_ + "/missing.pem: No such file or directory");
}

// One entry, several keys that sign together (one SignerInfo each), and the
// certificates that go with some of them.
TEST_F(ConfigTest, AnEntrySignsWithSeveralKeys) {
  const auto& rsa = mtas::test::Key("rsa2048", "mail.example.com");
  Write("keys", "k " + key_ + " mail.example.com key=" + rsa.key_path + " cert=" + rsa.cert_path + "\n");
  auto c = Parse("Mode sign\nKeyTable keys\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->keys.size(), 1u);
  EXPECT_EQ(c->keys[0].key_files, (std::vector<std::string>{key_, rsa.key_path}));
  EXPECT_EQ(c->keys[0].cert_files, (std::vector<std::string>{rsa.cert_path}));
  std::string many = "k " + key_ + " mail.example.com";
  for (const char* alg : {"ecdsa-p256", "rsa2048", "ed25519"})
    many += " key=" + mtas::test::Key(alg, std::string(alg) + ".example.com").key_path;
  many += " key=" + rsa.key_path;
  Write("keys", many + "\n");
  auto too_many = Parse("Mode sign\nKeyTable keys\n");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("at most 4 keys sign together"), std::string::npos)
      << too_many.status().message();
}

}  // namespace
}  // namespace mtasd
