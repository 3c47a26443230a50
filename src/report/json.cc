// JSON rendering of a VerifyReport (the shape `mtas verify --json` promises).
#include <cstdio>

#include "mtas/report.h"
#include "report/hop_names.h"

namespace mtas {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (c > 0xF4 || n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = byte(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

}  // namespace

// Message bytes reach reasons and header values unchanged; JSON must be
// UTF-8 (RFC 8259 §8.1), so a byte that starts no valid sequence becomes
// U+FFFD.
std::string JsonEscape(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (c < 0x80) {
          out.push_back(static_cast<char>(c));
        } else if (size_t n = Utf8Length(s, i)) {
          out.append(s.substr(i, n));
          i += n - 1;
        } else {
          out += "\\ufffd";
        }
    }
  }
  return out + "\"";
}

namespace {

class JsonObject {
 public:
  JsonObject& Str(const char* k, std::string_view v) { return Raw(k, JsonEscape(v)); }
  JsonObject& Num(const char* k, long long v) { return Raw(k, std::to_string(v)); }
  JsonObject& Bool(const char* k, bool v) { return Raw(k, v ? "true" : "false"); }
  JsonObject& Raw(const char* k, const std::string& v) {
    body_ += (body_.empty() ? "" : ", ") + JsonEscape(k) + ": " + v;
    return *this;
  }
  std::string Done() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

template <typename T, typename F>
std::string Array(const std::vector<T>& items, F&& render) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + render(items[i]);
  return out + "]";
}

}  // namespace

std::string SignatureJson(const SignatureReport& s) {
  JsonObject o;
  o.Num("hop", s.hop)
      .Str("msgid", s.msgid)
      .Str("signer", s.signer)
      .Str("carrier", CarrierText(s))
      .Str("algorithm", s.algorithm == KeyAlgorithm::kUnknown ? "" : KeyAlgorithmName(s.algorithm))
      .Str("digest", s.digest)
      .Str("canonicalization", s.canonicalization)
      .Str("result", ResultName(s.result))
      .Str("reason", s.reason)
      .Str("key_method", s.key_method)
      .Str("key_trust", KeyTrustName(s.key_trust));
  o.Raw("signer_infos", Array(s.signer_infos, [](const SignerInfoReport& si) {
          return JsonObject()
              .Str("algorithm", AlgorithmText(si))
              .Str("result", ResultName(si.result))
              .Str("reason", si.reason)
              .Str("key_method", si.key_method)
              .Str("key_trust", KeyTrustName(si.key_trust))
              .Done();
        }));
  o.Raw("signing_time", s.signing_time ? std::to_string(*s.signing_time) : "null");
  o.Str("services", s.services).Bool("content_intact", s.content_intact);
  o.Raw("headers", Array(s.headers, [](const HeaderReport& h) {
          return JsonObject()
              .Str("name", h.name)
              .Str("status", HeaderStatusName(h.status))
              .Str("signed_value", h.signed_value)
              .Str("current_value", h.current_value)
              .Bool("added_above", h.added_above)
              .Done();
        }));
  o.Raw("parts", Array(s.parts, [](const PartReport& p) {
          JsonObject j;
          j.Str("path", p.path).Str("content_type", p.content_type).Str("status", PartStatusName(p.status));
          if (!p.now_at.empty()) j.Str("now_at", p.now_at);
          if (!p.reencoded.empty()) j.Str("reencoded", p.reencoded);
          if (p.appended_length)
            j.Str("appended", p.appended).Num("appended_length", static_cast<long long>(p.appended_length));
          if (!p.inserted_before.empty()) j.Str("inserted_before", p.inserted_before);
          if (!p.changed_fields.empty()) {
            j.Raw("changed_fields", Array(p.changed_fields, [](const FieldChange& c) { return JsonEscape(c.name); }));
            j.Raw("field_changes", Array(p.changed_fields, [](const FieldChange& c) {
                    return JsonObject()
                        .Str("name", c.name)
                        .Str("signed_value", c.signed_value)
                        .Str("current_value", c.current_value)
                        .Done();
                  }));
          }
          return j.Done();
        }));
  o.Raw("added_parts", Array(s.added_parts, [](const AddedPart& p) {
          return JsonObject().Str("path", p.path).Str("content_type", p.content_type).Done();
        }));
  o.Str("profile", s.profile).Bool("part_tree_intact", s.part_tree_intact).Bool("hop_chain_intact", s.hop_chain_intact);
  o.Raw("received_intact", s.received_intact ? (*s.received_intact ? "true" : "false") : "null");
  o.Num("received_count", s.received_count);
  o.Num("unsigned_trailing_bytes", static_cast<long long>(s.unsigned_trailing_bytes));
  o.Raw("notes", Array(s.notes, [](const std::string& n) { return JsonEscape(n); }));
  o.Bool("too_old", s.too_old);
  o.Bool("recovered", s.recovered);
  if (s.recovered)
    o.Raw("edits", Array(s.edits, [](const Edit& e) {
            JsonObject j;
            j.Str("kind", EditName(e.kind)).Str("where", e.where).Bool("addition", IsAddition(e.kind));
            if (!e.added.empty()) j.Str("now", e.added);
            if (!e.signed_value.empty()) j.Str("signed_value", e.signed_value);
            return j.Done();
          }));
  if (!s.not_recovered.empty()) o.Str("not_recovered", s.not_recovered);
  if (!s.wrapped.empty()) o.Str("wrapped", s.wrapped);
  if (!s.verification_info.empty()) o.Str("verification_info", s.verification_info);
  return o.Done();
}

std::string PolicyJson(const PolicyDecision& d) {
  JsonObject o;
  o.Str("decision", ActionName(d.action)).Str("reason", d.reason).Str("smtp_reply", d.smtp_reply);
  o.Str("applied", PolicyName(d.applied));
  o.Raw("domains", Array(d.policies, [](const DomainPolicy& p) {
          return JsonObject()
              .Str("domain", p.domain)
              .Str("policy", PolicyName(p.level))
              .Str("found_at", p.found_at)
              .Bool("temporary_error", p.temporary_error)
              .Str("error", p.error)
              .Done();
        }));
  return o.Done();
}

std::string ReportJson(const VerifyReport& report, const PolicyDecision* decision) {
  JsonObject o;
  o.Str("result", ResultName(report.result));
  o.Raw("signatures", Array(report.signatures, SignatureJson));
  o.Raw("notes", Array(report.notes, [](const std::string& n) { return JsonEscape(n); }));
  if (!report.wrapped.empty())
    o.Raw("wrapped", Array(report.wrapped, [](const WrappedReport& w) {
            std::string inner = ReportJson(w.report);
            inner.pop_back();  // its final line end
            return JsonObject().Str("path", w.path).Raw("report", inner).Done();
          }));
  if (decision) o.Raw("policy", PolicyJson(*decision));
  return o.Done() + "\n";
}

}  // namespace mtas
