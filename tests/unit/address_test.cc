// RFC 5322 address lists and the From domains policy looks up
// (tests/diff/from_diff.py checks them against Python's parser).
#include "mtas/address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mtas {
namespace {

struct Expected {
  std::string display_name;
  std::string local_part;
  std::string domain;
};

struct ValidCase {
  std::string value;
  std::vector<Expected> mailboxes;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << testing::PrintToString(c.value); }

class ValidTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidTest, Parses) {
  const ValidCase& c = GetParam();
  auto r = ParseAddressList(c.value);
  ASSERT_TRUE(r.ok()) << c.value << ": " << r.status().message();
  ASSERT_EQ(r->size(), c.mailboxes.size()) << c.value;
  for (size_t i = 0; i < r->size(); ++i) {
    EXPECT_EQ((*r)[i].display_name, c.mailboxes[i].display_name) << c.value;
    EXPECT_EQ((*r)[i].local_part, c.mailboxes[i].local_part) << c.value;
    EXPECT_EQ((*r)[i].domain, c.mailboxes[i].domain) << c.value;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ValidTest,
    testing::Values(
        // addr-spec, angle-addr, atoms, case of the domain
        ValidCase{"user@Example.COM", {{"", "user", "example.com"}}},
        ValidCase{" <user@example.com>", {{"", "user", "example.com"}}},
        ValidCase{"Joe Q Public <joe@example.com>", {{"Joe Q Public", "joe", "example.com"}}},
        ValidCase{"a.b+tag@sub.example.com", {{"", "a.b+tag", "sub.example.com"}}},
        // quoted strings, quoted-pairs, specials inside them
        ValidCase{"\"Joe, \\\"the\\\" Public\" <joe@example.com>", {{"Joe, \"the\" Public", "joe", "example.com"}}},
        ValidCase{"\"a@evil.example\" <user@good.example>", {{"a@evil.example", "user", "good.example"}}},
        ValidCase{"\"<evil@evil.example>\" <user@good.example>", {{"<evil@evil.example>", "user", "good.example"}}},
        ValidCase{"\"\" <user@example.com>", {{"", "user", "example.com"}}},
        ValidCase{"\"John\" Smith <js@example.com>", {{"John Smith", "js", "example.com"}}},
        ValidCase{"\"john doe\"@example.com", {{"", "john doe", "example.com"}}},
        ValidCase{"\"a\\\\b\"@example.com", {{"", "a\\b", "example.com"}}},
        // obs-phrase with dots
        ValidCase{"John Q. Public <jqp@example.com>", {{"John Q. Public", "jqp", "example.com"}}},
        ValidCase{"Dr.Who <who@example.com>", {{"Dr.Who", "who", "example.com"}}},
        ValidCase{"Joe Q. <jq@example.com>", {{"Joe Q.", "jq", "example.com"}}},
        // comments anywhere, nested, with quoted-pairs and '@' or '<'
        ValidCase{"user@good.example (evil.example)", {{"", "user", "good.example"}}},
        ValidCase{"(a@evil.example) user@good.example", {{"", "user", "good.example"}}},
        ValidCase{"Joe (x <e@evil.example>) <joe@example.com>", {{"Joe", "joe", "example.com"}}},
        ValidCase{"user(c)@(c)example.com(c)", {{"", "user", "example.com"}}},
        ValidCase{"user@example.com (a (nested \\) (deeper)) comment)", {{"", "user", "example.com"}}},
        ValidCase{"<(c)user(c)@(c)example.com(c)>", {{"", "user", "example.com"}}},
        // CFWS around '@' and '.': obs-local-part, obs-domain
        ValidCase{"user @ example.com", {{"", "user", "example.com"}}},
        ValidCase{"john . doe @ mail . example . com", {{"", "john.doe", "mail.example.com"}}},
        ValidCase{"\"a b\" . c@example.com", {{"", "a b.c", "example.com"}}},
        ValidCase{"<john (x) . doe@example (y) . com>", {{"", "john.doe", "example.com"}}},
        // folding, CRLF and LF
        ValidCase{"Joe\r\n Public\r\n <joe@example.com>", {{"Joe Public", "joe", "example.com"}}},
        ValidCase{"\n\tjoe@example.com", {{"", "joe", "example.com"}}},
        ValidCase{"\"Joe\r\n Public\" <joe@example.com>", {{"Joe Public", "joe", "example.com"}}},
        ValidCase{"(a\r\n b) joe@example.com", {{"", "joe", "example.com"}}},
        ValidCase{"joe@example.com\r\n \r\n (trailing)", {{"", "joe", "example.com"}}},
        // lists: several mailboxes, empty elements (obs-addr-list)
        ValidCase{"a@x.example, b@y.example", {{"", "a", "x.example"}, {"", "b", "y.example"}}},
        ValidCase{", a@x.example,,  , b@y.example ,", {{"", "a", "x.example"}, {"", "b", "y.example"}}},
        ValidCase{"\"Last, First\" <f@x.example>, g@y.example",
                  {{"Last, First", "f", "x.example"}, {"", "g", "y.example"}}},
        // groups
        ValidCase{"Team: a@b.example, C <c@d.example>;", {{"", "a", "b.example"}, {"C", "c", "d.example"}}},
        ValidCase{"undisclosed-recipients:;", {}}, ValidCase{"Team: (nobody) ;", {}}, ValidCase{"Team: , ,;", {}},
        ValidCase{"Team: ,a@b.example,;, x@y.example", {{"", "a", "b.example"}, {"", "x", "y.example"}}},
        ValidCase{"A:;, B: b@b.example; (c)", {{"", "b", "b.example"}}},
        // obs-route
        ValidCase{"<@route1,@route2:user@example.com>", {{"", "user", "example.com"}}},
        ValidCase{"Joe <,@r1.example, ,@[1.2.3.4] ,:joe@example.com>", {{"Joe", "joe", "example.com"}}},
        // domain literals
        ValidCase{"user@[192.0.2.1]", {{"", "user", "[192.0.2.1]"}}},
        ValidCase{"user@[ IPv6:2001:db8::1 ]", {{"", "user", "[ipv6:2001:db8::1]"}}},
        // encoded-words: left as is
        ValidCase{"=?utf-8?q?J=C3=B6rg?= <j@example.com>", {{"=?utf-8?q?J=C3=B6rg?=", "j", "example.com"}}},
        ValidCase{"\"=?utf-8?b?SsO2cmc=?=\" <j@example.com>", {{"=?utf-8?b?SsO2cmc=?=", "j", "example.com"}}},
        ValidCase{"a=?x <a@example.com>", {{"a=?x", "a", "example.com"}}}));

struct InvalidCase {
  std::string value;
  std::string reason;  // a substring of the message
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << testing::PrintToString(c.value); }

class InvalidTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidTest, Refused) {
  const InvalidCase& c = GetParam();
  auto r = ParseAddressList(c.value);
  ASSERT_FALSE(r.ok()) << c.value;
  EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
  EXPECT_NE(r.status().message().find(c.reason), std::string::npos) << c.value << ": " << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, InvalidTest,
    testing::Values(
        // empty
        InvalidCase{"", "no address"}, InvalidCase{" (c) , ,", "no address"},
        // unbalanced quotes, comments, brackets
        InvalidCase{"\"Joe <joe@example.com>", "quoted string not closed"},
        InvalidCase{"Joe (x <joe@example.com>", "comment not closed"},
        InvalidCase{"joe@example.com)", "')' without '('"}, InvalidCase{"Joe <joe@example.com", "'<' not closed"},
        InvalidCase{"joe@example.com>", "'>' without '<'"}, InvalidCase{"Joe <joe@example.com>>", "'>' without '<'"},
        InvalidCase{"Joe <<joe@example.com>>", "expected an addr-spec"},
        InvalidCase{"joe@[1.2.3.4", "domain literal not closed"}, InvalidCase{"joe@1.2.3.4]", "']' without '['"},
        // '@': missing, doubled, nothing around it
        InvalidCase{"joe", "without '@'"}, InvalidCase{"Joe <joe>", "without '@'"},
        InvalidCase{"a@b.example, joe", "without '@'"}, InvalidCase{"a@b@c.example", "second '@'"},
        InvalidCase{"<a@b@c.example>", "second '@'"}, InvalidCase{"@example.com", "nothing before '@'"},
        InvalidCase{"<>", "empty angle address"},
        // empty domain, dots
        InvalidCase{"joe@", "empty domain"}, InvalidCase{"joe@ (c)", "empty domain"},
        InvalidCase{"<joe@>", "empty domain"}, InvalidCase{"joe@example.com.", "domain ends with '.'"},
        InvalidCase{"joe@example..com", "domain ends with '.'"}, InvalidCase{"joe@.example.com", "empty domain"},
        InvalidCase{"joe.@example.com", "local part ends with '.'"}, InvalidCase{".joe@example.com", "empty word"},
        InvalidCase{"a..b@example.com", "empty word"}, InvalidCase{"a b@example.com", "without '.' between"},
        InvalidCase{". Joe <j@example.com>", "starts with '.'"},
        // 8-bit and control bytes, bad line breaks
        InvalidCase{std::string("joe@exa\0mple.com", 16), "control byte 0x00"},
        InvalidCase{"J\xc3\xb6rg <j@example.com>", "8-bit byte 0xc3"},
        InvalidCase{"\"J\xc3\xb6rg\" <j@example.com>", "8-bit byte 0xc3"},
        InvalidCase{"(J\xc3\xb6rg) j@example.com", "8-bit byte 0xc3"},
        InvalidCase{"j@example.com\x7f", "control byte 0x7f"},
        InvalidCase{"\"a\x01\"@example.com", "control byte 0x01"}, InvalidCase{"\"a\\\x01\"@example.com", "after '\\'"},
        InvalidCase{"a@example.com\r b@x.example", "bare CR"}, InvalidCase{"a@example.com\rb", "bare CR"},
        InvalidCase{"a@example.com,\nb@x.example", "line break"},
        InvalidCase{"a@example.com,\r\nb@x.example", "line break"}, InvalidCase{"a@example.com\r\n", "line break"},
        InvalidCase{"\"a\nb\"@example.com", "line break"}, InvalidCase{"\"a\\\r\n b\"@example.com", "after '\\'"},
        InvalidCase{"a\\b@example.com", "outside a quoted string"}, InvalidCase{"\"abc\\", "at the end"},
        // trailing garbage, misplaced tokens
        InvalidCase{"joe@example.com joe", "expected ','"}, InvalidCase{"joe@example.com;", "expected ','"},
        InvalidCase{"Joe <joe@example.com> x", "expected ','"}, InvalidCase{"joe@[1.2.3.4].com", "expected ','"},
        InvalidCase{"a@b.example <c@d.example>", "expected ','"}, InvalidCase{"joe@\"example\".com", "empty domain"},
        InvalidCase{"[1.2.3.4] <a@b.example>", "expected an"},
        // groups
        InvalidCase{"Team: a@b.example", "group not closed"},
        // valid, but Python's email package fails on the whole field
        InvalidCase{"A:; , b@b.example", "after an empty group"}, InvalidCase{"A:;(c)", "after an empty group"},
        InvalidCase{"A.<b@b.example>", "ends with '.'"}, InvalidCase{"A.:b@b.example;", "ends with '.'"},
        InvalidCase{"A: B: b@b.example;;", "group inside a group"}, InvalidCase{": a@b.example;", "expected an"},
        // obs-route
        InvalidCase{"<@r1.example user@example.com>", "':' ending a route"},
        InvalidCase{"<@:user@example.com>", "empty domain"}, InvalidCase{"<,:user@example.com>", "'@' in a route"},
        // encoded-words a reader could decode across token bounds
        InvalidCase{"=?utf-8?q?a <e@evil.example>, b?= <g@good.example>", "malformed encoded-word"},
        InvalidCase{"=?utf-8?q?a?=b <g@good.example>", "malformed encoded-word"},
        InvalidCase{"\"=?utf-8?q?a\" <e@evil.example>, \"?=\" <g@good.example>", "not an encoded-word"},
        InvalidCase{"\"=?utf-8?q?=41\" <e@e.example>, \"?=\" <g@g.example>", "not an encoded-word"},
        InvalidCase{"=?utf-8?q?x?=@good.example", "'=?' starts a word"},
        InvalidCase{"x@=?utf-8?q?evil.example?=", "'=?' starts a domain label"}));

