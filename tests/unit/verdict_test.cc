// The verdict's soundness (MTAS/1.1): no `pass` for anything a reader
// shows that was not signed. Each test covers a class of change, every
// member of it, not one example: fields absent at signing, rendering fields
// of parts, MIME structure hidden by relaxed folding, header lines readers
// split differently, limits, and the chain of hops.
#include <gtest/gtest.h>

#include "carrier/carrier.h"
#include "mtas/limits.h"
#include "mtas/report.h"
#include "test_util.h"

namespace mtas {
namespace {

using test::HeaderOf;
using test::Key;
using test::Opts;
using test::Replace;
using test::SignWith;
using test::VerifyWith;

const test::TestKey& Ed() { return Key("ed25519", "mx1.example.com"); }
const test::TestKey& Ec() { return Key("ecdsa-p256", "relay.example.org"); }

// A header with From, To, Subject, Date and Message-ID only: every other
// default field is absent at signing.
const std::string kSparseHeader =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: Quarterly numbers\r\n"
    "Date: Wed, 11 Mar 2026 16:00:00 +0100\r\n"
    "Message-ID: <q1@example.com>\r\n";

const std::string kPlain = kSparseHeader + "\r\nThe numbers are fine.\r\n";

const std::string kMultipart = kSparseHeader +
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: multipart/mixed; boundary=\"b one\"\r\n"
                               "\r\n"
                               "--b one\r\n"
                               "Content-Type: multipart/alternative; boundary=\"in ner\"\r\n"
                               "\r\n"
                               "--in ner\r\n"
                               "Content-Type: text/plain; charset=us-ascii\r\n"
                               "\r\n"
                               "Hello in text.\r\n"
                               "--in ner\r\n"
                               "Content-Type: text/html; charset=us-ascii\r\n"
                               "\r\n"
                               "<p>Hello in HTML.</p>\r\n"
                               "--in ner--\r\n"
                               "--b one\r\n"
                               "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                               "Content-Transfer-Encoding: base64\r\n"
                               "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                               "\r\n"
                               "AAECAwQFBgcICQ==\r\n"
                               "--b one--\r\n";

std::string Sign(const std::string& m, Carrier c = Carrier::kHeader) { return SignWith(Ed(), m, Opts(c)).message; }
VerifyReport Verify(const std::string& m) { return VerifyWith({&Ed(), &Ec()}, m); }

// Inserts `line` (CRLF added) just before the empty line ending the header.
std::string AddField(const std::string& m, const std::string& line) {
  size_t end = m.find("\r\n\r\n");
  return m.substr(0, end + 2) + line + "\r\n" + m.substr(end + 2);
}

const PartReport* PartAt(const SignatureReport& s, const std::string& path) {
  for (const auto& p : s.parts)
    if (p.path == path) return &p;
  return nullptr;
}

TEST(Verdict, ControlsPass) {
  for (Carrier c : {Carrier::kHeader, Carrier::kBody})
    for (const std::string* m : {&kPlain, &kMultipart}) {
      VerifyReport r = Verify(Sign(*m, c));
      ASSERT_EQ(r.signatures.size(), 1u);
      EXPECT_EQ(r.result, SigResult::kPass) << r.signatures[0].reason;
      EXPECT_EQ(r.signatures[0].profile, "MTAS/1.1");
    }
}

// Class: a field of the default list absent at signing, added anywhere.
TEST(Verdict, EveryDefaultFieldAddedAfterSigningIsAdded) {
  for (Carrier c : {Carrier::kHeader, Carrier::kBody}) {
    std::string signed_msg = Sign(kPlain, c);
    for (const std::string& name : DefaultSignedHeaders()) {
      if (EqualsIgnoreCase(name, "Content-Type") && c == Carrier::kBody) continue;  // the wrapper has one
      if (EqualsIgnoreCase(name, "MIME-Version") && c == Carrier::kBody) continue;
      size_t present = 0;
      for (std::string line : {"From:", "To:", "Subject:", "Date:", "Message-ID:"})
        present += EqualsIgnoreCase(name + ":", line);
      std::string value = name + ": added@attacker.example";
      for (bool on_top : {true, false}) {
        SCOPED_TRACE(name + (on_top ? " on top" : " at the bottom") + " carrier " + std::string(CarrierName(c)));
        std::string m = on_top ? value + "\r\n" + signed_msg : AddField(signed_msg, value);
        VerifyReport r = Verify(m);
        ASSERT_EQ(r.signatures.size(), 1u);
        const SignatureReport& s = r.signatures[0];
        EXPECT_NE(s.result, SigResult::kPass) << s.reason;
        const HeaderReport* h = HeaderOf(s, name);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->status, present ? HeaderStatus::kChanged : HeaderStatus::kAdded);
        if (!present) {
          EXPECT_EQ(h->current_value, value);
          EXPECT_NE(s.reason.find(name + " added"), std::string::npos) << s.reason;
        }
      }
    }
  }
}

// Class: rendering fields of the message or of a part, added or changed.
TEST(Verdict, RenderingFieldsAreSignedAtTheTopAndInEveryPart) {
  std::string plain = Sign(kPlain);
  for (std::string added : {"Content-Transfer-Encoding: base64", "Content-Disposition: attachment",
                            "Content-Type: text/html", "MIME-Version: 1.0"}) {
    VerifyReport r = Verify(AddField(plain, added));
    EXPECT_NE(r.result, SigResult::kPass) << added;
  }
  std::string multi = Sign(kMultipart);
  struct Edit {
    std::string from, to, path, field;
  };
  const std::vector<Edit> edits = {
      {"Content-Type: text/plain; charset=us-ascii\r\n", "Content-Type: text/plain; charset=utf-7\r\n", "1.1",
       "Content-Type"},
      {"Content-Type: text/plain; charset=us-ascii\r\n",
       "Content-Type: text/plain; charset=us-ascii\r\nContent-Disposition: attachment\r\n", "1.1",
       "Content-Disposition"},
      // An encoding under which the same bytes decode to others.
      {"Content-Type: text/html; charset=us-ascii\r\n",
       "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n", "1.2",
       "Content-Transfer-Encoding"},
      // An encoding readers do not know.
      {"Content-Type: text/html; charset=us-ascii\r\n",
       "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: x-uuencode\r\n", "1.2",
       "Content-Transfer-Encoding"},
      // Another field of the part header (what refers to it, what some show).
      {"Content-Type: text/html; charset=us-ascii\r\n",
       "Content-Type: text/html; charset=us-ascii\r\nContent-ID: <logo@attacker.example>\r\n", "1.2", "Content-ID"},
      {"filename=\"data.bin\"", "filename=\"invoice.pdf.exe\"", "2", "Content-Disposition"},
      {"Content-Disposition: attachment;", "Content-Disposition: inline;", "2", "Content-Disposition"},
      {"Content-Transfer-Encoding: base64\r\n", "", "2", "Content-Transfer-Encoding"},
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.to);
    VerifyReport r = Verify(Replace(multi, e.from, e.to));
    ASSERT_EQ(r.signatures.size(), 1u);
    const SignatureReport& s = r.signatures[0];
    EXPECT_NE(s.result, SigResult::kPass);
    const PartReport* p = PartAt(s, e.path);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(test::Name(p->status), "changed");
    bool named = false;
    for (const auto& c : p->changed_fields) named |= c.name == e.field;
    EXPECT_TRUE(named) << s.reason;
  }
}

