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
      "OnError accept\nPolicy yes\nPinnedKey a.example /etc/k.pem\nSyslog local3\n"
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

}  // namespace
}  // namespace mtasd
