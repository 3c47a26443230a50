// RFC 5322 address-list parsing (§3.4, §4.4) and the From domains policy
// looks up. A lexer turns the value into words and specials, checking every
// byte and skipping CFWS; a parser with one token of lookahead and no
// recursion builds the mailboxes.
#include "mtas/address.h"

#include <cstdio>
#include <set>
#include <utility>

#include "common/ascii.h"

namespace mtas {
namespace {

constexpr size_t kNpos = std::string_view::npos;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsFwsByte(char c) { return IsWsp(c) || c == '\r' || c == '\n'; }
bool IsVchar(char c) { return c >= 33 && c <= 126; }

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != 0 && std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != kNpos;
}
bool IsCtext(char c) { return IsVchar(c) && c != '(' && c != ')' && c != '\\'; }
bool IsQtext(char c) { return IsVchar(c) && c != '"' && c != '\\'; }
bool IsDtext(char c) { return IsVchar(c) && c != '[' && c != ']' && c != '\\'; }

std::string DescribeByte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  char buf[32];
  if (c >= 0x80) {
    std::snprintf(buf, sizeof buf, "8-bit byte 0x%02x", c);
  } else if (c < 32 || c == 127) {
    std::snprintf(buf, sizeof buf, "control byte 0x%02x", c);
  } else {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  }
  return buf;
}

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

// The end of the RFC 2047 encoded-word that starts at s[i] ("=?" charset
// "?" B|Q "?" encoded-text "?="), or kNpos when none does. The text may hold
// no '"' or '\\', so a word found inside a quoted string ends inside it.
size_t EncodedWordEnd(std::string_view s, size_t i) {
  constexpr std::string_view kEspecials = "()<>@,;:\\\"/[]?.=";
  if (s.substr(i, 2) != "=?") return kNpos;
  size_t j = i + 2;
  const size_t charset = j;
  while (j < s.size() && IsVchar(s[j]) && kEspecials.find(s[j]) == kNpos) ++j;
  if (j == charset || j + 2 >= s.size() || s[j] != '?') return kNpos;
  char enc = AsciiLower(s[j + 1]);
  if ((enc != 'b' && enc != 'q') || s[j + 2] != '?') return kNpos;
  j += 3;
  const size_t text = j;
  while (j < s.size() && IsQtext(s[j]) && s[j] != '?') ++j;
  if (j == text || s.substr(j, 2) != "?=") return kNpos;
  return j + 2;
}

bool StartsEncodedWord(std::string_view atom) { return atom.substr(0, 2) == "=?"; }

struct Token {
  enum class Kind { kEnd, kError, kAtom, kQuoted, kLiteral, kSpecial };
  Kind kind = Kind::kEnd;
  char special = 0;           // kSpecial: one of . , : ; @ < >
  std::string text;           // atom as written; quoted-string content decoded; literal with brackets
  bool space_before = false;  // CFWS came before the token
  size_t offset = 0;          // where the token starts

  bool Is(char c) const { return kind == Kind::kSpecial && special == c; }
  bool IsWord() const { return kind == Kind::kAtom || kind == Kind::kQuoted; }
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd:
      return "the end of the value";
    case Token::Kind::kError:
      return "an error";
    case Token::Kind::kAtom:
      return "'" + (t.text.size() > 40 ? t.text.substr(0, 40) + "..." : t.text) + "'" + At(t.offset);
    case Token::Kind::kQuoted:
      return "a quoted string" + At(t.offset);
    case Token::Kind::kLiteral:
      return "a domain literal" + At(t.offset);
    case Token::Kind::kSpecial:
      return std::string("'") + t.special + "'" + At(t.offset);
  }
  return "?";
}