// Class: structure that relaxed folding hides. White space inside a
// boundary, at the top (a header field) or in a nested part (in the body),
// together with the delimiter lines, so that the content digest under
// relaxed stays the same.
TEST(Verdict, BoundariesAreComparedExactly) {
  std::string multi = Sign(kMultipart);
  for (const std::string& boundary : {std::string("b one"), std::string("in ner")}) {
    SCOPED_TRACE(boundary);
    std::string spaced = boundary;
    spaced.insert(spaced.find(' '), " ");
    std::string m = multi;
    // Only the parameter: the delimiter lines stay, so readers find none.
    m = Replace(m, "boundary=\"" + boundary + "\"", "boundary=\"" + spaced + "\"");
    VerifyReport r = Verify(m);
    EXPECT_NE(r.result, SigResult::kPass) << r.signatures[0].reason;
    // The parameter and every delimiter line: readers see the same tree,
    // but the exact values differ from the signed ones.
    for (size_t at = m.find("--" + boundary); at != std::string::npos; at = m.find("--" + boundary, at))
      m.replace(at, boundary.size() + 2, "--" + spaced);
    r = Verify(m);
    EXPECT_NE(r.result, SigResult::kPass) << r.signatures[0].reason;
  }
}

// Quoted-printable as an MTA writes it when it downgrades 8bit: escapes for
// 8-bit bytes and '=', hard line breaks kept, soft breaks past 72 columns.
std::string QuotedPrintable(const std::string& text) {
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      col = 0;
      ++i;
      continue;
    }
    char buf[4];
    std::snprintf(buf, sizeof buf, "=%02X", c);
    std::string tok = (c >= 33 && c <= 126 && c != '=') || c == ' ' ? std::string(1, static_cast<char>(c)) : buf;
    if (col + tok.size() > 72) {
      out += "=\r\n";
      col = 0;
    }
    out += tok;
    col += tok.size();
  }
  return out;
}

