// The trace as one self-contained HTML page: a header, an SVG of the path,
// the table of hops, what changed after each and the notes. No scripts, no
// external resources; everything taken from the message is escaped.
#include <algorithm>
#include <ctime>
#include <string_view>
#include <utility>

#include "common/ascii.h"
#include "mtas/trace.h"
#include "report/hop_names.h"

namespace mtas {
namespace {

// Message text is untrusted: the five markup characters become references,
// control characters U+FFFD.
std::string HtmlEscape(std::string_view s) {
  static constexpr std::string_view kSpecial = "&<>\"'";
  static constexpr const char* kReference[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
  std::string out;
  for (unsigned char c : AsBytes(s)) {
    if (size_t i = kSpecial.find(static_cast<char>(c)); i != std::string_view::npos) {
      out += kReference[i];
    } else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
      out += "\xEF\xBF\xBD";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// At most `n` bytes, cut on a UTF-8 character boundary, "…" when cut.
std::string Shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && Continuation(s[n])) --n;
  return s.substr(0, n) + "\xE2\x80\xA6";
}

// "Name: value\r\n folded" -> "value folded".
std::string FieldValue(const std::string& field) {
  std::string out;
  size_t colon = field.find(':');
  for (char c : field.substr(colon == std::string::npos ? 0 : colon + 1)) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    if (c != ' ' || (!out.empty() && out.back() != ' ')) out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The colour group of a result: pass, partial, fail (fail, permerror) or other.
const char* Tone(SigResult r) {
  if (r == SigResult::kPass || r == SigResult::kPartial) return r == SigResult::kPass ? "pass" : "partial";
  return r == SigResult::kFail || r == SigResult::kPermError ? "fail" : "other";
}

std::string Badge(SigResult r) {
  return "<span class=\"badge tone-" + std::string(Tone(r)) + "\">" + std::string(ResultName(r)) + "</span>";
}

std::string Utc(const std::optional<std::time_t>& t) {
  if (!t) return "-";
  char buf[32];
  std::tm tm{};
  gmtime_r(&*t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string HopLabel(const SignatureReport& s) { return s.hop ? std::to_string(s.hop) : "?"; }

bool HasChanges(const SignatureReport& s) {
  return !s.added_parts.empty() || std::any_of(s.headers.begin(), s.headers.end(), [](const HeaderReport& h) {
    return h.status != HeaderStatus::kSame;
  }) || std::any_of(s.parts.begin(), s.parts.end(), [](const PartReport& p) { return p.status != PartStatus::kSame; });
}

// Signed and current values with what differs between them marked: the
// common prefix and suffix stay plain, the middle is <del> / <ins>.
std::pair<std::string, std::string> Diff(const std::string& a, const std::string& b) {
  size_t pre = 0, suf = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  while (pre > 0 && pre < a.size() && Continuation(a[pre])) --pre;
  while (pre > 0 && pre < b.size() && Continuation(b[pre])) --pre;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  while (suf > 0 && Continuation(a[a.size() - suf])) --suf;
  auto mark = [&](const std::string& s, const char* tag) {
    std::string mid = s.substr(pre, s.size() - pre - suf);
    return HtmlEscape(s.substr(0, pre)) +
           (mid.empty() ? "" : "<" + std::string(tag) + ">" + HtmlEscape(mid) + "</" + tag + ">") +
           HtmlEscape(s.substr(s.size() - suf));
  };
  return {mark(a, "del"), mark(b, "ins")};
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,"DejaVu Sans",sans-serif;color:#212121;margin:0;background:#fafafa}
main{max-width:1160px;margin:0 auto;padding:20px 24px 32px}h1{font-size:20px;margin:0 0 12px}
h2{font-size:16px;margin:28px 0 10px}h3{font-size:14px;margin:18px 0 6px}
.summary,.diagram{background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:12px 16px}
.summary{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}.diagram{overflow-x:auto}
.summary dt{color:#616161}.summary dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.tone-pass{background:#2e7d32}.tone-partial{background:#f9a825;color:#212121}.tone-fail{background:#c62828}
.tone-other{background:#757575}svg text{font-family:inherit;text-anchor:middle}
.hop rect{fill:#757575}.hop text{fill:#fff}.hop-pass rect{fill:#2e7d32}.hop-partial rect{fill:#f9a825}
.hop-partial text{fill:#212121}.hop-fail rect,.hop-permerror rect{fill:#c62828}
.hop .n{font-weight:700;font-size:14px}.hop .s{font-size:12px}.hop .r{font-size:11px;font-style:italic}
.received rect{fill:#eee;stroke:#9e9e9e}.received text{fill:#424242;font-size:11px}.link{stroke:#9e9e9e;stroke-width:2}
table{border-collapse:collapse;width:100%;margin-top:8px;background:#fff;border:1px solid #e0e0e0}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #eee}
th{background:#f5f5f5;font-weight:600;white-space:nowrap}td{overflow-wrap:break-word}
.badge,.nowrap{white-space:nowrap}.hops td:nth-child(8){min-width:170px}table.parts{width:auto;min-width:40%}
.hops td:last-child{overflow-wrap:anywhere;font-size:12.5px;width:26%}.hops td div+div{margin-top:6px}
.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}del{background:#ffebee;color:#b71c1c}
ins{background:#e8f5e9;color:#1b5e20;text-decoration:none}ul{margin:6px 0;padding-left:22px}.muted{color:#757575}
footer{margin-top:28px;color:#9e9e9e;font-size:12px}
)";

constexpr const char* kArrow =
    "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
    "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#9e9e9e\"/></marker></defs>\n";

// The path left to right: hops as large coloured nodes, Received fields as small grey ones.
std::string Diagram(const Trace& t) {
  constexpr int kHopW = 170, kHopH = 74, kRecW = 134, kRecH = 46, kGap = 40, kPad = 12, kH = kHopH + 2 * kPad;
  std::string nodes, links;
  int x = kPad, mid = kH / 2;
  for (size_t i = 0; i < t.path.size(); ++i) {
    if (i)
      links += "<line class=\"link\" x1=\"" + std::to_string(x - kGap) + "\" y1=\"" + std::to_string(mid) + "\" x2=\"" +
               std::to_string(x - 4) + "\" y2=\"" + std::to_string(mid) + "\" marker-end=\"url(#arrow)\"/>\n";
    const Trace::Step& step = t.path[i];
    auto text = [&](int w, int dy, const char* cls, const std::string& s) {
      return "<text class=\"" + std::string(cls) + "\" x=\"" + std::to_string(x + w / 2) + "\" y=\"" +
             std::to_string(mid + dy) + "\">" + HtmlEscape(s) + "</text>";
    };
    if (step.kind == Trace::Step::Kind::kReceived) {
      const TraceReceived& r = t.received[step.index];
      nodes += "<g class=\"received\"><title>" + HtmlEscape("Received: " + r.raw) + "</title><rect x=\"" +
               std::to_string(x) + "\" y=\"" + std::to_string(mid - kRecH / 2) + "\" width=\"" + std::to_string(kRecW) +
               "\" height=\"" + std::to_string(kRecH) + "\" rx=\"6\"/>" +
               text(kRecW, -4, "t", "Received R" + std::to_string(r.position)) +
               text(kRecW, 12, "t", Shorten("by " + (r.by.empty() ? "?" : r.by), 22)) + "</g>\n";
      x += kRecW + kGap;
      continue;
    }
    const SignatureReport& s = t.hops[step.index].sig;
    std::string id = s.hop ? std::to_string(s.hop) : "untracked-" + std::to_string(step.index);
    std::string result(ResultName(s.result));
    nodes += "<g class=\"hop hop-" + result + "\" id=\"hop-" + id + "\"><title>" +
             HtmlEscape("Hop " + HopLabel(s) + ": " + s.signer + " (" + result + ")") + "</title><rect x=\"" +
             std::to_string(x) + "\" y=\"" + std::to_string(mid - kHopH / 2) + "\" width=\"" + std::to_string(kHopW) +
             "\" height=\"" + std::to_string(kHopH) + "\" rx=\"12\"/>" + text(kHopW, -14, "n", "Hop " + HopLabel(s)) +
             text(kHopW, 4, "s", Shorten(s.signer.empty() ? "(unknown signer)" : s.signer, 24)) +
             text(kHopW, 22, "r", result) + "</g>\n";
    x += kHopW + kGap;
  }
  std::string w = std::to_string(std::max(x - kGap + kPad, 2 * kPad)), h = std::to_string(kH);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"the path\" viewBox=\"0 0 " + w + " " + h +
         "\" width=\"" + w + "\" height=\"" + h + "\" style=\"max-width:100%;height:auto\">\n" + kArrow + links +
         nodes + "</svg>";
}

std::string HopNotes(const SignatureReport& s) {
  std::vector<std::string> notes = s.notes;
  for (std::string_view vi = s.verification_info; !vi.empty();) {  // one line per earlier hop verified
    size_t nl = vi.find('\n');
    notes.push_back("verified: " + std::string(vi.substr(0, nl)));
    vi = nl == std::string_view::npos ? "" : vi.substr(nl + 1);
  }
  if (!s.wrapped.empty()) notes.push_back("wrapped the body (was " + s.wrapped + ")");
  if (s.received_intact && !*s.received_intact) notes.push_back("Received fields changed since it signed");
  if (s.unsigned_trailing_bytes)
    notes.push_back(std::to_string(s.unsigned_trailing_bytes) + " bytes after the signatures are unsigned");
  if (s.too_old) notes.push_back("older than the configured maximum age");
  std::string out;
  for (const auto& n : notes) out += "<div>" + HtmlEscape(n) + "</div>";
  return out;
}

std::string Changes(const SignatureReport& s) {
  std::string out = "<h3>Hop " + HopLabel(s) + " &mdash; " + HtmlEscape(s.signer) + " " + Badge(s.result) + "</h3>\n";
  std::string rows;
  for (const auto& h : s.headers) {
    if (h.status == HeaderStatus::kSame) continue;
    auto [was, now] = Diff(FieldValue(h.signed_value), FieldValue(h.current_value));
    if (h.current_value.empty()) now = "<span class=\"muted\">(absent)</span>";
    rows += "<tr><td>" + HtmlEscape(h.name) + "</td><td>" + HtmlEscape(HeaderStatusName(h.status)) +
            (h.added_above ? " (another instance added above)" : "") + "</td><td class=\"mono\">" + was +
            "</td><td class=\"mono\">" + now + "</td></tr>\n";
  }
  if (!rows.empty())
    out += "<table class=\"headers\"><tr><th>header</th><th>status</th><th>signed</th><th>now</th></tr>\n" + rows +
           "</table>\n";
  rows.clear();
  for (const auto& p : s.parts)
    if (p.status != PartStatus::kSame)
      rows += "<tr><td>" + HtmlEscape(p.path) + "</td><td>" + HtmlEscape(p.content_type) + "</td><td>" +
              HtmlEscape(PartStatusName(p.status)) + (p.now_at.empty() ? "" : " to " + HtmlEscape(p.now_at)) +
              "</td></tr>\n";
  for (const auto& p : s.added_parts)
    rows += "<tr><td>" + HtmlEscape(p.path) + "</td><td>" + HtmlEscape(p.content_type) + "</td><td>added</td></tr>\n";
  if (!rows.empty())
    out += "<table class=\"parts\"><tr><th>part</th><th>type</th><th>status</th></tr>\n" + rows + "</table>\n";
  return out;
}

}  // namespace

std::string TraceHtml(const Trace& t) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>MTAS trace: " +
      HtmlEscape(t.subject) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  out += "<h1>Chain of custody</h1>\n<dl class=\"summary\">\n<dt>Subject</dt><dd>" + HtmlEscape(t.subject) +
         "</dd>\n<dt>From</dt><dd>" + HtmlEscape(t.from) + "</dd>\n";
  if (!t.message_id.empty()) out += "<dt>Message-ID</dt><dd class=\"mono\">" + HtmlEscape(t.message_id) + "</dd>\n";
  out += "<dt>Result</dt><dd>" + Badge(t.result) + "</dd>\n";
  if (t.decision) {
    const PolicyDecision& d = *t.decision;
    out += "<dt>Policy</dt><dd><strong>" + HtmlEscape(ActionName(d.action)) +
           "</strong> under mtas=" + HtmlEscape(PolicyName(d.applied)) + " &mdash; " + HtmlEscape(d.reason) +
           (d.smtp_reply.empty() ? "" : " <span class=\"mono\">(" + HtmlEscape(d.smtp_reply) + ")</span>") + "</dd>\n";
  }
  out += "</dl>\n<h2>Path</h2>\n<div class=\"diagram\">\n" + Diagram(t) + "\n</div>\n";

  out +=
      "<h2>Hops</h2>\n<table class=\"hops\">\n<tr><th>hop</th><th>signer</th><th>signing time (UTC)</th>"
      "<th>algorithm</th><th>carrier</th><th>key</th><th>result</th><th>reason</th><th>notes</th></tr>\n";
  for (const auto& step : t.path) {
    if (step.kind != Trace::Step::Kind::kHop) continue;
    const SignatureReport& s = t.hops[step.index].sig;
    std::string key = s.key_method.empty() ? "-" : KeyText(s);
    out += "<tr><td>" + HopLabel(s) + "</td><td>" + HtmlEscape(s.signer) + "</td><td class=\"nowrap\">" +
           Utc(s.signing_time) + "</td><td class=\"nowrap\">" +
           HtmlEscape(s.algorithm == KeyAlgorithm::kUnknown ? "-" : AlgorithmText(s)) + "</td><td>" +
           HtmlEscape(CarrierText(s)) + "</td><td>" + HtmlEscape(key) + "</td><td>" + Badge(s.result) + "</td><td>" +
           HtmlEscape(s.reason) + "</td><td>" + HopNotes(s) + "</td></tr>\n";
  }
  out += "</table>\n";

  std::string changes;
  for (const auto& step : t.path)
    if (step.kind == Trace::Step::Kind::kHop && HasChanges(t.hops[step.index].sig))
      changes += Changes(t.hops[step.index].sig);
  out += "<h2>Changes after signing</h2>\n" +
         (changes.empty() ? "<p class=\"muted\">Nothing changed after any hop signed.</p>\n" : changes);

  out += "<h2>Notes</h2>\n";
  std::string notes;
  for (const auto& n : t.notes) notes += "<li>" + HtmlEscape(n) + "</li>\n";
  out += notes.empty() ? "<p class=\"muted\">No notes.</p>\n" : "<ul class=\"notes\">\n" + notes + "</ul>\n";
  return out + "<footer>Generated by mtas trace (MTAS/1.0).</footer>\n</main>\n</body>\n</html>\n";
}

}  // namespace mtas
