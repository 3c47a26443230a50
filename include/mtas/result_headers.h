// The result header fields of spec §5: MTAS-VerificationInfo (one per
// signature) and an RFC 8601 Authentication-Results entry, with parsers so a
// later hop can read what earlier hops concluded, and the forgery defence of
// RFC 8601 §5 (fields claiming our authserv-id are removed before ours go on).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtas/message.h"
#include "mtas/sign.h"
#include "mtas/status.h"
#include "mtas/verify.h"

namespace mtas {

inline constexpr std::string_view kVerificationInfoName = "MTAS-VerificationInfo";
inline constexpr std::string_view kAuthResultsName = "Authentication-Results";

struct VerificationInfo {
  std::string authserv_id;
  std::string msgid;
  std::string signer;
  std::string result;
  std::string method;
  std::string headers;  // same | none | Name:status,…
  std::string parts;    // same | none | path:status,…
  std::string added;    // none | path,…
  std::string edits;    // recovered hops: kind:where,… of the edits undone (MTAS/1.1)
  std::string policy;   // the policy applied, when one was
  std::string reason;   // for results other than pass
};

VerificationInfo InfoFor(const SignatureReport& sig, const std::string& authserv_id, const std::string& policy = "");
// "authserv; msgid=…; signer=…; result=…; …" on one line.
std::string FormatVerificationInfoValue(const VerificationInfo& info);
// The whole field, folded so that no line exceeds 78 characters.
std::string FormatVerificationInfo(const VerificationInfo& info, const std::string& eol = "\r\n");
Result<VerificationInfo> ParseVerificationInfo(std::string_view value);

struct AuthResult {
  std::string method = "mtas";
  std::string result;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> properties;  // "header.s" -> value
};
struct AuthResults {
  std::string authserv_id;
  std::vector<AuthResult> results;  // empty = "none"
};

AuthResults AuthResultsFor(const VerifyReport& report, const std::string& authserv_id);
std::string FormatAuthResults(const AuthResults& ar, const std::string& eol = "\r\n");
// RFC 8601 §2.2 grammar: comments, quoted strings, method versions, "none".
Result<AuthResults> ParseAuthResults(std::string_view value);

// Folds "Name: value" at spaces so no line is longer than `width`.
std::string FoldField(const std::string& field, const std::string& eol, size_t width = 78);

// Edits that take out the fields that could pass for ours — every
// MTAS-VerificationInfo claiming `authserv_id`, and the
// Authentication-Results claiming it that hold an mtas result (or cannot be
// parsed and mention mtas) — and prepend ours (the milter and `mtas verify
// --add-header` both apply them). Another local filter's results under the
// same authserv-id (OpenDKIM's dkim=pass) are kept.
MessageEdits ResultHeaderEdits(const std::vector<HeaderField>& fields, const VerifyReport& report,
                               const std::string& authserv_id, const std::string& eol, const std::string& policy = "");

}  // namespace mtas
