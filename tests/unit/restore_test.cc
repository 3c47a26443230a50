// Recovering the original (MTAS/1.1): a partial hop whose edits can be
// undone is `recovered`, the edits are named, and the rebuilt message
// verifies. Each test runs a class of edit over every base message shape
// (single part in 7bit, 8bit, quoted-printable and base64; a text leaf of a
// multipart), both carriers and both line ends, never one example.
#include <gtest/gtest.h>

#include "carrier/carrier.h"
#include "mtas/canon.h"
#include "mtas/policy.h"
#include "mtas/report.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::Key;
using test::Opts;
using test::Replace;
using test::SignWith;
using test::VerifyWith;

const test::TestKey& Ed() { return Key("ed25519", "mx1.example.com"); }
const test::TestKey& List() { return Key("ecdsa-p256", "relay.example.org"); }

const std::string kHeader =
    "From: Alice <alice@example.com>\r\n"
    "To: ops@relay.example.org\r\n"
    "Subject: Quarterly numbers\r\n"
    "Date: Wed, 11 Mar 2026 16:00:00 +0100\r\n"
    "Message-ID: <q1@example.com>\r\n"
    "MIME-Version: 1.0\r\n";

const std::string kText = "Hello all,\r\n\r\nthe numbers are fine; caf\xc3\xa9 at 10.\r\n  Indented line.\r\n";

struct Shape {
  std::string name;
  std::string message;
  std::string text_path;  // the text part a footer goes to
  std::string cte;        // its transfer encoding
};

std::string Body(const std::string& cte, const std::string& text) {
  if (cte == "base64") return Base64Encode(text, 76) + "\r\n";
  if (cte == "quoted-printable") return QuotedPrintableEncode(text);
  return text;
}

std::vector<Shape> Shapes() {
  std::vector<Shape> out;
  for (std::string cte : {"8bit", "quoted-printable", "base64"})
    out.push_back({"single-" + cte,
                   kHeader + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " + cte +
                       "\r\n\r\n" + Body(cte, kText),
                   "1", cte});
  for (std::string cte : {"8bit", "base64"}) {
    std::string body = Body(cte, kText);
    if (body.size() >= 2 && body.compare(body.size() - 2, 2, "\r\n") == 0) body.resize(body.size() - 2);
    out.push_back({"multipart-" + cte,
                   kHeader +
                       "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
                       "preamble\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: " +
                       cte + "\r\n\r\n" + body +
                       "\r\n--outer\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--outer--\r\n",
                   "1", cte});
  }
  return out;
}

std::string ToLf(const std::string& m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i)
    if (!(m[i] == '\r' && i + 1 < m.size() && m[i + 1] == '\n')) out += m[i];
  return out;
}

// The header and body of a message, split at the first empty line.
std::pair<std::string, std::string> Split(const std::string& m) {
  size_t end = m.find("\r\n\r\n");
  return {m.substr(0, end + 2), m.substr(end + 4)};
}

// A list's footer after the text of `shape`, in the same encoding or
// re-encoded as `new_cte` (Python's email package writes changed utf-8 text
// as base64).
std::string AppendFooter(const Shape& shape, const std::string& signed_message, const std::string& footer,
                         const std::string& new_cte) {
  std::string cte = new_cte.empty() ? shape.cte : new_cte;
  std::string encoded = Body(cte, kText + footer);
  if (shape.text_path == "1" && shape.name.rfind("single", 0) == 0) {
    auto [head, body] = Split(signed_message);
    head = Replace(head, "Content-Transfer-Encoding: " + shape.cte, "Content-Transfer-Encoding: " + cte);
    return head + "\r\n" + encoded;
  }
  std::string old_body = Body(shape.cte, kText);
  old_body.resize(old_body.size() - 2);
  encoded.resize(encoded.size() - 2);
  std::string m = Replace(signed_message, old_body + "\r\n--outer\r\nContent-Type: application",
                          encoded + "\r\n--outer\r\nContent-Type: application");
  return Replace(m, "charset=utf-8\r\nContent-Transfer-Encoding: " + shape.cte,
                 "charset=utf-8\r\nContent-Transfer-Encoding: " + cte);
}

std::string TagSubject(const std::string& m) { return Replace(m, "Subject: Quarterly", "Subject: [ops] Quarterly"); }

std::string AddListFields(const std::string& m) {
  return Replace(m, "MIME-Version: 1.0\r\n",
                 "MIME-Version: 1.0\r\nList-Id: <ops.relay.example.org>\r\nList-Unsubscribe: "
                 "<mailto:ops-leave@relay.example.org>\r\n");
}

