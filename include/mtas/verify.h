// Verification (spec §5): every signature on a message, oldest hop first,
// with the change report of headers and parts since each hop.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mtas/canon.h"
#include "mtas/carrier.h"
#include "mtas/keys.h"
#include "mtas/signature.h"
#include "mtas/sink.h"
#include "mtas/source.h"
#include "mtas/status.h"

namespace mtas {

enum class SigResult { kPass, kPartial, kFail, kNeutral, kTempError, kPermError, kNone };
std::string_view ResultName(SigResult r);  // "pass", "partial", …, "none"

// What became of one signed field name (names at the edges: HeaderStatusName).
enum class HeaderStatus {
  kSame,
  kReencoded,  // a single part's Content-Transfer-Encoding, its content decoding to what was signed
  kChanged,
  kRemoved,
  kAdded,  // counted zero when signed (MTAS/1.1), there now: current_value shows it
};
std::string_view HeaderStatusName(HeaderStatus s);  // "same", "re-encoded", "changed", "removed", "added"

// What became of one signed part (names at the edges: PartStatusName).
enum class PartStatus {
  kSame,
  kReencoded,  // MTAS/1.1: the same decoded content under another transfer encoding (`reencoded`)
  kAppended,   // MTAS/1.1: the signed content intact, text added after it
  kInserted,   // MTAS/1.1: text added before its signed closing lines
  kMoved,      // the same content at another path (`now_at`)
  kChanged,
  kRemoved,
};
std::string_view PartStatusName(PartStatus s);  // "same", "re-encoded", "appended", "inserted", "moved", …

struct HeaderReport {
  std::string name;
  HeaderStatus status = HeaderStatus::kSame;
  std::string signed_value;
  std::string current_value;  // the topmost instance now, when present
  bool added_above = false;   // the signed instances are all there, but another was put above them
};

// One rendering field of a part (Content-Type, Content-Transfer-Encoding,
// Content-Disposition) that differs from what was signed. An empty value:
// no such field then, or none now.
struct FieldChange {
  std::string name;
  std::string signed_value;
  std::string current_value;
};

struct PartReport {
  std::string path;
  std::string content_type;
  PartStatus status = PartStatus::kSame;
  std::string now_at;  // for moved: the path where the same content is now
  // MTAS/1.1: the part's rendering fields that changed (status changed,
  // also when its content is the same); a multipart container whose fields
  // changed is reported here too.
  std::vector<FieldChange> changed_fields;
  std::string reencoded;  // "8bit->quoted-printable" for status re-encoded
  // MTAS/1.1, status appended (or changed when its fields changed too): the
  // signed content is intact at the start of the part and this text follows
  // it (the first kMaxAppendedShown bytes of appended_length).
  std::string appended;
  uint64_t appended_length = 0;
  // Status inserted (MTAS/1.1): the signed content is intact up to its last
  // signed lines, `appended` holds the text put before them, and these are
  // the lines it was put before.
  std::string inserted_before;
  // Its decoded content is the signed one (its fields may still differ).
  bool content_intact = false;
};

// One edit made after a hop signed, as undone to rebuild what it signed
// (SignatureReport::edits). A closed set: what each kind means is in
// docs/protocol.md, "Recovering the original".
enum class EditKind {
  kTextAppended,       // text added after a text part's signed content (a list footer)
  kTextInserted,       // text added before a text part's signed closing lines (an HTML footer before </body>)
  kPartAdded,          // a MIME part nobody signed
  kSubjectTagged,      // a tag put before the signed Subject ("[list] ")
  kFromRewritten,      // another From (a list's DMARC mitigation)
  kHeaderChanged,      // another signed field changed
  kHeaderAdded,        // a field counted absent when signed
  kHeaderRemoved,      // a signed field gone
  kPartFieldsChanged,  // a part's own header fields (its content intact)
  kWrapped,            // the signed body put whole into a new multipart, as its part 1
};
std::string_view EditName(EditKind k);  // "text-appended", "part-added", …
// Whether an edit only adds to what was signed: appended or inserted text,
// an added part, the body wrapped to add parts after it, a Subject tag. The
// rest replace what the signer said.
bool IsAddition(EditKind k);

struct Edit {
  EditKind kind = EditKind::kHeaderChanged;
  std::string where;         // the field name or the part path
  std::string added;         // what the edit added or now says (bounded, raw)
  std::string signed_value;  // what it replaced, for header edits
};

struct AddedPart {
  std::string path;
  std::string content_type;
};

// One SignerInfo of a hop's signature, as this verifier checked it. A hop
// signed with several keys (Ed25519 and RSA) has one each; the hop passes
// its key check when one verifies and none that could be checked fails.
struct SignerInfoReport {
  KeyAlgorithm algorithm = KeyAlgorithm::kUnknown;
  std::string algorithm_name;  // the signatureAlgorithm as read (for an unknown one)
  // kPass: verified; kFail: the value does not verify or the key is refused;
  // kNeutral: not checked (no key, unknown algorithm); kTempError, kPermError.
  SigResult result = SigResult::kNeutral;
  std::string reason;  // empty for kPass
  std::string key_method;
  KeyTrust key_trust = KeyTrust::kNone;
};

struct SignatureReport {
  int hop = 0;  // 1 = oldest; 0 = a carrier without a tracking header
  std::string msgid;
  std::string signer;
  std::optional<Carrier> carrier;                   // where the signature was found (body or header)
  KeyAlgorithm algorithm = KeyAlgorithm::kUnknown;  // kUnknown until the signature is read
  std::string digest;                               // sha256 …
  std::string canonicalization;
  std::optional<std::time_t> signing_time;
  SigResult result = SigResult::kPermError;
  std::string reason;  // one line
  // The key that verified (the first SignerInfo that did), or the first
  // SignerInfo's method when none did.
  std::string key_method;
  KeyTrust key_trust = KeyTrust::kNone;
  std::vector<SignerInfoReport> signer_infos;  // each SignerInfo, in the signature's order
  std::string services;
  std::string verification_info;  // what this hop said of earlier hops
  std::string wrapped;            // the original Content-Type when this hop wrapped the body
  bool content_intact = false;
  std::vector<HeaderReport> headers;
  std::vector<PartReport> parts;
  std::vector<AddedPart> added_parts;
  // MTAS/1.1: the MIME tree (the paths of every part and container) as
  // signed, false when parts or containers appeared or went.
  bool part_tree_intact = true;
  // MTAS/1.1: the hops below this one, by msgid and in order, as signed.
  bool hop_chain_intact = true;
  std::vector<std::string> signed_previous_hops;
  std::string profile;                  // "MTAS/1.1", or "MTAS/1.0" for a signature without the 1.1 attributes
  std::optional<bool> received_intact;  // receivedHash check, when signed
  int64_t received_count = 0;
  uint64_t unsigned_trailing_bytes = 0;  // non-blank bytes after every entity
  std::vector<std::string> notes;        // services skipped, header/attribute disagreements
  bool too_old = false;                  // signed longer ago than the configured maximum age
  // MTAS/1.1, a partial (or a fail for a From rewritten after signing) whose
  // signature value verified: the message as this hop signed it was rebuilt
  // by undoing `edits`, and that rebuilt message verifies as a pass
  // (`mtas verify --restore` writes it). `edits` is empty otherwise.
  bool recovered = false;
  std::vector<Edit> edits;
  std::string not_recovered;  // why the original could not be rebuilt (a partial that is not recovered)