// A transfer encoding changed in transit is no change a reader sees: the
// verdict stays pass and names the re-encoding. A guess while decoding, or
// content that decodes differently, is never passed.
TEST(Verdict, TransportReencodingStillPasses) {
  const std::string body = "Gr\xc3\xbc\xc3\x9f aus M\xc3\xbcnchen = gut.\r\nZweite Zeile.\r\n";
  const std::string eight = kSparseHeader +
                            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n\r\n" +
                            body;
  std::string signed_msg = Sign(eight);
  std::string qp =
      Replace(signed_msg, "Content-Transfer-Encoding: 8bit", "Content-Transfer-Encoding: quoted-printable");
  qp = Replace(qp, body, QuotedPrintable(body));
  VerifyReport r = Verify(qp);
  ASSERT_EQ(r.signatures.size(), 1u);
  const SignatureReport& s = r.signatures[0];
  EXPECT_EQ(s.result, SigResult::kPass) << s.reason;
  EXPECT_FALSE(s.content_intact);
  ASSERT_EQ(s.parts.size(), 1u);
  EXPECT_EQ(test::Name(s.parts[0].status), "re-encoded");
  EXPECT_EQ(s.parts[0].reencoded, "8bit->quoted-printable");
  bool noted = false;
  for (const auto& n : s.notes) noted |= n == "re-encoded: part 1 8bit->quoted-printable";
  EXPECT_TRUE(noted);

  // Base64 in a multipart: re-wrapped at another line length, and as
  // quoted-printable.
  std::string multi = Sign(kMultipart);
  for (const std::string& to : {std::string("Content-Transfer-Encoding: base64\r\n"
                                            "Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n"
                                            "AAECAwQF\r\nBgcICQ==\r\n"),
                                std::string("Content-Transfer-Encoding: quoted-printable\r\n"
                                            "Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n"
                                            "=00=01=02=03=04=05=06=07=08=09\r\n")}) {
    SCOPED_TRACE(to);
    std::string m = Replace(multi,
                            "Content-Transfer-Encoding: base64\r\n"
                            "Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n"
                            "AAECAwQFBgcICQ==\r\n",
                            to);
    VerifyReport v = Verify(m);
    EXPECT_EQ(v.result, SigResult::kPass) << v.signatures[0].reason;
  }
  // Not passed: a decode that had to guess, content that reads otherwise,
  // empty lines added at the end of a text part.
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"AAECAwQFBgcICQ==", "AAECAwQF!BgcICQ=="},
                                                        {"AAECAwQFBgcICQ==", "AAECAwQFBgcICQ"},
                                                        {"AAECAwQFBgcICQ==", "AAECAwQFBgcICQ==AAAA"},
                                                        {"Hello in text.\r\n", "Hello in text.\r\n\r\n\r\n"},
                                                        {"Hello in text.", "Hello in text!"}}) {
    SCOPED_TRACE(to);
    VerifyReport v = Verify(Replace(multi, from, to));
    EXPECT_NE(v.result, SigResult::kPass);
  }
  // Parameters re-quoted, their names in other case, reordered, or split
  // into RFC 2231 continuations: the same statement to every reader.
  std::string requoted =
      Replace(multi, "Content-Type: text/plain; charset=us-ascii", "Content-Type: text/plain; CHARSET=\"us-ascii\"");
  requoted = Replace(requoted, "Content-Disposition: attachment; filename=\"data.bin\"",
                     "Content-Disposition: attachment; filename*0=\"da\"; filename*1=ta.bin");
  requoted = Replace(requoted, "Content-Type: multipart/mixed; boundary=\"b one\"",
                     "Content-Type: Multipart/Mixed;\r\n Boundary=\"b one\"");
  VerifyReport same = Verify(requoted);
  EXPECT_EQ(same.result, SigResult::kPass) << same.signatures[0].reason;
  // QP that decodes to the same bytes only by guessing (a lowercase escape).
  std::string lower = Replace(qp, "=C3=BC", "=c3=bc");
  EXPECT_NE(Verify(lower).result, SigResult::kPass);
}