// Splits a field value into tokens; CFWS between them is checked and
// skipped. After the first error every token is kError.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  const Token& Peek() {
    if (!have_) {
      Lex();
      have_ = true;
    }
    return tok_;
  }
  Token Next() {
    Peek();
    have_ = false;
    return std::move(tok_);
  }
  const Status& error() const { return error_; }

 private:
  bool Fail(std::string reason) {
    if (error_.ok()) error_ = Status::Malformed(std::move(reason));
    return false;
  }

  // FWS: white space, each line break (CRLF or LF) followed by white space.
  // The white space goes to `keep` when given.
  bool Fws(std::string* keep) {
    while (i_ < s_.size() && IsFwsByte(s_[i_])) {
      char c = s_[i_];
      if (IsWsp(c)) {
        if (keep) keep->push_back(c);
        ++i_;
        continue;
      }
      if (c == '\r' && (i_ + 1 >= s_.size() || s_[i_ + 1] != '\n')) return Fail("bare CR" + At(i_));
      size_t brk = i_;
      i_ += c == '\r' ? 2 : 1;
      if (i_ >= s_.size() || !IsWsp(s_[i_])) return Fail("line break not followed by white space" + At(brk));
    }
    return true;
  }

  bool QuotedPair(std::string* out) {
    if (i_ + 1 >= s_.size()) return Fail("'\\' at the end of the value");
    char c = s_[i_ + 1];
    if (!IsVchar(c) && !IsWsp(c)) return Fail(DescribeByte(c) + " after '\\'" + At(i_));
    if (out) out->push_back(c);
    i_ += 2;
    return true;
  }

  bool Comment() {
    const size_t start = i_;
    int depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '(') {
        if (++depth > kMaxCommentDepth) return Fail("comments nested too deep" + At(i_));
        ++i_;
      } else if (c == ')') {
        ++i_;
        if (--depth == 0) return true;
      } else if (c == '\\') {
        if (!QuotedPair(nullptr)) return false;
      } else if (IsFwsByte(c)) {
        if (!Fws(nullptr)) return false;
      } else if (IsCtext(c)) {
        ++i_;
      } else {
        return Fail(DescribeByte(c) + " in a comment" + At(i_));
      }
    }
    return Fail("comment not closed (unbalanced '(')" + At(start));
  }

  bool Cfws() {
    while (i_ < s_.size()) {
      if (IsFwsByte(s_[i_])) {
        if (!Fws(nullptr)) return false;
      } else if (s_[i_] == '(') {
        if (!Comment()) return false;
      } else {
        break;
      }
    }
    return true;
  }

  bool QuotedString() {
    const size_t start = i_++;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        tok_.kind = Token::Kind::kQuoted;
        return true;
      }
      if (c == '\\') {
        if (!QuotedPair(&tok_.text)) return false;
      } else if (IsFwsByte(c)) {
        if (!Fws(&tok_.text)) return false;
      } else if (c == '=' && i_ + 1 < s_.size() && s_[i_ + 1] == '?') {
        size_t end = EncodedWordEnd(s_, i_);
        if (end == kNpos) return Fail("'=?' in a quoted string that is not an encoded-word" + At(i_));
        tok_.text.append(s_.substr(i_, end - i_));
        i_ = end;
      } else if (IsQtext(c)) {
        tok_.text.push_back(c);
        ++i_;
      } else {
        return Fail(DescribeByte(c) + " in a quoted string" + At(i_));
      }
    }
    return Fail("quoted string not closed (unbalanced '\"')" + At(start));
  }

  bool DomainLiteral() {
    const size_t start = i_++;
    tok_.text = "[";
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ']') {
        ++i_;
        tok_.text.push_back(']');
        tok_.kind = Token::Kind::kLiteral;
        return true;
      }
      if (c == '\\') {
        tok_.text.push_back('\\');
        if (!QuotedPair(&tok_.text)) return false;
      } else if (IsFwsByte(c)) {
        if (!Fws(nullptr)) return false;
      } else if (IsDtext(c)) {
        tok_.text.push_back(c);
        ++i_;
      } else {
        return Fail(DescribeByte(c) + " in a domain literal" + At(i_));
      }
    }
    return Fail("domain literal not closed (unbalanced '[')" + At(start));
  }

  void Lex() {
    tok_ = Token();
    if (error_.ok()) {
      const size_t start = i_;
      if (Cfws() && LexToken(start)) return;
    }
    tok_ = Token();
    tok_.kind = Token::Kind::kError;
  }

  bool LexToken(size_t start) {
    tok_.space_before = i_ != start;
    tok_.offset = i_;
    if (i_ >= s_.size()) return true;  // kEnd
    char c = s_[i_];
    switch (c) {
      case '"':
        return QuotedString();
      case '[':
        return DomainLiteral();
      case '.':
      case ',':
      case ':':
      case ';':
      case '@':
      case '<':
      case '>':
        tok_.kind = Token::Kind::kSpecial;
        tok_.special = c;
        ++i_;
        return true;
      case ')':
        return Fail("')' without '('" + At(i_));
      case ']':
        return Fail("']' without '['" + At(i_));
      case '\\':
        return Fail("'\\' outside a quoted string or comment" + At(i_));
      default:
        break;
    }
    if (!IsAtext(c)) return Fail(DescribeByte(c) + At(i_));
    const size_t begin = i_;
    while (i_ < s_.size() && IsAtext(s_[i_])) ++i_;
    tok_.kind = Token::Kind::kAtom;
    tok_.text.assign(s_.substr(begin, i_ - begin));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  Token tok_;
  bool have_ = false;
  Status error_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = AsciiLower(c);
  return s;
}

