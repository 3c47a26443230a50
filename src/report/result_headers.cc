// The result header fields a verifying MTA prepends (spec §5, RFC 8601).
#include "mtas/result_headers.h"

#include <cctype>
#include <map>

#include "common/ascii.h"

namespace mtas {
namespace {

std::string HeadersSummary(const SignatureReport& s) {
  std::string changed;
  for (const auto& h : s.headers)
    if (h.status != HeaderStatus::kSame)
      changed += (changed.empty() ? "" : ",") + h.name + ":" + std::string(HeaderStatusName(h.status));
  if (s.headers.empty()) return "none";
  return changed.empty() ? "same" : changed;
}

std::string PartsSummary(const SignatureReport& s) {
  std::string changed;
  for (const auto& p : s.parts)
    if (p.status == PartStatus::kChanged || p.status == PartStatus::kRemoved || p.status == PartStatus::kAppended ||
        p.status == PartStatus::kInserted)
      changed += (changed.empty() ? "" : ",") + p.path + ":" + std::string(PartStatusName(p.status));
  if (s.parts.empty()) return "none";
  return changed.empty() ? "same" : changed;
}

std::string AddedSummary(const SignatureReport& s) {
  std::string added;
  for (const auto& p : s.added_parts) added += (added.empty() ? "" : ",") + p.path;
  return added.empty() ? "none" : added;
}

// A value as a quoted-string when it holds what ends a value (space, ';',
// quotes, comments); "domain:key:email" stays readable as in spec §5.
std::string Quoted(const std::string& v) {
  bool token = !v.empty();
  for (unsigned char c : AsBytes(v))
    if (c <= ' ' || c >= 127 || std::string_view("();\\\"").find(static_cast<char>(c)) != std::string_view::npos)
      token = false;
  if (token) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '\r' || c == '\n') continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Tokenizer for structured header values: skips comments, unquotes.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipCfws() { i_ = mtas::SkipCfws(s_, i_); }
  bool Peek(char c) {
    SkipCfws();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }
  bool AtEnd() {
    SkipCfws();
    return i_ >= s_.size();
  }
  // A token up to one of `stops`, or a quoted string.
  std::string Word(std::string_view stops) {
    SkipCfws();
    std::string out;
    if (i_ < s_.size() && s_[i_] == '"') {
      for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        if (s_[i_] == '\r' || s_[i_] == '\n') continue;
        out += s_[i_];
      }
      if (i_ < s_.size()) ++i_;
      return out;
    }
    while (i_ < s_.size() && stops.find(s_[i_]) == std::string_view::npos && s_[i_] != ' ' && s_[i_] != '\t' &&
           s_[i_] != '\r' && s_[i_] != '\n' && s_[i_] != '(')
      out += s_[i_++];
    return out;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string FoldField(const std::string& field, const std::string& eol, size_t width) {
  std::string out;
  size_t line_start = 0;  // index in out where the current line starts
  size_t last_space = std::string::npos;
  for (char c : field) {
    if (c == ' ' && out.size() > line_start) last_space = out.size();
    out += c;
    if (out.size() - line_start > width && last_space != std::string::npos && last_space > line_start) {
      out.insert(last_space,
                 eol);  // the space stays, as the continuation's leading WSP
      line_start = last_space + eol.size();
      last_space = std::string::npos;
    }
  }
  return out;
}

VerificationInfo InfoFor(const SignatureReport& s, const std::string& authserv_id, const std::string& policy) {
  VerificationInfo v;
  v.authserv_id = authserv_id;
  v.msgid = s.msgid;
  v.signer = s.signer;
  v.result = std::string(ResultName(s.result));
  v.method = s.key_method;
  if (s.result == SigResult::kPass || s.result == SigResult::kPartial || s.result == SigResult::kFail) {
    v.headers = HeadersSummary(s);
    v.parts = PartsSummary(s);
    v.added = AddedSummary(s);
  }
  for (const Edit& e : s.edits) v.edits += (v.edits.empty() ? "" : ",") + std::string(EditName(e.kind)) + ":" + e.where;
  v.policy = policy;
  if (s.result != SigResult::kPass) v.reason = s.reason;
  return v;
}

std::string FormatVerificationInfoValue(const VerificationInfo& v) {
  std::string out = v.authserv_id + "; msgid=" + v.msgid;
  auto add = [&](const char* name, const std::string& value) {
    if (!value.empty()) out += std::string("; ") + name + "=" + Quoted(value);
  };
  add("signer", v.signer);
  add("result", v.result);
  add("method", v.method);
  add("headers", v.headers);
  add("parts", v.parts);
  add("added", v.added);
  add("edits", v.edits);
  add("policy", v.policy);
  add("reason", v.reason);
  return out;
}

std::string FormatVerificationInfo(const VerificationInfo& v, const std::string& eol) {
  return FoldField(std::string(kVerificationInfoName) + ": " + FormatVerificationInfoValue(v), eol);
}

Result<VerificationInfo> ParseVerificationInfo(std::string_view value) {
  Lexer lx(value);
  VerificationInfo v;
  v.authserv_id = lx.Word(";");
  if (v.authserv_id.empty()) return Status::Malformed("MTAS-VerificationInfo has no authserv-id");
  std::map<std::string, std::string*> slots = {
      {"msgid", &v.msgid}, {"signer", &v.signer}, {"result", &v.result}, {"method", &v.method}, {"headers", &v.headers},
      {"parts", &v.parts}, {"added", &v.added},   {"edits", &v.edits},   {"policy", &v.policy}, {"reason", &v.reason}};
  while (lx.Eat(';')) {
    if (lx.AtEnd()) break;
    std::string name = Lower(lx.Word("=;"));
    if (!lx.Eat('=')) return Status::Malformed("MTAS-VerificationInfo: '" + name + "' has no value");
    std::string val = lx.Word(";");
    auto it = slots.find(name);
    if (it != slots.end()) *it->second = val;  // unknown names are ignored
  }
  if (!lx.AtEnd()) return Status::Malformed("MTAS-VerificationInfo: unexpected text");
  if (v.msgid.empty() || v.result.empty()) return Status::Malformed("MTAS-VerificationInfo lacks msgid or result");
  return v;
}

AuthResults AuthResultsFor(const VerifyReport& report, const std::string& authserv_id) {
  AuthResults ar;
  ar.authserv_id = authserv_id;
  for (const auto& s : report.signatures) {
    AuthResult r;
    r.result = std::string(ResultName(s.result));
    if (s.result != SigResult::kPass) r.reason = s.reason;
    if (!s.signer.empty()) r.properties.emplace_back("header.s", s.signer);
    r.properties.emplace_back("header.i", s.msgid);
    ar.results.push_back(std::move(r));
  }
  return ar;
}

std::string FormatAuthResults(const AuthResults& ar, const std::string& eol) {
  std::string f = std::string(kAuthResultsName) + ": " + ar.authserv_id + ";";
  if (ar.results.empty()) f += " mtas=none";
  for (size_t i = 0; i < ar.results.size(); ++i) {
    const AuthResult& r = ar.results[i];
    f += (i ? "; " : " ") + r.method + "=" + r.result;
    if (!r.reason.empty()) f += " reason=" + Quoted(r.reason);
    for (const auto& [k, v] : r.properties) f += " " + k + "=" + Quoted(v);
  }
  return FoldField(f, eol);
}

Result<AuthResults> ParseAuthResults(std::string_view value) {
  Lexer lx(value);
  AuthResults ar;
  ar.authserv_id = lx.Word(";");
  if (ar.authserv_id.empty()) return Status::Malformed("Authentication-Results has no authserv-id");
  if (!lx.Peek(';')) lx.Word(";");  // optional authres-version
  while (lx.Eat(';')) {
    if (lx.AtEnd()) break;
    std::string method = Lower(lx.Word("=;/"));
    if (lx.Eat('/')) lx.Word("=;");  // method version
    if (!lx.Eat('=')) {
      if (method == "none") continue;
      return Status::Malformed("Authentication-Results: method '" + method + "' has no result");
    }
    AuthResult r;
    r.method = method;
    r.result = Lower(lx.Word(";"));
    while (!lx.AtEnd() && !lx.Peek(';')) {
      std::string key = Lower(lx.Word("=;"));
      if (key.empty() || !lx.Eat('='))
        return Status::Malformed("Authentication-Results: bad property near '" + key + "'");
      std::string val = lx.Word(";");
      if (key == "reason")
        r.reason = val;
      else
        r.properties.emplace_back(key, val);
    }
    ar.results.push_back(std::move(r));
  }
  if (!lx.AtEnd()) return Status::Malformed("Authentication-Results: unexpected text");
  return ar;
}

namespace {

// Whether an Authentication-Results value could carry an mtas result: it
// names the method mtas, or it does not parse and mentions mtas at all (a
// reader's parser may still find one there; removing too much is safe).
bool MayHoldMtasResult(std::string_view value) {
  auto parsed = ParseAuthResults(value);
  if (!parsed.ok()) return Lower(std::string(value)).find("mtas") != std::string::npos;
  for (const auto& r : parsed->results)
    if (r.method == "mtas") return true;
  return false;
}

}  // namespace

MessageEdits ResultHeaderEdits(const std::vector<HeaderField>& fields, const VerifyReport& report,
                               const std::string& authserv_id, const std::string& eol, const std::string& policy) {
  MessageEdits edits;
  edits.eol = eol;
  std::map<std::string, int> seen, removed;
  for (const auto& f : fields) {
    bool info = f.NameIs(kVerificationInfoName), ar = f.NameIs(kAuthResultsName);
    if (!info && !ar) continue;
    std::string key = info ? "info" : "ar";
    int occurrence = ++seen[key];
    Lexer lx(f.value());
    if (!EqualsIgnoreCase(lx.Word(";"), authserv_id)) continue;
    // A field claiming to be ours that we did not write now: a forgery. An
    // Authentication-Results field under the same authserv-id that holds no
    // mtas result is another local filter's (OpenDKIM, OpenDMARC, SPF
    // policy daemons all use the host name) and stays.
    if (ar && !MayHoldMtasResult(f.value())) continue;
    edits.removed.push_back({std::string(f.name()), occurrence - removed[key]++, f.offset, f.length});
  }
  for (const auto& s : report.signatures)
    edits.prepend.push_back(FormatVerificationInfo(InfoFor(s, authserv_id, policy), eol));
  edits.prepend.push_back(FormatAuthResults(AuthResultsFor(report, authserv_id), eol));
  return edits;
}

}  // namespace mtas