TEST(AddressList, CommentDepthBound) {
  auto nested = [](size_t depth) {
    return std::string(depth, '(') + "c" + std::string(depth, ')') + " joe@example.com";
  };
  EXPECT_TRUE(ParseAddressList(nested(kMaxCommentDepth)).ok());
  auto r = ParseAddressList(nested(kMaxCommentDepth + 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deep"), std::string::npos);
  // Very deep nesting is refused, not recursed into.
  EXPECT_FALSE(ParseAddressList(nested(1 << 20)).ok());
}

TEST(AddressList, MailboxBound) {
  std::string list;
  for (size_t i = 0; i < kMaxAddressListMailboxes; ++i) list += "a@b.example,";
  auto r = ParseAddressList(list);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->size(), kMaxAddressListMailboxes);
  r = ParseAddressList(list + "a@b.example");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 1000 mailboxes"), std::string::npos);
  // Same bound inside groups.
  EXPECT_FALSE(ParseAddressList("G: " + list + "a@b.example;").ok());
}

TEST(AddressList, LargeInputs) {
  // Long runs of everything the lexer and parser loop over.
  EXPECT_TRUE(ParseAddressList(std::string(1 << 20, ' ') + "a@b.example").ok());
  EXPECT_TRUE(ParseAddressList(std::string(1 << 20, ',') + "a@b.example").ok());
  EXPECT_TRUE(ParseAddressList("\"" + std::string(1 << 20, 'x') + "\" <a@b.example>").ok());
  std::string dots;
  for (int i = 0; i < 100000; ++i) dots += "a.";
  EXPECT_TRUE(ParseAddressList(dots + "a@b.example").ok());
  EXPECT_TRUE(ParseAddressList("a@" + dots + "example").ok());
  EXPECT_FALSE(ParseAddressList("G:" + std::string(1 << 20, ',')).ok());
  EXPECT_FALSE(ParseAddressList(std::string(1 << 20, '(')).ok());
}

HeaderField Field(const std::string& name, const std::string& value) {
  HeaderField f;
  f.raw = name + ":" + value;
  f.name_len = name.size();
  return f;
}

std::vector<std::string> Domains(const std::vector<HeaderField>& fields) {
  auto r = FromDomains(fields);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(FromDomains, DomainsReadersDisplay) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Domains({Field("From", " \"a@evil.example\" <user@good.example>")}), V{"good.example"});
  EXPECT_EQ(Domains({Field("From", " user@good.example (evil.example)")}), V{"good.example"});
  EXPECT_EQ(Domains({Field("From", " a@x.example, b@y.example")}), (V{"x.example", "y.example"}));
  EXPECT_EQ(Domains({Field("From", " a@X.example, b@x.EXAMPLE, c@y.example")}), (V{"x.example", "y.example"}));
  EXPECT_EQ(Domains({Field("Subject", " a@evil.example"), Field("from", " A <a@x.example>"),
                     Field("FROM", " Team: b@y.example, c@x.example;")}),
            (V{"x.example", "y.example"}));
  EXPECT_EQ(Domains({Field("From", " <@relay.example:joe@xn--bcher-kva.example>")}), V{"xn--bcher-kva.example"});
}