// address-list / mailbox-list with groups (RFC 6854 allows them in From).
class Parser {
 public:
  explicit Parser(std::string_view s) : lx_(s) {}

  Result<std::vector<Mailbox>> Run() {
    bool any = false;
    for (;;) {
      const Token& t = lx_.Peek();
      if (t.kind == Token::Kind::kEnd) break;
      if (t.Is(',')) {  // obs-addr-list: an empty element
        lx_.Next();
        continue;
      }
      MTAS_RETURN_IF_ERROR(Address(false));
      any = true;
      const Token& after = lx_.Peek();
      if (after.kind == Token::Kind::kEnd) break;
      if (!after.Is(',')) return AfterAddress(after);
      lx_.Next();
    }
    if (!any) return Status::Malformed("no address");
    return std::move(out_);
  }

 private:
  Status Unexpected(const Token& t, std::string_view wanted) {
    if (t.kind == Token::Kind::kError) return lx_.error();
    return Status::Malformed("expected " + std::string(wanted) + ", found " + Describe(t));
  }

  Status AfterAddress(const Token& t) {
    if (t.Is('@')) return Status::Malformed("second '@' in an address" + At(t.offset));
    if (t.Is('>')) return Status::Malformed("'>' without '<'" + At(t.offset));
    return Unexpected(t, "',' or the end after an address");
  }

  Status Add(Mailbox m) {
    if (out_.size() >= kMaxAddressListMailboxes) {
      return Status::Malformed("more than " + std::to_string(kMaxAddressListMailboxes) + " mailboxes");
    }
    out_.push_back(std::move(m));
    return Status::Ok();
  }

  // word / "." tokens up to the first other token.
  std::vector<Token> Words() {
    std::vector<Token> words;
    while (lx_.Peek().IsWord() || lx_.Peek().Is('.')) words.push_back(lx_.Next());
    return words;
  }

  // address = mailbox / group (mailbox only when `in_group`).
  Status Address(bool in_group) {
    std::vector<Token> words = Words();
    const Token& t = lx_.Peek();
    if (t.Is('<')) {
      std::string name;
      if (!words.empty()) MTAS_RETURN_IF_ERROR(Phrase(words, t, &name));
      return AngleAddr(std::move(name));
    }
    if (t.Is(':') && !words.empty()) {
      if (in_group) return Status::Malformed("group inside a group" + At(t.offset));
      std::string name;
      MTAS_RETURN_IF_ERROR(Phrase(words, t, &name));
      lx_.Next();
      return GroupRest();
    }
    if (t.Is('@') && !words.empty()) {
      Mailbox m;
      MTAS_RETURN_IF_ERROR(LocalPart(words, &m.local_part));
      lx_.Next();
      MTAS_RETURN_IF_ERROR(Domain(&m.domain));
      return Add(std::move(m));
    }
    if (t.kind == Token::Kind::kError) return lx_.error();
    if (t.Is('>')) return Status::Malformed("'>' without '<'" + At(t.offset));
    if (t.Is('@')) return Status::Malformed("nothing before '@'" + At(t.offset));
    if (!words.empty()) return Status::Malformed("address without '@'" + At(words.front().offset));
    return Unexpected(t, "an address");
  }