// A list footer appended to a text part: the original is intact, so the
// report says "appended" with the added text, not "changed" or "fail".
TEST(Verdict, AppendedTextIsShownExactly) {
  const std::string footer = "-- \r\nops-list mailing list\r\nhttps://lists.example.org/ops\r\n";
  for (Carrier c : {Carrier::kHeader, Carrier::kBody}) {
    SCOPED_TRACE(std::string(CarrierName(c)));
    // A single-part body: all of it was part 1.
    std::string plain = Sign(kPlain, c);
    std::string m = Replace(plain, "The numbers are fine.\r\n", "The numbers are fine.\r\n" + footer);
    VerifyReport r = Verify(m);
    ASSERT_EQ(r.signatures.size(), 1u);
    const SignatureReport& s = r.signatures[0];
    EXPECT_EQ(s.result, SigResult::kPartial) << s.reason;
    ASSERT_EQ(s.parts.size(), 1u);
    EXPECT_EQ(test::Name(s.parts[0].status), "appended");
    EXPECT_EQ(s.parts[0].appended, footer);
    EXPECT_EQ(s.parts[0].appended_length, footer.size());
    EXPECT_NE(s.reason.find("appended"), std::string::npos) << s.reason;
    EXPECT_NE(ReportText(r).find("appended " + std::to_string(footer.size()) + " bytes: \"-- \\nops-list"),
              std::string::npos)
        << ReportText(r);
  }
  // A text part of a multipart; the other parts stay same.
  std::string multi = Sign(kMultipart);
  VerifyReport r = Verify(Replace(multi, "Hello in text.\r\n", "Hello in text.\r\n" + footer));
  const SignatureReport& s = r.signatures[0];
  EXPECT_EQ(s.result, SigResult::kPartial);
  const PartReport* p = PartAt(s, "1.1");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(test::Name(p->status), "appended");
  EXPECT_EQ(p->appended, footer);
  EXPECT_EQ(test::Name(PartAt(s, "1.2")->status), "same");
  // Text changed before the end is no append.
  VerifyReport changed = Verify(Replace(multi, "Hello in text.\r\n", "Hello in TEXT.\r\n" + footer));
  EXPECT_EQ(test::Name(PartAt(changed.signatures[0], "1.1")->status), "changed");
  EXPECT_TRUE(PartAt(changed.signatures[0], "1.1")->appended.empty());
}

