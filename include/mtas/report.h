// Presenting verification results: JSON for scripts, a text summary for
// people, and the result header fields of spec §5 for the message.
#pragma once

#include <string>

#include "mtas/verify.h"

namespace mtas {

// {"result": …, "signatures": [ … ], "notes": [ … ]} as `mtas verify --json` prints it.
std::string ReportJson(const VerifyReport& report);

// A readable summary: one block per hop, what changed since.
std::string ReportText(const VerifyReport& report);

// "MTAS-VerificationInfo: authserv; msgid=…; signer=…; result=…; method=…;
//  headers=…; parts=…; added=…" for one signature, folded with `eol`.
std::string VerificationInfoField(const SignatureReport& sig, const std::string& authserv_id,
                                  const std::string& eol = "\r\n");
// The value alone (the verificationInfo attribute of a re-signing hop).
std::string VerificationInfoValue(const SignatureReport& sig, const std::string& authserv_id);

// RFC 8601 "Authentication-Results: authserv; mtas=pass header.s=… header.i=…"
// with one mtas resinfo per signature (or mtas=none).
std::string AuthResultsField(const VerifyReport& report, const std::string& authserv_id,
                             const std::string& eol = "\r\n");

// JSON string escaping (RFC 8259).
std::string JsonEscape(std::string_view s);

}  // namespace mtas