  // group = display-name ":" [group-list] ";" [CFWS], after the ':'.
  // Refuses CFWS after a group written "name:;": Python's email package
  // does not skip it there, and fails on the whole field.
  Status GroupRest() {
    for (bool first = true;; first = false) {
      const Token& t = lx_.Peek();
      if (t.Is(';')) {
        const bool bare = first && !t.space_before;
        const size_t offset = lx_.Next().offset;
        if (bare && lx_.Peek().space_before) {
          return Status::Malformed("white space or comment after an empty group ':;'" + At(offset));
        }
        return Status::Ok();
      }
      if (t.Is(',')) {  // obs-mbox-list / obs-group-list: an empty element
        lx_.Next();
        continue;
      }
      if (t.kind == Token::Kind::kEnd) return Status::Malformed("group not closed with ';'");
      MTAS_RETURN_IF_ERROR(Address(true));
      const Token& after = lx_.Peek();
      if (after.Is(';')) continue;
      if (after.kind == Token::Kind::kEnd) return Status::Malformed("group not closed with ';'");
      if (!after.Is(',')) return AfterAddress(after);
      lx_.Next();
    }
  }

  // angle-addr / obs-angle-addr, at the '<'.
  Status AngleAddr(std::string name) {
    const size_t open = lx_.Next().offset;
    if (lx_.Peek().Is(',') || lx_.Peek().Is('@')) {  // obs-route = obs-domain-list ":"
      std::string route;
      while (lx_.Peek().Is(',')) lx_.Next();
      Token at = lx_.Next();
      if (!at.Is('@')) return Unexpected(at, "'@' in a route");
      MTAS_RETURN_IF_ERROR(Domain(&route));
      while (lx_.Peek().Is(',')) {
        lx_.Next();
        if (!lx_.Peek().Is('@')) continue;
        lx_.Next();
        MTAS_RETURN_IF_ERROR(Domain(&route));
      }
      Token colon = lx_.Next();
      if (!colon.Is(':')) return Unexpected(colon, "':' ending a route");
    }
    std::vector<Token> words = Words();
    Token at = lx_.Next();
    if (words.empty()) {
      if (at.Is('>')) return Status::Malformed("empty angle address" + At(open));
      return Unexpected(at, "an addr-spec after '<'");
    }
    if (!at.Is('@')) {
      if (at.Is('>') || at.kind == Token::Kind::kEnd) return Status::Malformed("address without '@'" + At(open));
      return Unexpected(at, "'@'");
    }
    Mailbox m;
    m.display_name = std::move(name);
    MTAS_RETURN_IF_ERROR(LocalPart(words, &m.local_part));
    MTAS_RETURN_IF_ERROR(Domain(&m.domain));
    Token close = lx_.Next();
    if (!close.Is('>')) {
      if (close.Is('@')) return Status::Malformed("second '@' in an address" + At(close.offset));
      if (close.kind == Token::Kind::kEnd) return Status::Malformed("'<' not closed with '>'" + At(open));
      return Unexpected(close, "'>'");
    }
    return Add(std::move(m));
  }

  // phrase = 1*word / obs-phrase (word *(word / "." / CFWS)), before `next`.
  // Refuses a final '.' right before `next`: Python's email package fails
  // on the whole field there.
  static Status Phrase(const std::vector<Token>& words, const Token& next, std::string* out) {
    if (!words.front().IsWord()) return Status::Malformed("display name starts with '.'" + At(words.front().offset));
    if (words.back().Is('.') && !next.space_before) {
      return Status::Malformed("display name ends with '.' right before " + Describe(next));
    }
    for (size_t k = 0; k < words.size(); ++k) {
      const Token& w = words[k];
      if (w.kind == Token::Kind::kAtom && StartsEncodedWord(w.text) && EncodedWordEnd(w.text, 0) != w.text.size()) {
        return Status::Malformed("malformed encoded-word in a display name" + At(w.offset));
      }
      if (k > 0 && w.space_before) out->push_back(' ');
      out->append(w.Is('.') ? "." : w.text);
    }
    return Status::Ok();
  }

