// The per-hop job, once for every front end (include/mtas/hop.h).
#include "mtas/hop.h"

#include "mtas/address.h"
#include "mtas/result_headers.h"

namespace mtas {
namespace {

Result<HopHeader> ReadHeader(MessageSource& source) {
  HeaderScanner hs;
  MTAS_RETURN_IF_ERROR(source.Rewind());
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, [&](const char* p, size_t n) {
    hs.Write(p, n);
    return !hs.done();  // the header is all this pass needs
  }));
  hs.Finish();
  HopHeader h;
  h.fields = hs.fields();
  h.eol = std::string(hs.eol());
  h.from_domains = FromDomains(h.fields);
  return h;
}

}  // namespace

Result<HopResult> ProcessHop(MessageSource& source, const HopOptions& options) {
  HopResult out;
  auto header = ReadHeader(source);
  if (!header.ok()) return header.status();
  out.header = std::move(*header);

  MessageEdits results;
  if (options.verify) {
    VerifyOptions vo = options.verify_options;
    if (options.envelope) vo.envelope = options.envelope;  // the newest signature's binding (replay)
    auto report = Verifier(vo).Verify(source);
    if (!report.ok()) return report.status();
    out.report = std::move(*report);
    if (options.policy_source)
      out.decision = DecidePolicy(*out.report, out.header.from_domains, *options.policy_source, options.local_policy);
    std::string policy = out.decision && out.decision->applied != PolicyLevel::kNone
                             ? std::string(PolicyName(out.decision->applied))
                             : "";
    for (const auto& s : out.report->signatures)
      out.verification_info += (out.verification_info.empty() ? "" : "\n") +
                               FormatVerificationInfoValue(InfoFor(s, options.authserv_id, policy));
    using Action = PolicyDecision::Action;
    if (options.refuse_by_policy && out.decision &&
        (out.decision->action == Action::kReject || out.decision->action == Action::kTempFail)) {
      out.refused = true;
      return out;
    }
    results = ResultHeaderEdits(out.header.fields, *out.report, options.authserv_id,
                                options.result_eol.empty() ? out.header.eol : options.result_eol, policy);
  }

  const Signer* signer = options.choose_signer ? options.choose_signer(out.header) : nullptr;
  if (!signer) {
    out.edits = std::move(results);
    return out;
  }
  auto session = signer->Begin();
  if (options.envelope) session->SetEnvelope(*options.envelope);
  if (options.verify) session->SetVerificationInfo(out.verification_info);
  MTAS_RETURN_IF_ERROR(source.Rewind());
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, [&](const char* p, size_t n) { session->Write(p, n); }));
  auto signed_edits = session->Finish();
  if (!signed_edits.ok() && signed_edits.status().code() == Status::Code::kInvalidArgument) {
    // The message itself cannot carry a signature a verifier would check
    // (two From fields, a header readers split differently, …): retrying
    // cannot change that, so it goes on unsigned, with the reason.
    out.unsigned_reason = signed_edits.status().message();
    out.edits = std::move(results);
    return out;
  }
  if (!signed_edits.ok()) return signed_edits.status();
  out.signed_it = true;
  out.msgid = signed_edits->msgid;
  out.carrier = signed_edits->carrier;
  // Tracking and signature on top, then this hop's verification results.
  signed_edits->prepend.insert(signed_edits->prepend.end(), results.prepend.begin(), results.prepend.end());
  signed_edits->removed.insert(signed_edits->removed.end(), results.removed.begin(), results.removed.end());
  out.edits = std::move(*signed_edits);
  return out;
}

}  // namespace mtas