std::string AddPart(const std::string& m) {
  return Replace(m, "--outer--",
                 "--outer\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nops footer\r\n--outer--");
}

VerifyReport Check(const std::string& m, VerifyOptions o = {}) { return VerifyWith({&Ed(), &List()}, m, o); }

// The message hop `hop` signed, rebuilt from `m`.
Result<std::string> Restore(const std::string& m, int hop) {
  PinnedKeyResolver pinned;
  EXPECT_TRUE(pinned.Add(Ed().signer, Ed().cert_path).ok());
  EXPECT_TRUE(pinned.Add(List().signer, List().cert_path).ok());
  VerifyOptions o;
  o.resolver = &pinned;
  MemorySource src(m);
  StringSink out;
  auto r = Verifier(o).Restore(src, hop, out);
  if (!r.ok()) return r.status();
  return out.out;
}

std::vector<EditKind> Kinds(const SignatureReport& s) {
  std::vector<EditKind> k;
  for (const Edit& e : s.edits) k.push_back(e.kind);
  return k;
}

// Every additive list edit on every shape: partial, recovered, the edits
// named, and the rebuilt message is the signed one, byte for byte when no
// re-encoding was undone (only the list's unsigned fields stay).
TEST(Restore, AdditiveEditsAreUndoneOnEveryShape) {
  const std::string footer = "-- \r\nops mailing list\r\nhttps://relay.example.org/ops\r\n";
  for (const Shape& shape : Shapes())
    for (Carrier c : {Carrier::kHeader, Carrier::kBody})
      for (bool lf : {false, true})
        for (std::string new_cte : {"", "base64", "quoted-printable"}) {
          if (new_cte == shape.cte) continue;
          if (c == Carrier::kBody && shape.name.rfind("single", 0) == 0) continue;  // wrapped: another shape
          SCOPED_TRACE(shape.name + " " + std::string(CarrierName(c)) + (lf ? " LF" : " CRLF") + " ->" + new_cte);
          std::string signed_message = SignWith(Ed(), shape.message, Opts(c)).message;
          std::string edited = AddListFields(TagSubject(AppendFooter(shape, signed_message, footer, new_cte)));
          if (lf) {
            signed_message = ToLf(signed_message);
            edited = ToLf(edited);
          }
          VerifyReport r = Check(edited);
          ASSERT_EQ(r.signatures.size(), 1u);
          const SignatureReport& s = r.signatures[0];
          EXPECT_EQ(s.result, SigResult::kPartial) << s.reason;
          ASSERT_TRUE(s.recovered) << s.not_recovered;
          EXPECT_EQ(Kinds(s), (std::vector<EditKind>{EditKind::kSubjectTagged, EditKind::kTextAppended}));
          EXPECT_EQ(s.edits[0].added, "[ops] ");
          EXPECT_EQ(s.edits[1].where, shape.text_path);
          auto restored = Restore(edited, 1);
          ASSERT_TRUE(restored.ok()) << restored.status().message();
          VerifyReport again = Check(*restored);
          EXPECT_EQ(again.result, SigResult::kPass) << ReportText(again);
          EXPECT_TRUE(again.signatures[0].content_intact) << ReportText(again);
          // The signed message, but for the list's two unsigned fields.
          std::string eol = lf ? "\n" : "\r\n";
          std::string got = Replace(*restored, "List-Id: <ops.relay.example.org>" + eol, "");
          got = Replace(got, "List-Unsubscribe: <mailto:ops-leave@relay.example.org>" + eol, "");
          EXPECT_EQ(got, signed_message);
        }
}

// An added part is taken out again; with a footer and a tag too.
TEST(Restore, AddedPartsAreTakenOut) {
  for (const Shape& shape : Shapes()) {
    if (shape.name.rfind("multipart", 0) != 0) continue;
    for (Carrier c : {Carrier::kHeader, Carrier::kBody}) {
      SCOPED_TRACE(shape.name + " " + std::string(CarrierName(c)));
      std::string signed_message = SignWith(Ed(), shape.message, Opts(c)).message;
      std::string edited = TagSubject(AddPart(signed_message));
      const SignatureReport s = Check(edited).signatures.at(0);
      EXPECT_EQ(s.result, SigResult::kPartial);
      ASSERT_TRUE(s.recovered) << s.not_recovered;
      EXPECT_EQ(Kinds(s), (std::vector<EditKind>{EditKind::kSubjectTagged, EditKind::kPartAdded}));
      auto restored = Restore(edited, 1);
      ASSERT_TRUE(restored.ok()) << restored.status().message();
      EXPECT_EQ(*restored, signed_message);
    }
  }
}

