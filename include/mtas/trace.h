// The chain of custody (`mtas trace`): every signing hop from the first
// signer to the last verifier, merged with the Received path, and what
// changed after each hop. Rendered as text, JSON (stable) or one HTML page.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtas/message.h"
#include "mtas/policy.h"
#include "mtas/verify.h"

namespace mtas {

struct TraceReceived {
  int position = 0;  // 1 = the oldest (bottom-most) Received field
  std::string from, by, date;
  std::string raw;  // unfolded
};

struct TraceHop {
  SignatureReport sig;
  // The Received fields present when this hop signed (its receivedHash
  // count): positions 1..received_before; -1 when it signed none.
  int received_before = -1;
};

struct Trace {
  std::string subject, from, message_id;  // the message as it is now
  std::vector<TraceReceived> received;    // oldest first
  std::vector<TraceHop> hops;             // oldest first; carriers without a tracking header last
  SigResult result = SigResult::kNone;
  std::optional<PolicyDecision> decision;
  std::vector<std::string> notes;

  // The path in order: Received fields and signing hops interleaved.
  struct Step {
    enum class Kind { kReceived, kHop } kind;
    size_t index;  // into received or hops
  };
  std::vector<Step> path;
};

Trace BuildTrace(const VerifyReport& report, const std::vector<HeaderField>& fields,
                 const PolicyDecision* decision = nullptr);

std::string TraceText(const Trace& trace);  // an aligned table for a terminal
std::string TraceJson(const Trace& trace);  // documented in docs/trace.md
std::string TraceHtml(const Trace& trace);  // one self-contained page with an SVG of the path

}  // namespace mtas
