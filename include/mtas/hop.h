// One hop's job on one message (spec §5, §6): read the header, verify the
// hops before, decide by policy, put this hop's result fields on the
// message, and sign it with those results as its verification info. `mtas
// sign --resign`, `mtas verify --add-header` and mtasd are adapters over it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mtas/message.h"
#include "mtas/policy.h"
#include "mtas/sign.h"
#include "mtas/source.h"
#include "mtas/status.h"
#include "mtas/verify.h"

namespace mtas {

// What the header pass found, for choosing a signer.
struct HopHeader {
  std::vector<HeaderField> fields;
  std::string eol;  // the message's line end
  Result<std::vector<std::string>> from_domains = std::vector<std::string>{};
};

struct HopOptions {
  // Verify the earlier hops and add MTAS-VerificationInfo and
  // Authentication-Results under `authserv_id`.
  bool verify = false;
  std::string authserv_id;
  VerifyOptions verify_options;  // its envelope is set from `envelope`
  // With a source: the policy decision too (its level goes into the result fields).
  PolicySource* policy_source = nullptr;
  LocalPolicy local_policy;
  // A reject or tempfail decision ends the hop unsigned (`refused`); false:
  // it is only reported, and the hop goes on (the command line).
  bool refuse_by_policy = true;
  // The signer for this message, chosen once the header is read; nullptr
  // (or no function): the message is not signed.
  std::function<const Signer*(const HopHeader&)> choose_signer;
  std::optional<Envelope> envelope;  // checked against the newest signature, bound by this one
  std::string result_eol;            // line end of the result fields; empty: the message's
};

struct HopResult {
  HopHeader header;
  std::optional<VerifyReport> report;      // when verifying
  std::optional<PolicyDecision> decision;  // when deciding
  std::string verification_info;           // the result lines this hop's signature carries
  // Reject or tempfail by policy: nothing was signed, `edits` holds no
  // signature (the caller refuses the message).
  bool refused = false;
  bool signed_it = false;
  std::string msgid;  // this hop's signature, when signed
  Carrier carrier = Carrier::kAuto;
  std::string unsigned_reason;  // the signer could not sign this content (it goes on unsigned)
  // Tracking field and signature first, then the result fields; written
  // with WriteSignedMessage or a milter's calls.
  MessageEdits edits;
};

// Reads `source` (rewound as needed: the header, a verification, a
// signature). Fails only on I/O and signing errors other than the content's.
// Thread-safe when the options' objects are (Verifier, Signer and the
// key resolvers are).
Result<HopResult> ProcessHop(MessageSource& source, const HopOptions& options);

}  // namespace mtas
