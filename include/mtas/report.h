// Presenting verification results: JSON for scripts, a text summary for
// people (result header fields: result_headers.h).
#pragma once

#include <string>

#include "mtas/policy.h"
#include "mtas/verify.h"

namespace mtas {

// {"result": …, "signatures": [ … ], "notes": [ … ]} as `mtas verify --json` prints it.
std::string ReportJson(const VerifyReport& report, const PolicyDecision* decision = nullptr);

// A readable summary: one block per hop, what changed since.
std::string ReportText(const VerifyReport& report, const PolicyDecision* decision = nullptr);

// One signature as a JSON object (the elements of "signatures").
std::string SignatureJson(const SignatureReport& sig);

// The policy decision as a JSON object.
std::string PolicyJson(const PolicyDecision& decision);

// JSON string escaping (RFC 8259).
std::string JsonEscape(std::string_view s);

}  // namespace mtas