// What cannot be undone is never recovered: signed text changed (also when
// a footer follows), a part removed, a part's type changed, a signed field
// replaced that a reader sees (not an addition), and the policy class.
TEST(Restore, ChangesThatAreNotAdditionsAreNotRecoveredAsAdditions) {
  for (const Shape& shape : Shapes()) {
    SCOPED_TRACE(shape.name);
    std::string signed_message = SignWith(Ed(), shape.message, Opts(Carrier::kHeader)).message;
    std::string with_footer = AppendFooter(shape, signed_message, "footer\r\n", "");
    // The signed text changed under its encoding, with or without a footer.
    std::string changed_text = kText;
    changed_text[0] = 'J';
    for (const std::string& tail : {std::string(), std::string("footer\r\n")}) {
      std::string enc_old = Body(shape.cte, kText), enc_new = Body(shape.cte, changed_text + tail);
      if (shape.name.rfind("multipart", 0) == 0) {
        enc_old.resize(enc_old.size() - 2);
        enc_new.resize(enc_new.size() - 2);
      }
      const SignatureReport s = Check(Replace(signed_message, enc_old, enc_new)).signatures.at(0);
      EXPECT_NE(s.result, SigResult::kPass);
      EXPECT_FALSE(s.recovered);
      EXPECT_FALSE(Restore(Replace(signed_message, enc_old, enc_new), 1).ok());
    }
    // Reply-To put in (a changed destination for replies): recovered, but
    // not an addition, so the policy class does not apply.
    std::string reply_to =
        Replace(with_footer, "MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\nReply-To: ops@relay.example.org\r\n");
    const SignatureReport s = Check(reply_to).signatures.at(0);
    ASSERT_TRUE(s.recovered) << s.not_recovered;
    EXPECT_TRUE(std::any_of(s.edits.begin(), s.edits.end(),
                            [](const Edit& e) { return e.kind == EditKind::kHeaderAdded && e.where == "Reply-To"; }));
  }
  // A removed part.
  std::string multi = SignWith(Ed(), Shapes()[3].message, Opts(Carrier::kHeader)).message;
  std::string removed = Replace(multi,
                                "\r\n--outer\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
                                "base64\r\n\r\nAAECAwQFBgcICQ==",
                                "");
  const SignatureReport s = Check(removed).signatures.at(0);
  EXPECT_FALSE(s.recovered);
  EXPECT_NE(s.not_recovered.find("removed"), std::string::npos) << s.not_recovered;
}

// A later hop's fields and carrier go; the earlier hop passes on the
// rebuilt message, whose signed content is intact.
TEST(Restore, LaterHopsAreTakenOut) {
  for (Carrier c : {Carrier::kHeader, Carrier::kBody}) {
    SCOPED_TRACE(std::string(CarrierName(c)));
    std::string first = SignWith(Ed(), Shapes()[3].message, Opts(c)).message;
    std::string edited = TagSubject(AppendFooter(Shapes()[3], first, "footer\r\n", ""));
    std::string second = SignWith(List(), "Received: from mx1 by relay\r\n" + edited, Opts(c)).message;
    VerifyReport r = Check(second);
    ASSERT_EQ(r.signatures.size(), 2u);
    EXPECT_TRUE(r.signatures[0].recovered) << r.signatures[0].not_recovered;
    EXPECT_EQ(r.signatures[1].result, SigResult::kPass);
    auto restored = Restore(second, 1);
    ASSERT_TRUE(restored.ok()) << restored.status().message();
    EXPECT_EQ(*restored, first);
    auto as_is = Restore(second, 2);  // a pass: only what came later would go
    ASSERT_TRUE(as_is.ok());
    EXPECT_EQ(*as_is, second);
    EXPECT_FALSE(Restore(second, 3).ok());
  }
}