  // For `mtas inspect`.
  std::string cms_der;
  uint64_t content_length = 0;  // body bytes the signed content spans
  Canon canon = Canon::kRelaxed;
};

struct WrappedReport;

struct VerifyReport {
  SigResult result = SigResult::kNone;  // the worst of the signatures
  std::vector<SignatureReport> signatures;
  std::vector<std::string> notes;  // message-level observations (limits hit, structure)
  uint64_t body_offset = 0;
  // Signed messages found inside message/rfc822 parts (a list that wraps
  // the original, Mailman's DMARC "wrap message"), each verified as a
  // message of its own. They do not change `result`.
  std::vector<WrappedReport> wrapped;
};

struct WrappedReport {
  std::string path;  // the message/rfc822 part
  VerifyReport report;
};

struct VerifyOptions {
  KeyResolver* resolver = nullptr;  // not owned; nullptr = no key source (neutral)
  bool allow_sha1 = false;
  // Compute the change report even when no key was found (for `inspect`;
  // the result stays neutral).
  bool report_without_key = false;
  int max_lookups_per_message = 8;  // network key lookups, all signatures together
  int64_t max_age_seconds = 0;      // signatures older than this are flagged (0: no limit)
  // The envelope this message arrived with: checked against the newest
  // signature's envelope binding (mtas.11), the one made for this transmission.
  std::optional<Envelope> envelope;
  // Verify signed messages inside message/rfc822 parts too (at most
  // kMaxWrappedMessages, one level deep).
  bool look_inside_wrapped = true;
  // Try to rebuild what each partial hop signed (SignatureReport::recovered).
  bool recover = true;
};

inline constexpr size_t kMaxWrappedMessages = 2;

struct RestorePlan;  // src/verify/restore.h

// Thread safety: Verify and Restore are const and keep no state between
// calls; one Verifier may serve any number of threads at once when its
// options' resolver and policy source are thread-safe (BuildKeySources'
// are). The MessageSource is the caller's, one per call.
class Verifier {
 public:
  explicit Verifier(VerifyOptions options) : options_(options) {}
  // Reads the source once (twice when a signature needs a digest the first
  // pass did not compute). Fails only on I/O errors: anything wrong with
  // the message is in the report.
  Result<VerifyReport> Verify(MessageSource& source) const;
  // Writes the message as hop `hop` (SignatureReport::hop) signed it, its
  // edits undone and later hops' fields and carriers taken out, to `out`,
  // and returns the report of the message as it is. Fails (kNotFound,
  // kInvalidArgument) when there is no such hop or it neither passes nor is
  // recovered; `out` then got nothing.
  Result<VerifyReport> Restore(MessageSource& source, int hop, ByteSink& out) const;

 private:
  // Verify, and with `restore_hop` the plan that rebuilds that hop's
  // original into *restored (an error when it cannot be rebuilt).
  Result<VerifyReport> Check(MessageSource& source, int restore_hop, RestorePlan* restored) const;
  VerifyOptions options_;
};

// The exit status `mtas verify` uses for an overall result.
int ExitStatusFor(SigResult overall);

}  // namespace mtas