// A list that wraps the signed original in a message/rfc822 part (Mailman's
// DMARC "wrap message"): the original is verified as a message of its own.
TEST(Verdict, AWrappedOriginalIsVerifiedInside) {
  std::string original = Sign(kMultipart);
  auto wrap = [](const std::string& inner) {
    return "From: ops-list via lists <list@lists.example.org>\r\nTo: bob@example.net\r\n"
           "Subject: Quarterly numbers\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"wrap\"\r\n\r\n"
           "--wrap\r\nContent-Type: text/plain\r\n\r\nA message from alice@example.com.\r\n"
           "--wrap\r\nContent-Type: message/rfc822\r\n\r\n" +
           inner + "\r\n--wrap--\r\n";
  };
  const test::TestKey& list = Key("ed25519", "lists.example.org");
  std::string wrapped = SignWith(list, wrap(original), Opts(Carrier::kHeader)).message;
  VerifyReport r = VerifyWith({&Ed(), &list}, wrapped);
  ASSERT_EQ(r.signatures.size(), 1u);
  EXPECT_EQ(r.signatures[0].signer, "lists.example.org");
  EXPECT_EQ(r.result, SigResult::kPass);
  ASSERT_EQ(r.wrapped.size(), 1u);
  EXPECT_EQ(r.wrapped[0].path, "2");
  ASSERT_EQ(r.wrapped[0].report.signatures.size(), 1u);
  EXPECT_EQ(r.wrapped[0].report.signatures[0].signer, "mx1.example.com");
  EXPECT_EQ(r.wrapped[0].report.result, SigResult::kPass) << r.wrapped[0].report.signatures[0].reason;
  EXPECT_NE(ReportText(r).find("message wrapped in part 2 (wrapped by lists.example.org), inner message: pass"),
            std::string::npos)
      << ReportText(r);
  EXPECT_NE(ReportJson(r).find("\"wrapped\": [{\"path\": \"2\""), std::string::npos);
  // Unsigned wrapper, inner message changed: found, and not a pass.
  VerifyReport changed = Verify(wrap(Replace(original, "Hello in text.", "Hello in TEXT.")));
  EXPECT_EQ(changed.result, SigResult::kNone);
  ASSERT_EQ(changed.wrapped.size(), 1u);
  EXPECT_EQ(changed.wrapped[0].report.result, SigResult::kPartial);
}

// A Subject or a From display name re-encoded as another, equivalent RFC
// 2047 encoding shows the same text: no change. Different text is.
TEST(Verdict, EquivalentEncodedWordsAreTheSame) {
  const std::string header =
      "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.com>\r\n"
      "To: bob@example.net\r\n"
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=\r\n"
      "Date: Wed, 11 Mar 2026 16:00:00 +0100\r\n"
      "Message-ID: <e1@example.com>\r\n\r\nHallo.\r\n";
  std::string signed_msg = Sign(header);
  ASSERT_EQ(Verify(signed_msg).result, SigResult::kPass);
  const std::vector<std::pair<std::string, std::string>> same = {
      // Q as B, as Python's email package writes it.
      {"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.com>",
       "From: =?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <joerg@example.com>"},
      // One word for all, another charset for the same text.
      {"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
       "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_M=FCnchen?="},
      // Split in two words (the space between them is not shown) and refolded.
      {"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
       "Subject: =?utf-8?q?Gr=C3=BC?=\r\n =?utf-8?q?=C3=9Fe_aus_M=C3=BCnchen?="},
  };
  for (const auto& [from, to] : same) {
    SCOPED_TRACE(to);
    VerifyReport r = Verify(Replace(signed_msg, from, to));
    EXPECT_EQ(r.result, SigResult::kPass) << r.signatures[0].reason;
  }
  const std::vector<std::pair<std::string, std::string>> changed = {
      {"From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.com>",
       "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller_(CEO)?= <joerg@example.com>"},
      {"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
       "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_Berlin?="},
      // Looks like a word, is not a strict one (lowercase hex): readers differ.
      {"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
       "Subject: =?utf-8?q?Gr=c3=bc=c3=9fe?= aus =?iso-8859-1?q?M=FCnchen?="},
      // An unknown charset.
      {"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
       "Subject: =?x-unknown?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?="},
  };
  for (const auto& [from, to] : changed) {
    SCOPED_TRACE(to);
    VerifyReport r = Verify(Replace(signed_msg, from, to));
    EXPECT_NE(r.result, SigResult::kPass);
  }
  // A group's name is shown too: a renamed group is a change.
  std::string grouped = Sign(Replace(header, "To: bob@example.net", "To: Auditors: bob@example.net;"));
  EXPECT_EQ(Verify(grouped).result, SigResult::kPass);
  EXPECT_NE(Verify(Replace(grouped, "To: Auditors:", "To: Your bank:")).result, SigResult::kPass);
  // The decoder itself.
  EXPECT_EQ(*DecodeUnstructured(" =?utf-8?B?w7w=?= =?utf-8?Q?_x?= y "), " \xc3\xbc x y ");
  EXPECT_FALSE(DecodeUnstructured("=?utf-8?q?a b?=").has_value());
  EXPECT_FALSE(DecodeUnstructured("x=?utf-8?q?a?=").has_value());
  EXPECT_FALSE(DecodeUnstructured("=?utf-8?b?w7w?=").has_value());     // bad padding
  EXPECT_FALSE(DecodeUnstructured("=?utf-8?q?=FF?=").has_value());     // not UTF-8
  EXPECT_FALSE(DecodeUnstructured("=?us-ascii?q?=E9?=").has_value());  // not ASCII
  EXPECT_EQ(*DecodeUnstructured("plain\r\n text"), "plain text");
}