// A list's DMARC mitigation: From rewritten to the list's address, and the
// list signs for its domain. The first hop is partial, not fail, with the
// rewrite named and the original recovered; without the list's pass, or
// when the list signs for another domain, it stays fail.
TEST(Restore, FromRewrittenByAListThatSignsForItIsRecovered) {
  for (Carrier c : {Carrier::kHeader, Carrier::kBody}) {
    SCOPED_TRACE(std::string(CarrierName(c)));
    std::string first = SignWith(Ed(), Shapes()[3].message, Opts(c)).message;
    std::string munged = Replace(first, "From: Alice <alice@example.com>",
                                 "From: Alice via ops <ops@relay.example.org>\r\nReply-To: alice@example.com");
    munged = AppendFooter(Shapes()[3], munged, "footer\r\n", "");
    VerifyReport unsigned_by_list = Check(munged);
    EXPECT_EQ(unsigned_by_list.signatures[0].result, SigResult::kFail);
    std::string second = SignWith(List(), munged, Opts(c)).message;
    VerifyReport r = Check(second);
    ASSERT_EQ(r.signatures.size(), 2u);
    const SignatureReport& s = r.signatures[0];
    EXPECT_EQ(s.result, SigResult::kPartial) << s.reason;
    EXPECT_TRUE(s.recovered) << s.not_recovered;
    EXPECT_NE(s.reason.find("From rewritten by relay.example.org"), std::string::npos) << s.reason;
    EXPECT_TRUE(
        std::any_of(s.edits.begin(), s.edits.end(), [](const Edit& e) { return e.kind == EditKind::kFromRewritten; }));
    auto restored = Restore(second, 1);
    ASSERT_TRUE(restored.ok()) << restored.status().message();
    EXPECT_EQ(*restored, first);
    // The list's From is not its own domain: no rewrite is vouched.
    std::string elsewhere = Replace(munged, "ops@relay.example.org>", "ops@lists.example.net>");
    EXPECT_EQ(Check(SignWith(List(), elsewhere, Opts(c)).message).signatures[0].result, SigResult::kFail);
  }
}

// The policy class: an unvouched hop recovered with additions only is
// accept-with-edits under mtas=verify, the `partial` setting under
// mtas=required, and whatever `additions` says for the domain.
TEST(Restore, AdditionsAreTheirOwnPolicyClass) {
  struct Fixed : PolicySource {
    PolicyLevel level;
    DomainPolicy Lookup(const std::string& d) override { return {d, d, level, false, ""}; }
  };
  std::string signed_message = SignWith(Ed(), Shapes()[0].message, Opts(Carrier::kHeader)).message;
  VerifyReport additions = Check(TagSubject(AppendFooter(Shapes()[0], signed_message, "footer\r\n", "")));
  ASSERT_TRUE(additions.signatures[0].recovered);
  VerifyReport replaced = Check(Replace(signed_message, "Subject: Quarterly numbers", "Subject: Pay now"));
  ASSERT_TRUE(replaced.signatures[0].recovered);
  // Text before the signed Subject that is not a list's bracketed tag is a
  // changed Subject, not an addition.
  for (const char* prefix : {"URGENT: pay to IBAN DE00 - ", "[ops] URGENT ", "[a] [b] [c] [d] ", "[] "}) {
    VerifyReport r =
        Check(Replace(signed_message, "Subject: Quarterly", std::string("Subject: ") + prefix + "Quarterly"));
    ASSERT_TRUE(r.signatures[0].recovered) << prefix;
    EXPECT_EQ(r.signatures[0].edits.at(0).kind, EditKind::kHeaderChanged) << prefix;
  }
  for (const char* prefix : {"[ops] ", "[External] [ops] ", "[ops]"}) {
    VerifyReport r =
        Check(Replace(signed_message, "Subject: Quarterly", std::string("Subject: ") + prefix + "Quarterly"));
    ASSERT_TRUE(r.signatures[0].recovered) << prefix;
    EXPECT_EQ(r.signatures[0].edits.at(0).kind, EditKind::kSubjectTagged) << prefix;
  }
  std::vector<std::string> from = {"example.com"};
  using A = PolicyDecision::Action;
  auto decide = [&](const VerifyReport& r, PolicyLevel level, const std::string& file) {
    Fixed src;
    src.level = level;
    auto local = LocalPolicy::Parse(file);
    EXPECT_TRUE(local.ok()) << local.status().message();
    return DecidePolicy(r, from, src, *local).action;
  };
  EXPECT_EQ(decide(additions, PolicyLevel::kVerify, ""), A::kAcceptWithEdits);
  EXPECT_EQ(decide(additions, PolicyLevel::kRequired, ""), A::kQuarantine);
  EXPECT_EQ(decide(additions, PolicyLevel::kRequired, "additions accept\n"), A::kAcceptWithEdits);
  EXPECT_EQ(decide(additions, PolicyLevel::kVerify, "additions mx1.example.com reject\n"), A::kReject);
  EXPECT_EQ(decide(additions, PolicyLevel::kVerify, "additions example.com quarantine\n"), A::kQuarantine);
  EXPECT_EQ(decide(additions, PolicyLevel::kVerify, "additions other.example quarantine\n"), A::kAcceptWithEdits);
  EXPECT_EQ(decide(additions, PolicyLevel::kNone, ""), A::kAccept);
  // A replaced Subject is an unexplained change for policy, recovered or not.
  EXPECT_EQ(decide(replaced, PolicyLevel::kVerify, "additions accept\n"), A::kQuarantine);
  EXPECT_FALSE(LocalPolicy::Parse("additions maybe\n").ok());
  EXPECT_FALSE(LocalPolicy::Parse("additions a.example accept extra\n").ok());
}

