// The verifier: locate every signature, then one flat pass of checks per
// signature, each recording a typed outcome or moving on (spec §5).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "carrier/carrier.h"
#include "message/received.h"
#include "mtas/address.h"
#include "mtas/domain.h"
#include "mtas/limits.h"
#include "mtas/message.h"
#include "mtas/signature.h"
#include "mtas/verify.h"
#include "verify/change_report.h"
#include "verify/restore.h"

namespace mtas {
namespace {

// One signature as found on the message, before any check.
struct Located {
  int hop = 0;
  std::string msgid;
  std::optional<Carrier> carrier;
  std::string services;  // from the carrier's header, unsigned
  std::string base64;
  std::string der;         // base64 decoded, once
  std::string link_error;  // permerror found while locating
  int entity = -1;         // index into BodyIndex::entities (body carrier)
  std::optional<TrackingInfo> tracking;
  bool untracked = false;  // found by its carrier alone (no tracking header names it)
};

struct Scan {
  std::vector<HeaderField> fields;
  std::vector<std::string> warnings;
  std::string header_ambiguity;  // HeaderScanner::ambiguity()
  bool header_section_full = false;
  BodyIndex body;
  uint64_t body_offset = 0;
  std::string eol = "\r\n";
  std::vector<ContentDigestSpec> specs;
};

constexpr ContentDigestSpec kDefaultSpec{Canon::kRelaxed, DigestAlg::kSha256};
// Prefix digests one verification computes at most (each costs a hasher).
constexpr size_t kMaxPrefixRequests = 64;
// Service entries one message may try, over all its signatures and their
// SignerInfos (lookups that go to the network have their own, smaller budget).
constexpr int kMaxServiceVisits = 64;

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

template <typename T>
void AddUnique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// What a parsed signature needs computed over the body.
ContentDigestSpec SpecOf(const ParsedSignature& sig) {
  Canon canon = Canon::kRelaxed;
  if (auto c = ParseCanon(sig.attrs.canonicalization); c.ok()) canon = *c;
  return {canon, sig.digest};
}

// Guesses of pass 1: tracking hints and header-carried signatures.
std::vector<ContentDigestSpec> InitialSpecs(const std::vector<HeaderField>& fields) {
  std::vector<ContentDigestSpec> specs;
  bool unhinted = false;         // a tracking header that says nothing: guess the default
  std::set<std::string> hinted;  // msgids whose tracking header gave the digest
  for (const auto& f : fields) {
    if (!f.NameIs(kTrackingName)) continue;
    auto t = ParseTracking(f.value());
    if (t.ok() && t->digest) {
      AddUnique(specs, ContentDigestSpec{t->canon.value_or(Canon::kRelaxed), *t->digest});
      hinted.insert(t->msgid);
    } else {
      unhinted = true;
    }
  }
  // A header-carried signature without a hint: its CMS says (parsing it
  // costs about as much as the rest of a small message, so only then).
  for (const auto& f : fields) {
    if (!f.NameIs(kSignatureFieldName) || hinted.count(SignatureFieldMsgid(f.value()))) continue;
    auto sf = ParseSignatureField(f.value());
    if (!sf.ok()) continue;
    auto sig = ParseSignature(Base64Decode(sf->signature_base64));
    if (sig.ok()) AddUnique(specs, SpecOf(*sig));
  }
  if (unhinted) AddUnique(specs, kDefaultSpec);
  return specs;
}

Result<Scan> ScanMessage(MessageSource& source, const std::vector<ContentDigestSpec>* forced_specs,
                         const std::vector<PrefixRequest>* prefixes = nullptr) {
  Scan scan;
  HeaderScanner headers;
  std::optional<BodyScanner> body;
  auto start_body = [&]() {
    scan.fields = headers.fields();
    scan.warnings = headers.warnings();
    scan.header_ambiguity = headers.ambiguity();
    scan.header_section_full = headers.section_full();
    scan.body_offset = headers.body_offset();
    scan.eol = std::string(headers.eol());
    BodyScanner::Options opt = BodyOptionsFor(scan.fields);
    scan.specs = forced_specs ? *forced_specs : InitialSpecs(scan.fields);
    opt.content_specs = scan.specs;
    for (const auto& s : scan.specs) AddUnique(opt.part_algs, s.alg);
    if (prefixes) opt.prefixes = *prefixes;
    body.emplace(std::move(opt));
    body->Write(headers.body_start());
  };
  MTAS_RETURN_IF_ERROR(source.Rewind());
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, [&](const char* p, size_t n) {
    if (!body) {
      size_t used = headers.Write(p, n);
      if (!headers.done()) return;
      start_body();
      p += used;
      n -= used;
    }
    body->Write(p, n);
  }));
  if (!body) {
    headers.Finish();
    start_body();
  }
  scan.body = body->Finish();
  return scan;
}