// A signer signs the hops below it in order, so it refuses a message whose
// hops it cannot place: an unreadable tracking header, or a carrier that no
// tracking header names.
TEST(Verdict, HopsThatCannotBePlacedAreNotSignedAfter) {
  std::string signed_msg = Sign(kPlain);
  size_t tracking = signed_msg.find("X-PostalTracking:");
  size_t end = signed_msg.find("\r\n", tracking) + 2;
  auto signer = test::SignerFor(Ec());
  for (const std::string& m :
       {signed_msg.substr(0, tracking) + signed_msg.substr(end),  // the tracking header stripped
        Replace(signed_msg, "X-PostalTracking: MTAS/1.0 msgid=", "X-PostalTracking: MTAS/1.0 msgid=#")}) {
    MemorySource src(m);
    auto edits = SignMessage(*signer, src);
    ASSERT_FALSE(edits.ok());
    EXPECT_NE(edits.status().message().find("cannot be signed in order"), std::string::npos);
  }
  // The stripped message still verifies: its carrier is found and placed.
  VerifyReport r = Verify(signed_msg.substr(0, tracking) + signed_msg.substr(end));
  EXPECT_EQ(r.result, SigResult::kPass);
}

// Class: header lines readers split where this scanner would not.
TEST(Verdict, HeaderLinesReadersSplitDifferentlyArePermerror) {
  std::string signed_msg = Sign(kPlain);
  const std::vector<std::string> injections = {
      "X-Note: hi\rFrom: evil@attacker.example",    // bare CR
      "X-Note: hi\r\rFrom: evil@attacker.example",  // two
      std::string("X-Note: hi\0From: evil@attacker.example", 38),
      "From : evil@attacker.example",                    // obs-hdr white space before the colon
      "X-Note: hi\r\n \r\nFrom: evil@attacker.example",  // a line of only white space
      "not a field\r\nFrom: evil@attacker.example",      // a line without a colon
  };
  for (const auto& inj : injections) {
    SCOPED_TRACE(inj);
    for (bool on_top : {true, false}) {
      std::string m = on_top ? inj + "\r\n" + signed_msg : AddField(signed_msg, inj);
      VerifyReport r = Verify(m);
      // On top, a line that ends the header hides the signature: none.
      EXPECT_NE(r.result, SigResult::kPass);
      for (const auto& s : r.signatures) EXPECT_EQ(s.result, SigResult::kPermError) << s.reason;
    }
  }
  // Nor is such a header signed.
  auto signer = test::SignerFor(Ed());
  for (const auto& inj : injections) {
    std::string m = AddField(kPlain, inj);
    MemorySource src(m);  // holds a view: the message must outlive it
    EXPECT_FALSE(SignMessage(*signer, src).ok()) << inj;
  }
}