TEST(FromDomains, Refusals) {
  struct Case {
    std::vector<HeaderField> fields;
    std::string reason;
  };
  std::vector<Case> cases = {
      {{}, "no From field"},
      {{Field("Sender", " a@b.example")}, "no From field"},
      {{Field("From", " a@b.example"), Field("From", " Joe <joe")}, "From: "},
      {{Field("From", " undisclosed-recipients:;")}, "no mailbox"},
      {{Field("From", " a@[192.0.2.1]")}, "domain literal"},
      {{Field("From", " a@under_score.example")}, "'_'"},
      {{Field("From", " a@-lead.example")}, "'-'"},
      {{Field("From", " a@trail-.example")}, "'-'"},
      {{Field("From", " a@" + std::string(64, 'x') + ".example")}, "label of 64"},
      {{Field("From", " a@192.0.2.1")}, "all-numeric"},
      {{Field("From", " a@J\xc3\xb6rg.example")}, "8-bit"},
      {{Field("From", " a@b.example, c@d{x}.example")}, "'{'"},
  };
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  cases.push_back({{Field("From", " a@" + long_name + "example")}, "longer than 253"});
  HeaderField truncated = Field("From", " a@b.example");
  truncated.truncated = true;
  cases.push_back({{truncated}, "truncated"});
  for (const Case& c : cases) {
    auto r = FromDomains(c.fields);
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_EQ(r.status().code(), Status::Code::kMalformed);
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos) << r.status().message();
  }
  // 253 characters is fine.
  std::string name;
  while (name.size() < 245) name += "abcdefg.";
  name += std::string(253 - name.size(), 'z');
  ASSERT_EQ(name.size(), 253u);
  EXPECT_EQ(Domains({Field("From", " a@" + name)}), std::vector<std::string>{name});
}

}  // namespace
}  // namespace mtas