// Pairs tracking fields with carriers by msgid (spec §2.1).
std::vector<Located> LocateSignatures(const Scan& scan, std::vector<std::string>* notes) {
  std::vector<Located> out;
  std::vector<const HeaderField*> tracking, sig_fields;
  for (const auto& f : scan.fields) {
    if (f.NameIs(kTrackingName)) tracking.push_back(&f);
    if (f.NameIs(kSignatureFieldName)) sig_fields.push_back(&f);
  }
  std::reverse(tracking.begin(), tracking.end());  // hop 1 = bottom-most
  if (tracking.size() > limits::kMaxSignatures) {
    notes->push_back(std::to_string(tracking.size()) + " tracking headers; only the oldest " +
                     std::to_string(limits::kMaxSignatures) + " are examined");
    tracking.resize(limits::kMaxSignatures);
  }
  std::map<std::string, int> tracking_count, field_count, entity_count;
  std::vector<std::optional<SignatureField>> parsed_fields;
  for (const auto* f : sig_fields) {
    auto sf = ParseSignatureField(f->value());
    parsed_fields.push_back(sf.ok() ? std::optional<SignatureField>(*sf) : std::nullopt);
    if (sf.ok())
      ++field_count[sf->msgid];
    else
      notes->push_back("unreadable MTAS-Signature field: " + sf.status().message());
  }
  for (const auto& e : scan.body.entities) ++entity_count[e.msgid];

  std::vector<bool> field_used(sig_fields.size(), false), entity_used(scan.body.entities.size(), false);
  int hop = 0;
  for (const auto* f : tracking) {
    Located loc;
    loc.hop = ++hop;
    auto t = ParseTracking(f->value());
    if (!t.ok()) {
      loc.link_error = t.status().message();
      out.push_back(std::move(loc));
      continue;
    }
    loc.tracking = *t;
    loc.msgid = t->msgid;
    if (++tracking_count[t->msgid] > 1) {
      loc.link_error = "two tracking headers carry msgid " + t->msgid;
      out.push_back(std::move(loc));
      continue;
    }
    if (t->version != "MTAS/1.0") {
      loc.link_error = "unsupported version " + t->version;
      out.push_back(std::move(loc));
      continue;
    }
    int in_fields = field_count[t->msgid], in_entities = entity_count[t->msgid];
    if (in_fields + in_entities > 1) {
      loc.link_error = "more than one carrier holds msgid " + t->msgid;
    } else if (in_fields == 1) {
      for (size_t i = 0; i < sig_fields.size(); ++i)
        if (parsed_fields[i] && parsed_fields[i]->msgid == t->msgid) {
          field_used[i] = true;
          loc.carrier = Carrier::kHeader;
          loc.services = parsed_fields[i]->services;
          loc.base64 = parsed_fields[i]->signature_base64;
          if (parsed_fields[i]->version != "MTAS/1.0")
            loc.link_error = "unsupported version " + parsed_fields[i]->version;
        }
    } else if (in_entities == 1) {
      for (size_t i = 0; i < scan.body.entities.size(); ++i) {
        const PostalEntity& e = scan.body.entities[i];
        if (e.msgid != t->msgid) continue;
        entity_used[i] = true;
        loc.carrier = Carrier::kBody;
        loc.entity = static_cast<int>(i);
        loc.services = e.services;
        loc.base64 = e.signature_base64;
        if (!e.error.empty())
          loc.link_error = e.error;
        else if (e.label != kSignatureLabel && e.label != kSeedSignatureLabel)
          loc.link_error = "postal-data entity holds '" + e.label + "', not an MTAS signature";
      }
    } else {
      loc.link_error = "no carrier (postal-data entity or MTAS-Signature) holds msgid " + t->msgid;
    }
    out.push_back(std::move(loc));
  }
  // Carriers that no tracking header names (a list may strip X- fields):
  // read as signatures all the same; PlaceUntracked orders them by their
  // signed chain, or reports them when it cannot.
  for (size_t i = 0; i < sig_fields.size(); ++i)
    if (!field_used[i] && parsed_fields[i] && out.size() < limits::kMaxSignatures) {
      Located loc;
      loc.untracked = true;
      loc.msgid = parsed_fields[i]->msgid;
      loc.carrier = Carrier::kHeader;
      loc.services = parsed_fields[i]->services;
      loc.base64 = parsed_fields[i]->signature_base64;
      if (field_count[loc.msgid] + entity_count[loc.msgid] > 1)
        loc.link_error = "more than one carrier holds msgid " + loc.msgid;
      else if (parsed_fields[i]->version != "MTAS/1.0")
        loc.link_error = "unsupported version " + parsed_fields[i]->version;
      out.push_back(std::move(loc));
    }
  for (size_t i = 0; i < scan.body.entities.size(); ++i)
    if (!entity_used[i] && out.size() < limits::kMaxSignatures) {
      const PostalEntity& e = scan.body.entities[i];
      Located loc;
      loc.untracked = true;
      loc.msgid = e.msgid;
      loc.carrier = Carrier::kBody;
      loc.entity = static_cast<int>(i);
      loc.services = e.services;
      loc.base64 = e.signature_base64;
      if (field_count[loc.msgid] + entity_count[loc.msgid] > 1)
        loc.link_error = "more than one carrier holds msgid " + loc.msgid;
      else if (!e.error.empty())
        loc.link_error = e.error;
      else if (e.label != kSignatureLabel && e.label != kSeedSignatureLabel)
        loc.link_error = "postal-data entity holds '" + e.label + "', not an MTAS signature";
      out.push_back(std::move(loc));
    }
  return out;
}

// Where the signed content of `loc` ends: its own entity (body carrier), or
// the first entity a later hop appended (header carrier), or the body's end.
const std::vector<std::string>* ContentDigests(const Located& loc, const std::vector<Located>& all, const Scan& scan,
                                               uint64_t* length) {
  const auto& entities = scan.body.entities;
  if (loc.carrier == Carrier::kBody) {
    *length = entities[static_cast<size_t>(loc.entity)].offset;
    return &entities[static_cast<size_t>(loc.entity)].content_digests;
  }
  for (const auto& e : entities)
    for (const auto& other : all)
      if (other.hop > loc.hop && other.carrier == Carrier::kBody && other.msgid == e.msgid) {
        *length = e.offset;
        return &e.content_digests;
      }
  *length = scan.body.body_length;
  return &scan.body.final_digests;
}

std::string Summarize(const SignatureReport& r) {
  std::string s;
  auto add = [&](const std::string& x) { s += (s.empty() ? "" : "; ") + x; };
  if (!r.hop_chain_intact) add("the hops before this one are not the ones it signed after");
  // Say where the signed bytes changed when every part reads as signed.
  bool parts_as_signed = r.part_tree_intact && r.added_parts.empty() && !r.parts.empty() &&
                         std::all_of(r.parts.begin(), r.parts.end(), [](const PartReport& p) {
                           return p.status == PartStatus::kSame || p.status == PartStatus::kReencoded;
                         });
  if (!r.content_intact)
    add(parts_as_signed ? "signed bytes changed outside the parts (preamble, epilogue or a transfer encoding)"
                        : "signed content changed");
  for (const auto& h : r.headers)
    if (h.status != HeaderStatus::kSame)
      add(h.name + " " + std::string(HeaderStatusName(h.status)) +
          (h.added_above ? " (a new instance was put above the signed one)" : ""));
  for (const auto& p : r.parts) {
    if (p.status == PartStatus::kMoved) add("part " + p.path + " moved to " + p.now_at);
    if (p.status == PartStatus::kReencoded) add("part " + p.path + " re-encoded " + p.reencoded);
    if ((!p.appended.empty() || p.appended_length) && p.inserted_before.empty())
      add("part " + p.path + " (" + p.content_type + ") appended " + std::to_string(p.appended_length) +
          " bytes after the signed text");
    if (!p.inserted_before.empty())
      add("part " + p.path + " (" + p.content_type + ") inserted " + std::to_string(p.appended_length) +
          " bytes before its signed closing lines");
    if (p.status != PartStatus::kChanged && p.status != PartStatus::kRemoved) continue;
    std::string fields;
    for (const auto& c : p.changed_fields) fields += (fields.empty() ? "" : ", ") + c.name;
    add("part " + p.path + " " + std::string(PartStatusName(p.status)) + (fields.empty() ? "" : " (" + fields + ")"));
  }
  for (const auto& p : r.added_parts) add("part " + p.path + " (" + p.content_type + ") added");
  if (!r.part_tree_intact) add("MIME structure changed");
  return s;
}