// Class: a bare CR in the MIME tree where readers that split there find a
// part header field or a delimiter.
TEST(Verdict, BareCrInTheMimeTreeIsPermerror) {
  std::string multi = Sign(kMultipart);
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"Content-Type: text/plain; charset=us-ascii\r\n",
       "Content-Type: text/plain; charset=us-ascii\rContent-Transfer-Encoding: base64\r\n"},
      {"Hello in text.\r\n", "Hello in text.\r--in ner\r\n"},
  };
  for (const auto& [from, to] : edits) {
    VerifyReport r = Verify(Replace(multi, from, to));
    ASSERT_EQ(r.signatures.size(), 1u);
    EXPECT_EQ(r.signatures[0].result, SigResult::kPermError) << r.signatures[0].reason;
  }
}

// Class: MIME fields readers resolve differently (the first or the last
// instance, the first or the last of a repeated parameter).
TEST(Verdict, RepeatedMimeFieldsAndParametersArePermerror) {
  std::string multi = Sign(kMultipart);
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"},
      {"boundary=\"b one\"", "boundary=\"b one\"; boundary=\"in ner\""},
      {"Content-Transfer-Encoding: base64\r\n",
       "Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 7bit\r\n"},
      {"Content-Disposition: attachment; filename=\"data.bin\"",
       "Content-Disposition: attachment; filename=\"data.bin\"; filename=\"run.exe\""},
      {"Content-Type: text/html; charset=us-ascii\r\n",
       "Content-Type: text/html; charset=us-ascii\r\nContent-Type: text/plain\r\n"},
  };
  auto signer = test::SignerFor(Ed());
  for (const auto& [from, to] : edits) {
    SCOPED_TRACE(to);
    VerifyReport r = Verify(Replace(multi, from, to));
    ASSERT_EQ(r.signatures.size(), 1u);
    EXPECT_EQ(r.signatures[0].result, SigResult::kPermError) << r.signatures[0].reason;
    std::string m = Replace(kMultipart, from, to);
    MemorySource src(m);  // holds a view: the message must outlive it
    EXPECT_FALSE(SignMessage(*signer, src).ok());
  }
}

// Class: limits that would leave what readers show unchecked.
TEST(Verdict, AHeaderOverTheIndexLimitIsPermerror) {
  std::string signed_msg = Sign(kPlain);
  std::string filler;
  for (size_t i = 0; i <= limits::kMaxHeaderFields; ++i) filler += "X-F: " + std::to_string(i) + "\r\n";
  // Above the signature the limit hides it (none); below, it is found and
  // cannot vouch for the fields past the limit.
  for (const std::string& m : {filler + signed_msg, AddField(signed_msg, filler.substr(0, filler.size() - 2))}) {
    VerifyReport r = Verify(m);
    EXPECT_NE(r.result, SigResult::kPass);
    for (const auto& s : r.signatures) EXPECT_EQ(s.result, SigResult::kPermError) << s.reason;
  }
  VerifyReport below = Verify(AddField(signed_msg, filler.substr(0, filler.size() - 2)));
  ASSERT_EQ(below.signatures.size(), 1u);
}

TEST(Verdict, PostalDataEntitiesAreBoundedAndTheExcessIsPermerror) {
  std::string signed_msg = Sign(kMultipart, Carrier::kBody);
  std::string entity =
      "Content-Type: multipart/x-postal-data; boundary=\"e\"; msgid=\"X\"\r\n\r\n--e\r\nContent-Type: "
      "text/plain\r\n\r\nx\r\n--e--\r\n";
  std::string m = signed_msg;
  for (int i = 0; i < 5000; ++i) m += entity;
  VerifyReport r = Verify(m);
  EXPECT_NE(r.result, SigResult::kPass);
  // The index holds at most the bound, whatever the count.
  HeaderScanner hs;
  size_t used = hs.Write(m.data(), m.size());
  BodyScanner::Options opt = BodyOptionsFor(hs.fields());
  opt.content_specs = {{Canon::kRelaxed, DigestAlg::kSha256}};
  BodyScanner body(opt);
  body.Write(m.data() + used, m.size() - used);
  BodyIndex index = body.Finish();
  EXPECT_LE(index.entities.size(), 2 * limits::kMaxSignatures);
  EXPECT_FALSE(index.limit_hit.empty());
}

