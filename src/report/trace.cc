// Building the trace and its text and JSON forms (HTML: trace_html.cc).
#include "mtas/trace.h"

#include <algorithm>
#include <ctime>

#include "mtas/report.h"
#include "report/hop_names.h"

namespace mtas {
namespace {

std::string Unfold(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// "from A (…) by B (…) with … ; date" -> A, B, date.
TraceReceived ParseReceived(std::string_view value, int position) {
  TraceReceived r;
  r.position = position;
  r.raw = Unfold(value);
  std::string s = r.raw;
  size_t semi = s.rfind(';');
  if (semi != std::string::npos) r.date = Unfold(s.substr(semi + 1));
  auto word_after = [&](const std::string& key) {
    size_t at = (" " + s).find(" " + key + " ");
    if (at == std::string::npos) return std::string();
    size_t start = at + key.size() + 1;
    size_t end = s.find_first_of(" ;", start);
    return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
  };
  r.from = word_after("from");
  r.by = word_after("by");
  return r;
}

std::string Time(const std::optional<std::time_t>& t) {
  if (!t) return "-";
  char buf[32];
  std::tm tm{};
  gmtime_r(&*t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string Pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

}  // namespace

Trace BuildTrace(const VerifyReport& report, const std::vector<HeaderField>& fields, const PolicyDecision* decision) {
  Trace t;
  t.result = report.result;
  t.notes = report.notes;
  if (decision) t.decision = *decision;
  std::vector<const HeaderField*> received;
  for (const auto& f : fields) {
    if (f.NameIs("Received")) received.push_back(&f);
    if (f.NameIs("Subject") && t.subject.empty()) t.subject = Unfold(f.value());
    if (f.NameIs("From") && t.from.empty()) t.from = Unfold(f.value());
    if (f.NameIs("Message-ID") && t.message_id.empty()) t.message_id = Unfold(f.value());
  }
  int n = static_cast<int>(received.size());
  for (int i = n - 1; i >= 0; --i)
    t.received.push_back(ParseReceived(received[static_cast<size_t>(i)]->value(), n - i));
  for (const auto& s : report.signatures) {
    TraceHop h;
    h.sig = s;
    if (s.received_count > 0 || s.received_intact) h.received_before = static_cast<int>(s.received_count);
    t.hops.push_back(std::move(h));
  }
  // Interleave: a hop goes after the last Received field it signed over.
  std::vector<size_t> order(t.hops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    int ha = t.hops[a].sig.hop == 0 ? 1 << 30 : t.hops[a].sig.hop,
        hb = t.hops[b].sig.hop == 0 ? 1 << 30 : t.hops[b].sig.hop;
    return ha < hb;
  });
  size_t next_received = 0;
  int floor = 0;  // hops keep their order even when a count is missing
  for (size_t i : order) {
    int upto = std::max(floor, std::min(t.hops[i].received_before, n));
    for (; static_cast<int>(next_received) < upto; ++next_received)
      t.path.push_back({Trace::Step::Kind::kReceived, next_received});
    t.path.push_back({Trace::Step::Kind::kHop, i});
    floor = upto;
  }
  for (; static_cast<int>(next_received) < n; ++next_received)
    t.path.push_back({Trace::Step::Kind::kReceived, next_received});
  return t;
}

std::string TraceText(const Trace& t) {
  std::string out;
  out += "Subject: " + t.subject + "\nFrom:    " + t.from + "\n\n";
  out += Pad("STEP", 6) + Pad("WHO", 28) + Pad("TIME", 22) + Pad("RESULT", 10) + Pad("ALGORITHM", 18) + "KEY\n";
  for (const auto& step : t.path) {
    if (step.kind == Trace::Step::Kind::kReceived) {
      const TraceReceived& r = t.received[step.index];
      out += Pad("R" + std::to_string(r.position), 6) + Pad(r.by.empty() ? "?" : r.by, 28) + "received from " +
             (r.from.empty() ? "?" : r.from) + (r.date.empty() ? "" : "  (" + r.date + ")") + "\n";
      continue;
    }
    const SignatureReport& s = t.hops[step.index].sig;
    std::string alg = s.algorithm == KeyAlgorithm::kUnknown ? "-" : AlgorithmText(s);
    std::string key = s.key_method.empty() ? "-" : KeyText(s);
    out += Pad(s.hop ? "H" + std::to_string(s.hop) : "H?", 6) + Pad(s.signer.empty() ? "(unknown)" : s.signer, 28) +
           Pad(Time(s.signing_time), 22) + Pad(std::string(ResultName(s.result)), 10) + Pad(alg, 18) + key + "\n";
    std::string indent(6, ' ');
    if (s.result != SigResult::kPass && !s.reason.empty()) out += indent + "why: " + s.reason + "\n";
    if (s.signer_infos.size() > 1)
      for (size_t i = 0; i < s.signer_infos.size(); ++i) out += indent + SignerInfoText(s.signer_infos[i], i) + "\n";
    for (const auto& h : s.headers)
      if (h.status != HeaderStatus::kSame) {
        out += indent + h.name + " " + std::string(HeaderStatusName(h.status)) + ": \"" +
               h.signed_value.substr(h.signed_value.find(':') + 1) + "\"";
        if (!h.current_value.empty()) out += " -> \"" + h.current_value.substr(h.current_value.find(':') + 1) + "\"";
        out += "\n";
      }
    for (const auto& p : s.parts)
      if (p.status != PartStatus::kSame)
        out += indent + "part " + p.path + " (" + p.content_type + ") " + std::string(PartStatusName(p.status)) +
               (p.now_at.empty() ? "" : " to " + p.now_at) + "\n";
    for (const auto& p : s.added_parts) out += indent + "part " + p.path + " (" + p.content_type + ") added\n";
  }
  out += "\nresult: " + std::string(ResultName(t.result));
  if (t.decision)
    out += "   decision: " + std::string(ActionName(t.decision->action)) + " (" + t.decision->reason + ")";
  out += "\n";
  for (const auto& n : t.notes) out += "note: " + n + "\n";
  return out;
}

std::string TraceJson(const Trace& t) {
  std::string path;
  for (const auto& step : t.path) {
    if (!path.empty()) path += ", ";
    if (step.kind == Trace::Step::Kind::kReceived) {
      const TraceReceived& r = t.received[step.index];
      path += "{\"type\": \"received\", \"position\": " + std::to_string(r.position) +
              ", \"from\": " + JsonEscape(r.from) + ", \"by\": " + JsonEscape(r.by) +
              ", \"date\": " + JsonEscape(r.date) + "}";
    } else {
      const TraceHop& h = t.hops[step.index];
      path += "{\"type\": \"hop\", \"received_before\": " + std::to_string(h.received_before) +
              ", \"signature\": " + SignatureJson(h.sig) + "}";
    }
  }
  std::string notes;
  for (const auto& n : t.notes) notes += (notes.empty() ? "" : ", ") + JsonEscape(n);
  std::string out = "{\"trace_version\": 1, \"message\": {\"subject\": " + JsonEscape(t.subject) +
                    ", \"from\": " + JsonEscape(t.from) + ", \"message_id\": " + JsonEscape(t.message_id) +
                    "}, \"result\": " + JsonEscape(ResultName(t.result)) + ", \"path\": [" + path + "]";
  if (t.decision) out += ", \"policy\": " + PolicyJson(*t.decision);
  return out + ", \"notes\": [" + notes + "]}\n";
}

}  // namespace mtas