// The note of a pass whose bytes changed where no reader looks.
std::string Reencodings(const SignatureReport& r) {
  std::string s;
  for (const auto& p : r.parts)
    if (p.status == PartStatus::kReencoded) s += (s.empty() ? "" : ", ") + ("part " + p.path + " " + p.reencoded);
  return s.empty() ? "the signed bytes changed only where no reader looks (encoded line breaks, preamble, epilogue, "
                     "delimiter padding); every part reads as signed"
                   : "re-encoded: " + s;
}

// The MTAS/1.0 default field list: a 1.0 signature signed these whenever
// present, so one absent then and present now is treated as added.
std::vector<HeaderCount> LegacyCounts(const std::vector<std::string>& signed_fields) {
  std::vector<HeaderCount> out;
  for (const char* n :
       {"From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "Content-Type", "MIME-Version"})
    out.push_back({n, std::count_if(signed_fields.begin(), signed_fields.end(), [&](const std::string& f) {
                     return StartsWithIgnoreCase(f, n) && f.size() > std::strlen(n) &&
                            (f[std::strlen(n)] == ':' || f[std::strlen(n)] == ' ' || f[std::strlen(n)] == '\t');
                   })});
  return out;
}

class SignatureCheck {
 public:
  SignatureCheck(const VerifyOptions& options, const Scan& scan, const std::vector<Located>& all, int* budget)
      : options_(options), scan_(scan), all_(all), budget_(budget) {}

  // One flat sequence: each step either records the outcome and returns,
  // or passes to the next.
  // What Run learnt beyond the report, for rebuilding what a hop signed.
  struct Found {
    KeyLookup key;              // the key, once the signature value checked with it
    bool valid = false;         // the signature value, msgid and carrier checked
    bool from_changed = false;  // failed only because From changed
  };

  SignatureReport Run(const Located& loc, const Result<ParsedSignature>& parsed, Found* found) {
    SignatureReport r;
    r.hop = loc.hop;
    r.msgid = loc.msgid;
    r.carrier = loc.carrier;
    r.services = loc.services;
    r.unsigned_trailing_bytes = scan_.body.unsigned_after_entities;
    if (r.unsigned_trailing_bytes)
      r.notes.push_back(std::to_string(r.unsigned_trailing_bytes) +
                        " bytes after the last signature are unsigned (in the epilogue, which readers do not show)");
    if (!loc.link_error.empty()) return Outcome(r, SigResult::kPermError, loc.link_error);
    if (loc.untracked)
      r.notes.push_back(
          "no tracking header names this signature (stripped in transit?); found by its carrier and "
          "placed by its signed chain");
    if (!parsed.ok()) return Outcome(r, SigResult::kPermError, parsed.status().message());
    const ParsedSignature& sig = *parsed;
    r.cms_der = loc.der;
    r.signer = sig.attrs.signer;
    r.algorithm = sig.signer_infos.front().algorithm;
    r.digest = std::string(DigestName(sig.digest));
    r.signing_time = sig.signing_time;
    r.verification_info = sig.attrs.verification_info;
    r.wrapped = sig.attrs.wrapped;
    if (!sig.attrs.services.empty()) {  // the signed copy wins
      if (!r.services.empty() && r.services != sig.attrs.services)
        r.notes.push_back("the carrier's services \"" + r.services +
                          "\" differ from the signed ones; using the signed");
      r.services = sig.attrs.services;
    }
    r.canonicalization = sig.attrs.canonicalization.empty() ? "relaxed" : sig.attrs.canonicalization;
    auto canon = ParseCanon(r.canonicalization);
    if (!canon.ok()) return Outcome(r, SigResult::kPermError, "unknown canonicalization " + r.canonicalization);
    r.canon = *canon;
    if (sig.digest == DigestAlg::kSha1 && !options_.allow_sha1)
      return Outcome(r, SigResult::kPermError, "SHA-1 signatures are refused (allow them explicitly)");

    KeyLookup key;
    std::string why;
    if (SigResult keyed = CheckSignerInfos(sig, r, &key, &why); keyed != SigResult::kPass) {
      if (keyed == SigResult::kNeutral && options_.report_without_key) CompareContent(loc, sig, r);
      return Outcome(r, keyed, why);
    }
    found->key = key;
    if (sig.attrs.msgid != loc.msgid)
      return Outcome(r, SigResult::kFail, "signed msgid " + sig.attrs.msgid + " is not the carrier's " + loc.msgid);
    if (!sig.attrs.carrier.empty() && loc.carrier && sig.attrs.carrier != CarrierName(*loc.carrier))
      return Outcome(r, SigResult::kFail,
                     "signed for the " + sig.attrs.carrier + " carrier, found in the " +
                         std::string(CarrierName(*loc.carrier)) + " carrier");

    // The signature is genuine: now what changed since.
    found->valid = true;
    CompareContent(loc, sig, r);
    CheckAge(sig, r);
    if (Status st = CheckEnvelope(sig, r); !st.ok()) return Outcome(r, SigResult::kFail, st.message());
    // What readers show must be wholly what this verifier read.
    if (!scan_.header_ambiguity.empty())
      return Outcome(r, SigResult::kPermError, "readers would read the header differently: " + scan_.header_ambiguity);
    if (scan_.header_section_full)
      return Outcome(r, SigResult::kPermError,
                     "the header section exceeds the limit this verifier indexes; it cannot vouch for what readers "
                     "show");
    if (!scan_.body.ambiguity.empty())
      return Outcome(r, SigResult::kPermError,
                     "readers would read the MIME structure differently: " + scan_.body.ambiguity);
    if (!scan_.body.limit_hit.empty())
      return Outcome(r, SigResult::kPermError,
                     scan_.body.limit_hit + "; this verifier cannot vouch for what readers show");
    // The topmost From is compared (spec §3.1): a different one there is a
    // changed From (fail); the signed one on top and another below it is
    // ambiguous to readers (permerror).
    auto top_from = std::find_if(scan_.fields.begin(), scan_.fields.end(), [](auto& f) { return f.NameIs("From"); });
    bool top_from_signed = top_from != scan_.fields.end() &&
                           std::any_of(sig.attrs.headers.begin(), sig.attrs.headers.end(), [&](const std::string& h) {
                             return HeaderFieldsEqual(r.canon, h, top_from->raw);
                           });
    for (const auto& h : r.headers)
      if (EqualsIgnoreCase(h.name, "From") && h.status != HeaderStatus::kSame &&
          !(h.status == HeaderStatus::kChanged && top_from_signed)) {
        found->from_changed = h.status == HeaderStatus::kChanged;
        return Outcome(r, SigResult::kFail, "From " + std::string(HeaderStatusName(h.status)) + " since signing");
      }
    bool signs_from =
        std::any_of(r.headers.begin(), r.headers.end(), [](auto& h) { return EqualsIgnoreCase(h.name, "From"); });
    size_t froms = static_cast<size_t>(
        std::count_if(scan_.fields.begin(), scan_.fields.end(), [](auto& f) { return f.NameIs("From"); }));
    if (signs_from && froms > 1)
      return Outcome(r, SigResult::kPermError,
                     "the message has " + std::to_string(froms) +
                         " From fields (RFC 5322 allows one); readers differ on which they show");
    bool headers_same = std::all_of(r.headers.begin(), r.headers.end(), [](const HeaderReport& h) {
      return h.status == HeaderStatus::kSame || h.status == HeaderStatus::kReencoded;
    });
    // Never a pass while any part, any part's fields, the part tree or the
    // hops below differ from what was signed.
    bool parts_same = r.added_parts.empty() && r.part_tree_intact &&
                      std::all_of(r.parts.begin(), r.parts.end(), [](const PartReport& p) {
                        return p.status == PartStatus::kSame || p.status == PartStatus::kReencoded;
                      });
    // MTAS/1.1 signs everything readers show part by part: when all of it
    // reads as signed, bytes no reader shows (a transfer encoding, the
    // preamble and epilogue) may differ, provided no part was decoded by
    // guessing and the structure is sound.
    bool lenient = std::any_of(scan_.body.parts.begin(), scan_.body.parts.end(),
                               [](const PartInfo& p) { return p.lenient_decode; });
    bool reads_as_signed =
        !r.profile.empty() && r.profile != "MTAS/1.0" && scan_.body.structure_error.empty() && !lenient;
    if ((r.content_intact || reads_as_signed) && headers_same && parts_same && r.hop_chain_intact) {
      bool weak_rsa = key.key.algorithm() == KeyAlgorithm::kRsa && key.key.bits() < 2048;
      if (!r.content_intact) r.notes.push_back(Reencodings(r));
      return Outcome(r, SigResult::kPass, weak_rsa ? "RSA key under 2048 bits" : "");
    }
    if (!r.content_intact && !scan_.body.structure_error.empty())
      return Outcome(r, SigResult::kPermError, "content changed and " + scan_.body.structure_error);
    // A part whose content is as signed survived, even where its fields
    // changed (a list moved the body into a new multipart).
    bool any_part_intact = std::any_of(r.parts.begin(), r.parts.end(), [](auto& p) {
      return p.content_intact || p.status == PartStatus::kSame || p.status == PartStatus::kMoved ||
             p.status == PartStatus::kReencoded || p.status == PartStatus::kAppended ||
             p.status == PartStatus::kInserted;
    });
    if (!r.content_intact && !r.parts.empty() && !any_part_intact)
      return Outcome(r, SigResult::kFail, "no signed part is intact: " + Summarize(r));
    return Outcome(r, SigResult::kPartial, Summarize(r));
  }

 private:
  // Checks every SignerInfo (one per key the hop signed with) to a typed
  // result in r.signer_infos. The hop's key check passes when one verified
  // and none this verifier could check failed (docs/protocol.md §2a);
  // `verified` is then the first key that verified. Otherwise the result is
  // a fail, or the worst of temperror, permerror and neutral, and `why`
  // says which SignerInfo gave it.
  SigResult CheckSignerInfos(const ParsedSignature& sig, SignatureReport& r, KeyLookup* verified, std::string* why) {
    bool any_verified = false;
    std::vector<size_t> other_key;  // SignerInfos whose key is not among the signer's keys found
    for (const ParsedSignerInfo& si : sig.signer_infos) {
      KeyLookup key;
      r.signer_infos.push_back(CheckSignerInfo(sig, si, r, &key));
      if (key.outcome == KeyLookup::Outcome::kOtherKey) other_key.push_back(r.signer_infos.size() - 1);
      if (r.signer_infos.back().result != SigResult::kPass) continue;
      // The hop is reported with its most strongly vouched key (KeyTrust
      // orders strongest first), whatever the SignerInfos' order.
      if (any_verified && !(key.trust < r.key_trust)) continue;
      any_verified = true;
      *verified = std::move(key);
      r.algorithm = si.algorithm;
      r.key_method = r.signer_infos.back().key_method;
      r.key_trust = r.signer_infos.back().key_trust;
    }
    // Beside one that verified, a SignerInfo by a key the signer does not
    // publish (yet) is one this verifier cannot check, not a forgery.
    if (any_verified)
      for (size_t i : other_key) {
        r.signer_infos[i].result = SigResult::kNeutral;
        r.signer_infos[i].reason += " (not checked: a key this verifier does not know)";
      }
    if (!any_verified) {
      const auto& first = r.signer_infos.front();
      r.key_method = first.key_method;
      r.key_trust = first.key_trust;
    }
    // fail > temperror > permerror > neutral, as KeyLookup::Severity weighs sources.
    auto weight = [](SigResult s) {
      switch (s) {
        case SigResult::kFail:
          return 4;
        case SigResult::kTempError:
          return 3;
        case SigResult::kPermError:
          return 2;
        case SigResult::kNeutral:
          return 1;
        default:
          return 0;
      }
    };
    size_t worst = 0;
    for (size_t i = 1; i < r.signer_infos.size(); ++i)
      if (weight(r.signer_infos[i].result) > weight(r.signer_infos[worst].result)) worst = i;
    const SignerInfoReport& w = r.signer_infos[worst];
    if (any_verified && w.result != SigResult::kFail) return SigResult::kPass;
    std::string alg =
        w.algorithm == KeyAlgorithm::kUnknown ? w.algorithm_name : std::string(KeyAlgorithmName(w.algorithm));
    *why = r.signer_infos.size() == 1 ? w.reason
                                      : "SignerInfo " + std::to_string(worst + 1) + " (" + alg + "): " + w.reason;
    return w.result;
  }

  // One SignerInfo: its key looked up by its signer identifier, and its
  // signature value checked with that key.
  SignerInfoReport CheckSignerInfo(const ParsedSignature& sig, const ParsedSignerInfo& si, SignatureReport& r,
                                   KeyLookup* key) {
    SignerInfoReport out;
    out.algorithm = si.algorithm;
    out.algorithm_name = si.algorithm_name;
    auto done = [&out](SigResult result, std::string reason) {
      out.result = result;
      out.reason = std::move(reason);
      return out;
    };
    if (si.algorithm == KeyAlgorithm::kUnknown)
      return done(SigResult::kNeutral, "signature algorithm " + si.algorithm_name + " not implemented here");
    if (si.algorithm == KeyAlgorithm::kEd25519 && sig.digest != DigestAlg::kSha512)
      return done(SigResult::kPermError, "Ed25519 signatures must use SHA-512 (RFC 8419)");
    key->reason = "no key source configured";
    if (options_.resolver)
      *key = options_.resolver->Resolve(KeyRequest{
          sig.attrs.signer, r.services, si.sid, sig.certificates, budget_,
          [&sig, &si](const PublicKey& k) { return CheckSignatureValue(sig, si, k).ok(); }, &service_budget_});
    out.key_method = key->method;
    out.key_trust = key->trust;
    for (const auto& n : key->notes)  // the same services, skipped for each SignerInfo, noted once
      if (std::find(r.notes.begin(), r.notes.end(), n) == r.notes.end()) r.notes.push_back(n);
    switch (key->outcome) {
      case KeyLookup::Outcome::kFound:
        break;
      case KeyLookup::Outcome::kNoKey:
        return done(SigResult::kNeutral, key->reason);
      case KeyLookup::Outcome::kTemporary:
        return done(SigResult::kTempError, key->reason);
      case KeyLookup::Outcome::kMalformed:
        return done(SigResult::kPermError, key->reason);
      case KeyLookup::Outcome::kRejected:
      case KeyLookup::Outcome::kOtherKey:
        return done(SigResult::kFail, key->reason);
    }
    if (Status st = CheckSignatureValue(sig, si, key->key); !st.ok()) return done(SigResult::kFail, st.message());
    return done(SigResult::kPass, "");
  }

  void CheckAge(const ParsedSignature& sig, SignatureReport& r) {
    if (!sig.signing_time) return;
    std::time_t now = std::time(nullptr);
    if (*sig.signing_time > now + 3600)
      r.notes.push_back("signed " + std::to_string((*sig.signing_time - now) / 60) + " minutes in the future");
    if (options_.max_age_seconds > 0 && now - *sig.signing_time > options_.max_age_seconds) {
      r.too_old = true;
      r.notes.push_back("signed " + std::to_string((now - *sig.signing_time) / 86400) + " days ago, older than the " +
                        std::to_string(options_.max_age_seconds / 86400) + "-day maximum");
    }
  }

  // The newest signature was made for this transmission: its envelope
  // binding must match the envelope the verifier was given.
  Status CheckEnvelope(const ParsedSignature& sig, SignatureReport& r) {
    if (!sig.attrs.envelope) return Status::Ok();
    int newest = 0;
    for (const auto& l : all_) newest = std::max(newest, l.hop);
    if (r.hop != newest) return Status::Ok();  // bound to an earlier transmission
    // More than one Received field since signing (the receiving MTA adds
    // one): the message has travelled on since, e.g. re-sent by a list.
    int64_t received_now =
        std::count_if(scan_.fields.begin(), scan_.fields.end(), [](auto& f) { return f.NameIs("Received"); });
    if (sig.attrs.received && received_now - sig.attrs.received->count > 1) {
      r.notes.push_back("the envelope binding is for an earlier transmission; not checked");
      return Status::Ok();
    }
    if (!options_.envelope) {
      r.notes.push_back("the signature binds an SMTP envelope; none was given to check it");
      return Status::Ok();
    }
    const Envelope& env = *options_.envelope;
    EnvelopeBinding now = BindEnvelope(sig.attrs.envelope->alg, env.mail_from, env.rcpt_to);
    if (!env.mail_from.empty() && now.mail_from != sig.attrs.envelope->mail_from)
      return Status::Malformed("MAIL FROM differs from the envelope the signer sent to (a replay?)");
    if (!env.rcpt_to.empty() && !RecipientsBound(*sig.attrs.envelope, now))
      return Status::Malformed("RCPT TO differs from the envelope the signer sent to (a replay?)");
    r.notes.push_back("envelope matches the one signed");
    return Status::Ok();
  }

  // Content digest, headers, parts and Received against the message now.
  void CompareContent(const Located& loc, const ParsedSignature& sig, SignatureReport& r) {
    const std::vector<std::string>* digests = ContentDigests(loc, all_, scan_, &r.content_length);
    size_t spec =
        static_cast<size_t>(std::find(scan_.specs.begin(), scan_.specs.end(), ContentDigestSpec{r.canon, sig.digest}) -
                            scan_.specs.begin());
    r.content_intact = spec < digests->size() && (*digests)[spec] == sig.message_digest;
    bool v11 = !sig.attrs.profile.empty();
    r.profile = v11 ? sig.attrs.profile : "MTAS/1.0";
    r.headers = CompareHeaders(sig.attrs.headers, v11 ? sig.attrs.header_counts : LegacyCounts(sig.attrs.headers),
                               scan_.fields, r.canon);
    CompareParts(sig.attrs.parts, v11 ? &sig.attrs.part_fields : nullptr, scan_.body.parts, sig.digest, r.canon,
                 &r.parts, &r.added_parts, &r.part_tree_intact);
    if (v11 && !scan_.body.multipart) TopLevelReencoding(r);
    if (v11) {
      r.signed_previous_hops = sig.attrs.previous_hops;
      std::vector<std::string> below;
      for (const auto& l : all_)
        if (l.hop > 0 && l.hop < loc.hop) below.push_back(l.msgid);
      r.hop_chain_intact = below == sig.attrs.previous_hops;
    } else {
      r.notes.push_back("an MTAS/1.0 signature: part header fields and the hops before it are not signed");
    }
    if (sig.attrs.received) {
      r.received_count = sig.attrs.received->count;
      auto now = ComputeReceivedHash(scan_.fields, sig.attrs.received->alg, sig.attrs.received->count);
      r.received_intact = now && now->digest == sig.attrs.received->digest;
    }
  }

  // A single-part body's transfer encoding is a field of the message
  // header: when only it changed and the part decodes, strictly, to what
  // was signed, the body was re-encoded in transit.
  void TopLevelReencoding(SignatureReport& r) const {
    HeaderReport* cte = nullptr;
    for (auto& h : r.headers)
      if (h.status != HeaderStatus::kSame && EqualsIgnoreCase(h.name, "Content-Transfer-Encoding")) cte = &h;
    if (!cte || r.parts.size() != 1 || r.parts[0].path != "1" ||
        (r.parts[0].status != PartStatus::kSame && r.parts[0].status != PartStatus::kAppended))
      return;
    if (scan_.body.parts.size() != 1 || scan_.body.parts[0].lenient_decode) return;
    std::string was = TransferEncodingName(cte->status == HeaderStatus::kAdded ? "" : cte->signed_value);
    std::string now = TransferEncodingName(cte->status == HeaderStatus::kRemoved ? "" : cte->current_value);
    // Only one instance then and now: two would be ambiguous anyway.
    size_t instances =
        static_cast<size_t>(std::count_if(scan_.fields.begin(), scan_.fields.end(),
                                          [](const HeaderField& f) { return f.NameIs("Content-Transfer-Encoding"); }));
    if (was.empty() || now.empty() || instances > 1) return;
    r.parts[0].reencoded = was + "->" + now;
    if (r.parts[0].status == PartStatus::kSame) r.parts[0].status = PartStatus::kReencoded;
    cte->status = HeaderStatus::kReencoded;
  }

  static SignatureReport Outcome(SignatureReport& r, SigResult result, std::string reason) {
    r.result = result;
    r.reason = std::move(reason);
    return std::move(r);
  }
  const VerifyOptions& options_;
  const Scan& scan_;
  const std::vector<Located>& all_;
  int* budget_;                             // network lookups left for this message
  int service_budget_ = kMaxServiceVisits;  // service entries left for this message, cached or not
};

int Rank(SigResult r) {
  switch (r) {
    case SigResult::kFail:
      return 6;
    case SigResult::kPermError:
      return 5;
    case SigResult::kTempError:
      return 4;
    case SigResult::kPartial:
      return 3;
    case SigResult::kNeutral:
      return 2;
    case SigResult::kPass:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

std::string_view ResultName(SigResult r) {
  switch (r) {
    case SigResult::kPass:
      return "pass";
    case SigResult::kPartial:
      return "partial";
    case SigResult::kFail:
      return "fail";
    case SigResult::kNeutral:
      return "neutral";
    case SigResult::kTempError:
      return "temperror";
    case SigResult::kPermError:
      return "permerror";
    case SigResult::kNone:
      return "none";
  }
  return "none";
}

std::string_view HeaderStatusName(HeaderStatus s) {
  switch (s) {
    case HeaderStatus::kSame:
      return "same";
    case HeaderStatus::kReencoded:
      return "re-encoded";
    case HeaderStatus::kChanged:
      return "changed";
    case HeaderStatus::kRemoved:
      return "removed";
    case HeaderStatus::kAdded:
      return "added";
  }
  return "changed";
}

std::string_view PartStatusName(PartStatus s) {
  switch (s) {
    case PartStatus::kSame:
      return "same";
    case PartStatus::kReencoded:
      return "re-encoded";
    case PartStatus::kAppended:
      return "appended";
    case PartStatus::kInserted:
      return "inserted";
    case PartStatus::kMoved:
      return "moved";
    case PartStatus::kChanged:
      return "changed";
    case PartStatus::kRemoved:
      return "removed";
  }
  return "changed";
}

int ExitStatusFor(SigResult overall) {
  switch (overall) {
    case SigResult::kPass:
      return 0;
    case SigResult::kFail:
      return 1;
    case SigResult::kNone:
      return 2;
    case SigResult::kTempError:
      return 3;
    case SigResult::kPermError:
      return 4;
    case SigResult::kPartial:
      return 5;
    case SigResult::kNeutral:
      return 6;
  }
  return 4;
}

namespace {

// A note that repeats (one per field past a limit, one per unreadable
// field) is reported once, with its count: crafted input must not make the
// report grow with it.
void CollapseRepeats(std::vector<std::string>* notes) {
  std::vector<std::string> out;
  std::map<std::string, size_t> seen;  // note -> index in out
  std::vector<size_t> counts;
  for (auto& n : *notes) {
    auto [it, fresh] = seen.emplace(n, out.size());
    if (fresh) {
      out.push_back(std::move(n));
      counts.push_back(1);
    } else {
      ++counts[it->second];
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (counts[i] > 1) out[i] += " (" + std::to_string(counts[i]) + " times)";
  *notes = std::move(out);
}

}  // namespace

namespace {

// Carriers found without a tracking header get their hop number from their
// signed chain: an MTAS/1.1 signature after k hops is hop k + 1, and so do
// the readable tracked ones then. That needs every readable signature to
// carry the chain; otherwise, and for a signature that cannot be read, an
// untracked carrier stays unplaced (hop 0, a permerror), as an MTAS/1.0
// message requires. A tracked hop that cannot be read keeps its place.
void PlaceUntracked(std::vector<Located>* located, std::vector<Result<ParsedSignature>>* parsed) {
  auto& loc = *located;
  if (std::none_of(loc.begin(), loc.end(), [](const Located& l) { return l.untracked; })) return;
  bool chained = true;
  for (size_t i = 0; i < loc.size(); ++i)
    if (loc[i].link_error.empty() && (*parsed)[i].ok() && (*parsed)[i]->attrs.profile.empty()) chained = false;
  for (size_t i = 0; i < loc.size(); ++i) {
    Located& l = loc[i];
    bool readable = l.link_error.empty() && (*parsed)[i].ok();
    if (chained && readable) {
      l.hop = static_cast<int>((*parsed)[i]->attrs.previous_hops.size()) + 1;
      continue;
    }
    if (!l.untracked) continue;  // a tracked hop that cannot be read keeps its place
    l.hop = 0;
    if (l.link_error.empty()) {
      l.link_error = (l.carrier == Carrier::kHeader ? "MTAS-Signature for msgid " : "postal-data entity for msgid ") +
                     l.msgid + " has no tracking header";
      (*parsed)[i] = Status::Malformed(l.link_error);
    }
  }
  if (!chained) return;
  // Report order: by hop, the unplaced last.
  std::vector<size_t> order(loc.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    int ha = loc[a].hop > 0 ? loc[a].hop : std::numeric_limits<int>::max();
    int hb = loc[b].hop > 0 ? loc[b].hop : std::numeric_limits<int>::max();
    return ha < hb;
  });
  std::vector<Located> l2;
  std::vector<Result<ParsedSignature>> p2;
  for (size_t i : order) {
    l2.push_back(std::move(loc[i]));
    p2.push_back(std::move((*parsed)[i]));
  }
  loc = std::move(l2);
  *parsed = std::move(p2);
}

}  // namespace

namespace {

// Answers for one signer with the key the outer verification found, so
// that checking a rebuilt message needs no lookup.
class FoundKeyResolver final : public KeyResolver {
 public:
  FoundKeyResolver(std::string signer, KeyLookup key) : signer_(std::move(signer)), key_(std::move(key)) {}
  KeyLookup Resolve(const KeyRequest& request) override {
    // Only for the SignerInfo it verified: the hop's others were checked
    // by the outer verification and are not checked again.
    if (EqualsIgnoreCase(request.signer, signer_) && (!request.verifies || request.verifies(key_.key))) return key_;
    KeyLookup none;
    none.reason = "not the key being rebuilt with";
    return none;
  }

 private:
  std::string signer_;
  KeyLookup key_;
};

const HeaderField* TrackingField(const Scan& scan, const std::string& msgid) {
  for (const auto& f : scan.fields)
    if (f.NameIs(kTrackingName))
      if (auto t = ParseTracking(f.value()); t.ok() && t->msgid == msgid) return &f;
  return nullptr;
}

// Plans rebuilding what located[i] signed and checks the rebuilt message:
// the plan when that hop passes on it.
Result<RestorePlan> Rebuild(MessageSource& source, const Scan& scan, const std::vector<Located>& located, size_t i,
                            const ParsedSignature& sig, const SignatureReport& r, const KeyLookup& key,
                            const VerifyOptions& options) {
  HopToRestore hop{sig, r, TrackingField(scan, located[i].msgid), {}};
  for (const auto& l : located)
    if (l.hop > located[i].hop) hop.later_msgids.push_back(l.msgid);
  auto plan = PlanRestore(source, ScannedMessage{scan.fields, scan.body_offset, scan.body, scan.eol}, hop);
  if (!plan.ok()) return plan.status();
  RestoredSource rebuilt(source, plan->replacements);
  FoundKeyResolver resolver(r.signer, key);
  VerifyOptions inner = options;
  inner.resolver = &resolver;
  inner.recover = false;
  inner.look_inside_wrapped = false;
  inner.envelope.reset();  // it bound a transmission of the edited message
  auto checked = Verifier(inner).Verify(rebuilt);
  if (!checked.ok()) return checked.status();
  for (const auto& s : checked->signatures) {
    if (s.msgid != r.msgid) continue;
    if (s.result == SigResult::kPass) return plan;
    return Status::Unsupported("the rebuilt message gives " + std::string(ResultName(s.result)) + ": " + s.reason);
  }
  return Status::Unsupported("the rebuilt message has lost the signature");
}

// The hop whose From a later hop rewrote and signs for: that later hop's
// signer, or "" (a list's DMARC mitigation: From becomes the list's).
std::string RewriterOfFrom(const std::vector<SignatureReport>& reports, size_t i, const Scan& scan) {
  auto domains = FromDomains(scan.fields);
  if (!domains.ok() || domains->size() != 1) return "";
  std::string from_org = OrganizationalDomain((*domains)[0]);
  for (const auto& later : reports)
    if (later.hop > reports[i].hop && later.result == SigResult::kPass &&
        EqualsIgnoreCase(OrganizationalDomain(later.signer), from_org))
      return later.signer;
  return "";
}

}  // namespace

Result<VerifyReport> Verifier::Verify(MessageSource& source) const { return Check(source, 0, nullptr); }

Result<VerifyReport> Verifier::Restore(MessageSource& source, int hop, ByteSink& out) const {
  RestorePlan plan;
  auto report = Check(source, hop, &plan);
  if (!report.ok()) return report.status();
  RestoredSource rebuilt(source, std::move(plan.replacements));
  MTAS_RETURN_IF_ERROR(rebuilt.Rewind());
  MTAS_RETURN_IF_ERROR(ForEachChunk(rebuilt, [&](const char* p, size_t n) { out.Write(p, n); }));
  return report;
}

Result<VerifyReport> Verifier::Check(MessageSource& source, int restore_hop, RestorePlan* restored) const {
  auto scan = ScanMessage(source, nullptr);
  if (!scan.ok()) return scan.status();
  VerifyReport report;
  report.notes = scan->warnings;
  if (!scan->body.structure_error.empty()) report.notes.push_back(scan->body.structure_error);
  std::vector<Located> located = LocateSignatures(*scan, &report.notes);

  std::vector<Result<ParsedSignature>> parsed;
  std::vector<ContentDigestSpec> needed = scan->specs;
  bool second_pass = false;
  for (auto& loc : located) {
    loc.der = Base64Decode(loc.base64);
    parsed.push_back(loc.link_error.empty() ? ParseSignature(loc.der)
                                            : Result<ParsedSignature>(Status::Malformed(loc.link_error)));
    if (parsed.back().ok()) {
      ContentDigestSpec s = SpecOf(*parsed.back());
      if (std::find(needed.begin(), needed.end(), s) == needed.end()) {
        needed.push_back(s);
        second_pass = true;
      }
    }
  }
  // A signed text part that is longer now: was text appended to it? The
  // digest of its signed length, computed on a second reading, tells.
  std::vector<PrefixRequest> prefixes;
  for (const auto& sig : parsed) {
    if (!sig.ok() || sig->attrs.profile.empty()) continue;
    for (const auto& signed_part : sig->attrs.part_fields) {
      if (signed_part.length <= 0 || prefixes.size() >= kMaxPrefixRequests) continue;
      for (const auto& now : scan->body.parts) {
        if (now.path != signed_part.path || now.container || now.content_type.rfind("text/", 0) != 0 ||
            now.length <= static_cast<uint64_t>(signed_part.length))
          continue;
        AddUnique(prefixes, PrefixRequest{now.path, static_cast<uint64_t>(signed_part.length), sig->digest});
        // Inserted before the closing lines: the content up to the k-th
        // last of them, when the part still ends with them.
        for (size_t k = 1; k <= signed_part.heads.size() && prefixes.size() < kMaxPrefixRequests; ++k) {
          std::string_view tail = ClosingLines(signed_part.closing, k);
          if (EndsWith(now.last_bytes, tail))
            AddUnique(prefixes,
                      PrefixRequest{now.path, static_cast<uint64_t>(signed_part.length) - tail.size(), sig->digest});
        }
      }
    }
  }
  if (second_pass || !prefixes.empty()) {  // what pass 1 did not compute: read the message again
    auto again = ScanMessage(source, &needed, &prefixes);
    if (!again.ok()) return again.status();
    scan = std::move(again);
  }

  PlaceUntracked(&located, &parsed);

  int budget = options_.max_lookups_per_message;
  SignatureCheck check(options_, *scan, located, &budget);
  std::vector<SignatureCheck::Found> found(located.size());
  for (size_t i = 0; i < located.size(); ++i) report.signatures.push_back(check.Run(located[i], parsed[i], &found[i]));

  // What a partial hop signed, rebuilt by undoing the edits found, and
  // checked: recovered. A From that a later hop rewrote and signs for (a
  // list's DMARC mitigation) is such an edit too, when the rest can be
  // undone: the hop is then partial, not fail.
  for (size_t i = 0; i < located.size(); ++i) {
    SignatureReport& r = report.signatures[i];
    bool asked = restore_hop != 0 && r.hop == restore_hop;
    if (!(options_.recover || asked) || !found[i].valid || r.profile != kProfile11) continue;
    std::string rewriter;
    if (r.result == SigResult::kFail && found[i].from_changed) rewriter = RewriterOfFrom(report.signatures, i, *scan);
    if (r.result != SigResult::kPartial && rewriter.empty() && !(asked && r.result == SigResult::kPass)) continue;
    auto plan = Rebuild(source, *scan, located, i, *parsed[i], r, found[i].key, options_);
    if (!plan.ok()) {
      if (r.result == SigResult::kPartial) r.not_recovered = plan.status().message();
      continue;
    }
    if (r.result != SigResult::kPass) {
      r.recovered = true;
      r.edits = plan->edits;
      if (!rewriter.empty()) {
        r.result = SigResult::kPartial;
        r.reason = "From rewritten by " + rewriter + ", which signs for the new From's domain; " + Summarize(r);
      }
      r.reason += "; original recovered";
    }
    if (asked && restored) *restored = std::move(*plan);
  }
  if (restore_hop != 0) {
    auto it = std::find_if(report.signatures.begin(), report.signatures.end(),
                           [&](const SignatureReport& r) { return r.hop == restore_hop; });
    if (it == report.signatures.end()) return Status::NotFound("no hop " + std::to_string(restore_hop));
    if (it->result != SigResult::kPass && !it->recovered)
      return Status::InvalidArgument(
          "hop " + std::to_string(restore_hop) + " (" + std::string(ResultName(it->result)) +
          ") cannot be rebuilt: " + (it->not_recovered.empty() ? it->reason : it->not_recovered));
  }

  for (const auto& s : report.signatures)
    if (Rank(s.result) > Rank(report.result)) report.result = s.result;
  report.body_offset = scan->body_offset;
  // A signed original wrapped in a message/rfc822 part, verified on its own
  // (one level deep: the inner verifier does not look further).
  if (options_.look_inside_wrapped && restore_hop == 0)
    for (const PartInfo& p : scan->body.parts) {
      if (p.container || p.content_type != "message/rfc822" || p.content_end <= p.content_begin) continue;
      if (report.wrapped.size() >= kMaxWrappedMessages) break;
      RangeSource inner(source, scan->body_offset + p.content_begin, scan->body_offset + p.content_end);
      VerifyOptions inner_options = options_;
      inner_options.look_inside_wrapped = false;
      inner_options.envelope.reset();  // the envelope was the outer message's
      auto r = Verifier(inner_options).Verify(inner);
      if (!r.ok()) return r.status();
      if (!r->signatures.empty()) report.wrapped.push_back({p.path, std::move(*r)});
    }
  CollapseRepeats(&report.notes);
  for (auto& s : report.signatures) CollapseRepeats(&s.notes);
  return report;
}

}  // namespace mtas