// Class: hops below a signature removed, reordered or inserted.
TEST(Verdict, TheChainOfHopsBelowIsSigned) {
  std::string h1 = SignWith(Ed(), kMultipart, Opts(Carrier::kHeader)).message;
  std::string h2 = SignWith(Ec(), h1, Opts(Carrier::kHeader)).message;
  std::string h3 = SignWith(Ed(), h2, Opts(Carrier::kHeader)).message;
  VerifyReport r0 = Verify(h3);
  ASSERT_EQ(r0.signatures.size(), 3u);
  EXPECT_EQ(r0.result, SigResult::kPass);
  std::vector<std::string> ids;
  for (const auto& s : r0.signatures) ids.push_back(s.msgid);
  EXPECT_EQ(r0.signatures[2].signed_previous_hops, (std::vector<std::string>{ids[0], ids[1]}));

  // The header fields of one hop: its tracking field and its signature.
  auto hop_fields = [](const std::string& m, const std::string& id) {
    std::string out, rest = m.substr(0, m.find("\r\n\r\n") + 2);
    for (size_t at = 0; at < rest.size();) {
      size_t end = at;
      do end = rest.find("\r\n", end) + 2;
      while (end < rest.size() && (rest[end] == ' ' || rest[end] == '\t'));
      std::string field = rest.substr(at, end - at);
      if (field.find(id) != std::string::npos) out += field;
      at = end;
    }
    return out;
  };
  auto without = [](std::string m, const std::string& fields) {
    size_t at = 0;
    for (size_t start = 0; start < fields.size();) {
      size_t end = fields.find("\r\n", start) + 2;
      while (end < fields.size() && (fields[end] == ' ' || fields[end] == '\t')) end = fields.find("\r\n", end) + 2;
      std::string f = fields.substr(start, end - start);
      at = m.find(f);
      m.erase(at, f.size());
      start = end;
    }
    return m;
  };
  std::string hop1 = hop_fields(h3, ids[0]), hop2 = hop_fields(h3, ids[1]);
  ASSERT_FALSE(hop1.empty());
  ASSERT_FALSE(hop2.empty());

  // Removed: hop 1 gone; the last hop now sits on one hop only.
  VerifyReport removed = Verify(without(h3, hop1));
  ASSERT_EQ(removed.signatures.size(), 2u);
  EXPECT_FALSE(removed.signatures[1].hop_chain_intact);
  EXPECT_EQ(removed.signatures[1].result, SigResult::kPartial);
  EXPECT_NE(removed.signatures[1].reason.find("hops before"), std::string::npos);

  // Reordered: hop 1's fields moved above hop 2's.
  std::string reordered = without(h3, hop1);
  size_t at2 = reordered.find(hop2.substr(0, 20));
  reordered.insert(at2, hop1);
  VerifyReport r = Verify(reordered);
  ASSERT_EQ(r.signatures.size(), 3u);
  for (const auto& s : r.signatures)
    if (s.msgid == ids[2] || s.msgid == ids[0]) {
      EXPECT_NE(s.result, SigResult::kPass) << s.hop << s.reason;
    }

  // Inserted: another message's hop put at the bottom.
  std::string other = SignWith(Ec(), kPlain, Opts(Carrier::kHeader)).message;
  std::string foreign = other.substr(0, other.find("From: "));
  size_t bottom = h3.find("From: ");
  std::string inserted = h3.substr(0, bottom) + foreign + h3.substr(bottom);
  r = Verify(inserted);
  for (const auto& s : r.signatures)
    if (s.msgid == ids[1] || s.msgid == ids[2]) {
      EXPECT_FALSE(s.hop_chain_intact) << s.hop;
    }
}

}  // namespace
}  // namespace mtas