  // local-part = dot-atom / quoted-string / obs-local-part (word *("." word)).
  static Status LocalPart(const std::vector<Token>& words, std::string* out) {
    for (size_t k = 0; k < words.size(); ++k) {
      const Token& w = words[k];
      if (k % 2 == 1) {
        if (!w.Is('.')) return Status::Malformed("local part words without '.' between them" + At(w.offset));
        out->push_back('.');
      } else if (!w.IsWord()) {
        return Status::Malformed("empty word in a local part" + At(w.offset));
      } else if (w.kind == Token::Kind::kAtom && StartsEncodedWord(w.text)) {
        return Status::Malformed("'=?' starts a word of a local part" + At(w.offset));
      } else {
        out->append(w.text);
      }
    }
    if (words.size() % 2 == 0) return Status::Malformed("local part ends with '.'" + At(words.back().offset));
    return Status::Ok();
  }

  // domain = dot-atom / domain-literal / obs-domain (atom *("." atom)).
  Status Domain(std::string* out) {
    Token t = lx_.Next();
    if (t.kind == Token::Kind::kLiteral) {
      *out = Lower(std::move(t.text));
      return Status::Ok();
    }
    std::string d;
    for (;;) {
      if (t.kind != Token::Kind::kAtom) {
        if (t.kind == Token::Kind::kError) return lx_.error();
        if (d.empty()) return Status::Malformed("empty domain before " + Describe(t));
        return Status::Malformed("domain ends with '.' before " + Describe(t));
      }
      if (StartsEncodedWord(t.text)) return Status::Malformed("'=?' starts a domain label" + At(t.offset));
      d.append(t.text);
      if (!lx_.Peek().Is('.')) break;
      d.push_back(lx_.Next().special);
      t = lx_.Next();
    }
    *out = Lower(std::move(d));
    return Status::Ok();
  }

  Lexer lx_;
  std::vector<Mailbox> out_;
};

// A DNS host name: LDH labels of 1..63, 253 characters at most, the last
// label not all digits. `d` is lowercase.
Status CheckDnsName(const std::string& d) {
  if (!d.empty() && d.front() == '[') return Status::Malformed("From domain " + d + " is a domain literal");
  if (d.size() > 253) return Status::Malformed("From domain longer than 253 characters");
  size_t start = 0;
  bool all_digits = true;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i < d.size() && d[i] != '.') {
      char c = d[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return Status::Malformed("From domain " + d + " has " + DescribeByte(c) + ", not a DNS name");
      }
      all_digits = all_digits && c >= '0' && c <= '9';
      continue;
    }
    size_t len = i - start;
    if (len == 0 || len > 63)
      return Status::Malformed("From domain " + d + " has a label of " + std::to_string(len) + " characters");
    if (d[start] == '-' || d[i - 1] == '-')
      return Status::Malformed("From domain " + d + " has a label starting or ending with '-'");
    if (i == d.size() && all_digits) return Status::Malformed("From domain " + d + " ends in an all-numeric label");
    start = i + 1;
    all_digits = true;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Mailbox>> ParseAddressList(std::string_view value) { return Parser(value).Run(); }

Result<std::vector<std::string>> FromDomains(const std::vector<HeaderField>& fields) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  bool any_from = false;
  for (const HeaderField& f : fields) {
    if (!f.NameIs("From")) continue;
    any_from = true;
    if (f.truncated) return Status::Malformed("From field truncated");
    Result<std::vector<Mailbox>> list = ParseAddressList(f.value());
    if (!list.ok()) return Status::Malformed("From: " + list.status().message());
    if (list->empty()) return Status::Malformed("From field has no mailbox");
    for (Mailbox& m : *list) {
      MTAS_RETURN_IF_ERROR(CheckDnsName(m.domain));
      if (seen.insert(m.domain).second) out.push_back(std::move(m.domain));
    }
  }
  if (!any_from) return Status::Malformed("no From field");
  return out;
}

}  // namespace mtas