// An HTML footer put before the closing lines (</body>, </html>), on every
// shape of HTML part, both line ends, three encodings: `inserted` with the
// text exactly, recovered, and the rebuilt message is the signed one. What
// is not an insertion before intact closing lines stays `changed`.
TEST(Restore, TextInsertedBeforeTheClosingLinesIsShownAndUndone) {
  const std::string html =
      "<html><body>\r\n<p>The numbers are fine.</p>\r\n<p>caf\xc3\xa9 at 10.</p>\r\n</body>\r\n</html>\r\n";
  const std::string footer = "<hr><p>ops mailing list: https://relay.example.org/ops</p>\r\n";
  for (std::string cte : {"8bit", "quoted-printable", "base64"})
    for (bool multipart : {false, true})
      for (bool lf : {false, true}) {
        SCOPED_TRACE(cte + (multipart ? " multipart" : " single") + (lf ? " LF" : " CRLF"));
        auto message = [&](const std::string& text) {
          std::string body = Body(cte, text);
          if (!multipart)
            return kHeader + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: " + cte +
                   "\r\n\r\n" + body;
          body.resize(body.size() - 2);
          return kHeader + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n" +
                 "Content-Type: text/plain\r\n\r\nThe numbers are fine.\r\n--alt\r\n" +
                 "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + body +
                 "\r\n--alt--\r\n";
        };
        std::string path = multipart ? "2" : "1";
        std::string signed_message = SignWith(Ed(), message(html), Opts(Carrier::kHeader)).message;
        auto [head, body] = Split(signed_message);
        auto edited_with = [&](const std::string& text) {
          std::string m = head + "\r\n" + Split(message(text)).second;
          return lf ? ToLf(m) : m;
        };
        std::string want = lf ? ToLf(signed_message) : signed_message;
        // Before </body> (two closing lines kept) and before </html> (one).
        for (const std::string& at : {std::string("</body>\r\n</html>\r\n"), std::string("</html>\r\n")}) {
          std::string text = html.substr(0, html.size() - at.size()) + footer + at;
          std::string edited = edited_with(text);
          const SignatureReport s = Check(edited).signatures.at(0);
          EXPECT_EQ(s.result, SigResult::kPartial) << s.reason;
          const PartReport* p = nullptr;
          for (const auto& x : s.parts)
            if (x.path == path) p = &x;
          ASSERT_NE(p, nullptr);
          EXPECT_EQ(test::Name(p->status), "inserted");
          EXPECT_EQ(p->appended, footer);
          EXPECT_EQ(p->inserted_before, at);
          ASSERT_TRUE(s.recovered) << s.not_recovered;
          EXPECT_EQ(Kinds(s), std::vector<EditKind>{EditKind::kTextInserted});
          auto restored = Restore(edited, 1);
          ASSERT_TRUE(restored.ok()) << restored.status().message();
          EXPECT_EQ(*restored, want);
        }
        // Not insertions: the signed text changed too, a closing line changed,
        // the text put between signed lines further up.
        std::string changed_middle = html;
        changed_middle.replace(changed_middle.find("fine"), 4, "poor");
        changed_middle = changed_middle.substr(0, changed_middle.size() - 17) + footer + "</body>\r\n</html>\r\n";
        std::string changed_closing = html.substr(0, html.size() - 17) + footer + "</body>\r\n</HTML>\r\n";
        std::string further_up = "<html><body>\r\n" + footer + html.substr(14);
        for (const std::string* text : {&changed_middle, &changed_closing, &further_up}) {
          const SignatureReport s = Check(edited_with(*text)).signatures.at(0);
          EXPECT_NE(s.result, SigResult::kPass);
          EXPECT_FALSE(s.recovered);
          for (const auto& x : s.parts)
            if (x.path == path) {
              EXPECT_EQ(test::Name(x.status), "changed") << *text;
            }
        }
      }
}

}  // namespace
}  // namespace mtas
