// The result header fields a verifying MTA prepends (spec §5, RFC 8601).
#include <ctime>

#include "mtas/report.h"

namespace mtas {
namespace {

std::string HeadersSummary(const SignatureReport& s) {
  std::string changed;
  for (const auto& h : s.headers)
    if (h.status != "same") changed += (changed.empty() ? "" : ",") + h.name + ":" + h.status;
  if (s.headers.empty()) return "none";
  return changed.empty() ? "same" : changed;
}

std::string PartsSummary(const SignatureReport& s) {
  std::string changed;
  for (const auto& p : s.parts)
    if (p.status == "changed" || p.status == "removed") changed += (changed.empty() ? "" : ",") + p.path + ":" + p.status;
  if (s.parts.empty()) return "none";
  return changed.empty() ? "same" : changed;
}

std::string AddedSummary(const SignatureReport& s) {
  std::string added;
  for (const auto& p : s.added_parts) added += (added.empty() ? "" : ",") + p.path;
  return added.empty() ? "none" : added;
}

// Folds "a; b; c" at "; " so no line exceeds ~76 columns.
std::string Fold(const std::string& name, const std::vector<std::string>& items, const std::string& eol) {
  std::string out = name + ":";
  size_t col = out.size();
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item = items[i] + (i + 1 < items.size() ? ";" : "");
    if (col + 1 + item.size() > 76 && i > 0) {
      out += eol + " ";
      col = 1;
    } else {
      out += " ";
      ++col;
    }
    out += item;
    col += item.size();
  }
  return out;
}

std::vector<std::string> InfoItems(const SignatureReport& s, const std::string& authserv_id) {
  std::vector<std::string> items = {authserv_id, "msgid=" + s.msgid};
  if (!s.signer.empty()) items.push_back("signer=" + s.signer);
  items.push_back("result=" + std::string(ResultName(s.result)));
  if (!s.key_method.empty()) items.push_back("method=" + s.key_method);
  if (s.result == SigResult::kPass || s.result == SigResult::kPartial || s.result == SigResult::kFail) {
    items.push_back("headers=" + HeadersSummary(s));
    items.push_back("parts=" + PartsSummary(s));
    items.push_back("added=" + AddedSummary(s));
  }
  if (s.result != SigResult::kPass && !s.reason.empty()) {
    std::string reason;
    for (char c : s.reason) reason.push_back(c == '"' || c == '\\' ? '\'' : c);
    items.push_back("reason=\"" + reason + "\"");
  }
  return items;
}

}  // namespace

std::string VerificationInfoValue(const SignatureReport& s, const std::string& authserv_id) {
  std::string out;
  for (const auto& i : InfoItems(s, authserv_id)) out += (out.empty() ? "" : "; ") + i;
  return out;
}

std::string VerificationInfoField(const SignatureReport& s, const std::string& authserv_id, const std::string& eol) {
  return Fold("MTAS-VerificationInfo", InfoItems(s, authserv_id), eol);
}

std::string AuthResultsField(const VerifyReport& report, const std::string& authserv_id, const std::string& eol) {
  std::vector<std::string> items = {authserv_id};
  if (report.signatures.empty()) items.push_back("mtas=none");
  for (const auto& s : report.signatures) {
    std::string r = "mtas=" + std::string(ResultName(s.result));
    if (s.result != SigResult::kPass && !s.reason.empty()) {
      std::string reason;
      for (char c : s.reason) reason.push_back(c == '"' || c == '\\' || c == '(' || c == ')' ? '\'' : c);
      r += " reason=\"" + reason + "\"";
    }
    if (!s.signer.empty()) r += " header.s=" + s.signer;
    r += " header.i=" + s.msgid;
    items.push_back(r);
  }
  return Fold("Authentication-Results", items, eol);
}

std::string ReportText(const VerifyReport& report) {
  std::string out;
  if (report.signatures.empty()) out += "no MTAS signature found\n";
  for (const auto& s : report.signatures) {
    out += "hop " + std::to_string(s.hop) + "  " + (s.signer.empty() ? "(unknown signer)" : s.signer) + "  msgid=" +
           s.msgid + "  " + std::string(ResultName(s.result));
    if (!s.algorithm.empty()) out += "  " + s.algorithm + "/" + s.digest + "  carrier=" + s.carrier;
    if (!s.key_method.empty()) out += "  key=" + s.key_method + "(" + s.key_trust + ")";
    out += "\n";
    if (s.signing_time) {
      char buf[64];
      std::tm tm{};
      gmtime_r(&*s.signing_time, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
      out += "  signed at " + std::string(buf) + "\n";
    }
    if (!s.reason.empty()) out += "  " + s.reason + "\n";
    for (const auto& n : s.notes) out += "  note: " + n + "\n";
    for (const auto& h : s.headers)
      if (h.status != "same") {
        out += "  header " + h.name + ": " + h.status + "\n    signed: " + h.signed_value + "\n";
        if (!h.current_value.empty()) out += "    now:    " + h.current_value + "\n";
      }
    for (const auto& p : s.parts)
      if (p.status != "same")
        out += "  part " + p.path + " (" + p.content_type + "): " + p.status +
               (p.now_at.empty() ? "" : " to " + p.now_at) + "\n";
    for (const auto& p : s.added_parts) out += "  part " + p.path + " (" + p.content_type + "): added\n";
    if (s.unsigned_trailing_bytes)
      out += "  " + std::to_string(s.unsigned_trailing_bytes) + " bytes after the signatures are unsigned\n";
  }
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  out += "result: " + std::string(ResultName(report.result)) + "\n";
  return out;
}

}  // namespace mtas
