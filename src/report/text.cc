// The human-readable verification summary (`mtas verify` without --json).
#include <ctime>

#include "mtas/report.h"
#include "report/hop_names.h"

namespace mtas {

std::string ReportText(const VerifyReport& report, const PolicyDecision* decision) {
  std::string out;
  if (report.signatures.empty()) out += "no MTAS signature found\n";
  for (const auto& s : report.signatures) {
    out += "hop " + std::to_string(s.hop) + "  " + (s.signer.empty() ? "(unknown signer)" : s.signer) +
           "  msgid=" + s.msgid + "  " + std::string(ResultName(s.result));
    if (s.algorithm != KeyAlgorithm::kUnknown) out += "  " + AlgorithmText(s) + "  carrier=" + CarrierText(s);
    if (!s.key_method.empty()) out += "  key=" + s.key_method + "(" + std::string(KeyTrustName(s.key_trust)) + ")";
    out += "\n";
    if (s.signing_time) {
      char buf[64];
      std::tm tm{};
      gmtime_r(&*s.signing_time, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
      out += "  signed at " + std::string(buf) + "\n";
    }
    if (!s.reason.empty()) out += "  " + s.reason + "\n";
    if (s.signer_infos.size() > 1)
      for (size_t i = 0; i < s.signer_infos.size(); ++i) out += "  " + SignerInfoText(s.signer_infos[i], i) + "\n";
    for (const auto& n : s.notes) out += "  note: " + n + "\n";
    for (const auto& h : s.headers)
      if (h.status != HeaderStatus::kSame) {
        out += "  header " + h.name + ": " + std::string(HeaderStatusName(h.status)) + "\n";
        if (h.status != HeaderStatus::kAdded) out += "    signed: " + h.signed_value + "\n";
        if (!h.current_value.empty()) out += "    now:    " + h.current_value + "\n";
      }
    for (const auto& p : s.parts) {
      if (p.status != PartStatus::kSame)
        out += "  part " + p.path + " (" + p.content_type + "): " + std::string(PartStatusName(p.status)) +
               (p.now_at.empty() ? "" : " to " + p.now_at) + "\n";
      if (p.appended_length) {
        std::string shown;  // escaped, one line
        for (char c : p.appended.substr(0, 200))
          shown += c == '\r' ? "" : c == '\n' ? "\\n" : (static_cast<unsigned char>(c) < 32 ? "?" : std::string(1, c));
        out += std::string(p.inserted_before.empty() ? "    appended " : "    inserted ") +
               std::to_string(p.appended_length) + " bytes: \"" + shown + (p.appended_length > 200 ? "…" : "") + "\"";
        if (!p.inserted_before.empty()) {
          std::string before;
          for (char c : p.inserted_before.substr(0, 80))
            before += c == '\r'   ? ""
                      : c == '\n' ? "\\n"
                                  : (static_cast<unsigned char>(c) < 32 ? "?" : std::string(1, c));
          out += " before \"" + before + "\"";
        }
        out += "\n";
      }
      if (!p.reencoded.empty()) out += "    re-encoded " + p.reencoded + "\n";
      for (const auto& c : p.changed_fields)
        out += "    " + c.name + " signed: " + (c.signed_value.empty() ? "(none)" : c.signed_value) + "\n    " +
               c.name + " now:    " + (c.current_value.empty() ? "(none)" : c.current_value) + "\n";
    }
    if (!s.part_tree_intact) out += "  MIME structure: changed (parts or containers appeared or went)\n";
    if (!s.hop_chain_intact) {
      std::string was;
      for (const auto& m : s.signed_previous_hops) was += (was.empty() ? "" : ", ") + m;
      out += "  hops below: changed (signed after: " + (was.empty() ? std::string("none") : was) + ")\n";
    }
    for (const auto& p : s.added_parts) out += "  part " + p.path + " (" + p.content_type + "): added\n";
    if (s.recovered) {
      out += "  recovered: the original verifies with these edits undone (mtas verify --restore " +
             std::to_string(s.hop) + " OUT writes it)\n";
      for (const Edit& e : s.edits) {
        std::string shown;  // escaped, one line
        for (char c : e.added.substr(0, 120))
          shown += c == '\r' ? "" : c == '\n' ? "\\n" : (static_cast<unsigned char>(c) < 32 ? "?" : std::string(1, c));
        out += "    " + std::string(EditName(e.kind)) + " " + e.where + (shown.empty() ? "" : ": \"" + shown + "\"") +
               (e.added.size() > 120 ? "…" : "") + "\n";
      }
    } else if (!s.not_recovered.empty()) {
      out += "  not recovered: " + s.not_recovered + "\n";
    }
    if (s.unsigned_trailing_bytes)
      out += "  " + std::to_string(s.unsigned_trailing_bytes) + " bytes after the signatures are unsigned\n";
  }
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  for (const auto& w : report.wrapped) {
    std::string signers;
    for (const auto& s : report.signatures)
      if (!s.signer.empty() && signers.find(s.signer) == std::string::npos)
        signers += (signers.empty() ? "" : ", ") + s.signer;
    out += "message wrapped in part " + w.path + (signers.empty() ? "" : " (wrapped by " + signers + ")") +
           ", inner message: " + std::string(ResultName(w.report.result)) + "\n";
    std::string inner = ReportText(w.report);
    for (size_t at = 0; at < inner.size();) {
      size_t nl = inner.find('\n', at);
      if (nl == std::string::npos) nl = inner.size() - 1;
      out += "  | " + inner.substr(at, nl - at + 1);
      at = nl + 1;
    }
  }
  out += "result: " + std::string(ResultName(report.result)) + "\n";
  if (decision) {
    for (const auto& p : decision->policies)
      out += "policy of " + p.domain + ": " + std::string(PolicyName(p.level)) +
             (p.found_at.empty() ? "" : " (" + p.found_at + ")") + (p.error.empty() ? "" : "; " + p.error) + "\n";
    out += "decision: " + std::string(ActionName(decision->action)) + " — " + decision->reason + "\n";
    if (!decision->smtp_reply.empty()) out += "smtp reply: " + decision->smtp_reply + "\n";
  }
  return out;
}

}  // namespace mtas
