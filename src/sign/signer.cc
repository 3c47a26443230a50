// Signing one message: carrier choice, wrapping, attributes, signature.
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <mutex>

#include "carrier/carrier.h"
#include "message/received.h"
#include "mtas/limits.h"
#include "mtas/sign.h"
#include "mtas/signature.h"

namespace mtas {
namespace {

// Fields never signed (spec §3.1 "Headers under the signature").
bool NeverSigned(std::string_view name) {
  for (std::string_view n :
       {"X-PostalTracking", "MTAS-Signature", "MTAS-VerificationInfo", "Authentication-Results", "Received"})
    if (EqualsIgnoreCase(name, n)) return true;
  return false;
}

bool HasField(const std::vector<HeaderField>& fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(), [&](const HeaderField& f) { return f.NameIs(name); });
}

// A header field as this module builds one: parsed back so that signing and
// verifying read it the same way.
HeaderField MakeField(const std::string& raw) {
  HeaderField f;
  f.raw = raw;
  f.name_len = raw.find(':');
  return f;
}

}  // namespace

std::vector<std::string> DefaultSignedHeaders() {
  // Every field a reader displays or renders by. Their counts are signed too
  // (mtas.13), so an instance added later is a change even where none was.
  return {"From",
          "Sender",
          "Reply-To",
          "To",
          "Cc",
          "Subject",
          "Date",
          "Message-ID",
          "In-Reply-To",
          "References",
          "MIME-Version",
          "Content-Type",
          "Content-Transfer-Encoding",
          "Content-Disposition"};
}

namespace {
// Msgids are public tokens that must be unique, not secret. One RAND_bytes
// call costs about 3 µs (6 % of a 4 KB ECDSA signature), so random bytes
// are drawn 4 KiB at a time per thread and used 16 at a time. A forked
// child must not reuse its parent's batch: fork empties it in the child.
struct RandomPool {
  std::array<unsigned char, 4096> bytes{};
  size_t used = bytes.size();
};
thread_local RandomPool random_pool;
void EmptyRandomPool() { random_pool.used = random_pool.bytes.size(); }
}  // namespace

std::string NewMsgid() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static std::once_flag fork_hook;
  std::call_once(fork_hook, [] { pthread_atfork(nullptr, nullptr, EmptyRandomPool); });
  constexpr size_t kIdLength = 16;
  RandomPool& pool = random_pool;
  if (pool.used + kIdLength > pool.bytes.size()) {
    pool.used = 0;
    if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
      pool.used = pool.bytes.size() - kIdLength;  // no batch: draw these sixteen alone
      RAND_bytes(pool.bytes.data() + pool.used, static_cast<int>(kIdLength));
    }
  }
  std::string id;
  for (size_t i = 0; i < kIdLength; ++i) id.push_back(kAlphabet[pool.bytes[pool.used + i] % 36]);
  pool.used += kIdLength;
  return id;
}

Result<std::shared_ptr<const Signer>> Signer::Create(SigningKey key, SignOptions options) {
  return Create(std::vector<SigningKey>{std::move(key)}, std::move(options));
}

Result<std::shared_ptr<const Signer>> Signer::Create(std::vector<SigningKey> keys, SignOptions options) {
  if (options.signer.empty() || options.signer.find_first_of(" \t\r\n;\"") != std::string::npos)
    return Status::InvalidArgument("--signer must be the FQDN of the signing host");
  if (keys.empty() || keys.size() > kMaxSignerInfos)
    return Status::InvalidArgument("one to " + std::to_string(kMaxSignerInfos) + " keys sign a message");
  for (size_t i = 0; i < keys.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (keys[i].public_key().SubjectKeyId() == keys[j].public_key().SubjectKeyId())
        return Status::InvalidArgument("the same key is given twice");
  bool eddsa = std::any_of(keys.begin(), keys.end(),
                           [](const SigningKey& k) { return k.algorithm() == KeyAlgorithm::kEd25519; });
  DigestAlg digest = options.digest.value_or(eddsa ? DigestAlg::kSha512 : DigestAlg::kSha256);
  if (eddsa && digest != DigestAlg::kSha512)
    return Status::InvalidArgument(
        "Ed25519 signatures use SHA-512 (RFC 8419 "
        "§3.1); drop --digest or use sha512");
  if (digest == DigestAlg::kSha1 && !options.allow_sha1)
    return Status::InvalidArgument("SHA-1 is refused unless explicitly allowed");
  if (options.services.find_first_of("\"\r\n") != std::string::npos)
    return Status::InvalidArgument("--services must not contain quotes or line breaks");
  std::vector<std::string> headers;
  for (auto& h : options.headers)
    if (!h.empty() && !NeverSigned(h)) headers.push_back(h);
  options.headers = std::move(headers);
  return std::shared_ptr<const Signer>(new Signer(std::move(keys), std::move(options), digest));
}

std::unique_ptr<SignSession> Signer::Begin() const { return std::make_unique<SignSession>(*this); }

struct SignSession::Impl {
  const Signer& signer;
  HeaderScanner headers;
  std::optional<BodyScanner> body;
  MessageEdits edits;
  std::vector<HeaderField> out_fields;  // the header as it will be, prepended tracking fields aside
  Carrier planned = Carrier::kBody;
  std::string wrapped_type;
  char last_byte = '\n';
  char last_header_byte = '\n';  // the header section's last byte
  std::string header_end;        // what ends a header section that had no empty line
  bool body_seen = false;
  std::optional<Envelope> envelope;
  std::optional<std::string> verification_info;

  explicit Impl(const Signer& s) : signer(s) { edits.msgid = NewMsgid(); }

  void Write(const char* p, size_t n) {
    if (!headers.done()) {
      size_t used = headers.Write(p, n);
      if (used) last_header_byte = p[used - 1];
      p += used;
      n -= used;
      if (headers.done()) StartBody();
    }
    if (n) FeedBody(p, n);
  }

  void FeedBody(const char* p, size_t n) {
    if (!n) return;
    body->Write(p, n);
    last_byte = p[n - 1];
    body_seen = true;
  }

  // What ends the body's last line before we append to it: nothing after a
  // line feed, the missing LF after a final bare CR (else the CR and what we
  // append would be one line), the message's line end otherwise.
  std::string LineEndAfterBody() const {
    if (!body_seen || last_byte == '\n') return "";
    return last_byte == '\r' ? "\n" : edits.eol;
  }

  void StartBody() {
    const auto& fields = headers.fields();
    edits.eol = std::string(headers.eol());
    edits.body_offset = headers.body_offset();
    BodyScanner::Options opt = BodyOptionsFor(fields);

    // auto: the header carrier. Measured through real mailing-list managers
    // (tests/e2e/lists.sh, docs/performance.md "Which carrier survives"),
    // the MTAS-Signature field survived every tool, while Mailman's content
    // filter, rebuilding a one-part multipart as a single part, drops the
    // epilogue and a body carrier with it; the body carrier also breaks
    // DKIM body hashes and, on a single part, needs wrapping that readers
    // show. The body carrier is there on request.
    Carrier c = signer.options().carrier;
    if (c == Carrier::kAuto) c = Carrier::kHeader;
    planned = c;
    out_fields = fields;
    if (c == Carrier::kBody && !opt.top.IsMultipart()) Wrap(opt);

    opt.content_specs = {{signer.options().canon, signer.digest()}};
    opt.part_algs = {signer.digest()};
    opt.closing_alg = signer.digest();
    body.emplace(std::move(opt));
    if (!edits.body_prefix.empty()) {
      // A header section without its empty line gets one: that line end
      // separates header and body for the verifier; it is not body content.
      std::string_view prefix = edits.body_prefix;
      if (!headers.separator_seen()) prefix.remove_prefix(header_end.size());
      body->Write(prefix);
    }
    if (!headers.body_start().empty()) FeedBody(headers.body_start().data(), headers.body_start().size());
  }

  // Spec §2.2: the top-level Content-Type, -Transfer-Encoding and
  // -Disposition move into a single body part; the top becomes
  // multipart/mixed with the entity in its epilogue.
  void Wrap(BodyScanner::Options& opt) {
    const std::string& eol = edits.eol;
    std::string boundary = "----=_mtas_wrap_" + edits.msgid;
    std::string part_header;
    std::vector<HeaderField> kept;
    std::map<std::string, int> seen;
    for (const auto& f : out_fields) {
      std::string lname(f.name());
      for (char& ch : lname) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      int occurrence = ++seen[lname];
      if (lname == "content-type" || lname == "content-transfer-encoding" || lname == "content-disposition") {
        part_header += f.raw + eol;
        edits.removed.push_back({std::string(f.name()), occurrence, f.offset, f.length});
        if (lname == "content-type" && wrapped_type.empty()) wrapped_type = std::string(Trim(f.value()));
      } else {
        kept.push_back(f);
      }
    }
    // occurrence numbers count the fields left in place when earlier ones go
    std::map<std::string, int> removed_before;
    for (auto& r : edits.removed) {
      std::string lname = r.name;
      for (char& ch : lname) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.occurrence -= removed_before[lname]++;
    }
    if (wrapped_type.empty()) wrapped_type = "text/plain";
    std::vector<std::string> added = {"Content-Type: multipart/mixed; boundary=\"" + boundary + "\""};
    if (!HasField(out_fields, "MIME-Version")) added.push_back("MIME-Version: 1.0");
    out_fields.clear();
    for (const auto& a : added) out_fields.push_back(MakeField(a));
    out_fields.insert(out_fields.end(), kept.begin(), kept.end());
    edits.prepend = added;  // the tracking fields go above these in Finish
    // A header section without its empty line gets one, after ending its
    // last line (a final bare CR gets its LF): else readers could take the
    // first delimiter for a header line, or the CR for a line of its own.
    if (!headers.separator_seen())
      header_end = (last_header_byte == '\n' ? "" : last_header_byte == '\r' ? "\n" : eol) + eol;
    edits.body_prefix = header_end + "--" + boundary + eol + part_header + eol;
    edits.wrapped = true;
    opt.top = ContentType::Parse("multipart/mixed; boundary=\"" + boundary + "\"");
    opt.top_encoding = TransferEncoding::kIdentity;
  }

  // Messages whose signature no verifier could check are refused rather
  // than signed (each case is in tests/bad/).
  Status CheckSignable() const {
    const auto& fields = headers.fields();
    if (headers.section_full())
      return Status::InvalidArgument("the header section exceeds the limit verifiers index (" +
                                     std::to_string(limits::kMaxHeaderFields) + " fields, " +
                                     std::to_string(limits::kMaxHeaderSection >> 20) + " MiB)");
    const std::string& start = headers.body_start();
    if (fields.empty() && !start.empty() && (start[0] == ' ' || start[0] == '\t'))
      return Status::InvalidArgument("the message starts with a folded line, which would join the field we add");
    size_t hops = static_cast<size_t>(
        std::count_if(fields.begin(), fields.end(), [](auto& f) { return f.NameIs(kTrackingName); }));
    if (hops >= limits::kMaxSignatures)
      return Status::InvalidArgument("the message already carries " + std::to_string(hops) +
                                     " tracking headers; verifiers examine " + std::to_string(limits::kMaxSignatures));
    // Verifiers refuse a signed From when there are several (the defence
    // against a second, unsigned From).
    size_t froms = static_cast<size_t>(
        std::count_if(out_fields.begin(), out_fields.end(), [](auto& f) { return f.NameIs("From"); }));
    bool signs_from = std::any_of(signer.options().headers.begin(), signer.options().headers.end(),
                                  [](auto& h) { return EqualsIgnoreCase(h, "From"); });
    if (signs_from && froms > 1)
      return Status::InvalidArgument("the message has " + std::to_string(froms) +
                                     " From fields (RFC 5322 allows one); its signature could not verify");
    if (!headers.ambiguity().empty())
      return Status::InvalidArgument("readers would read this header differently (" + headers.ambiguity() +
                                     "); its signature could not verify");
    return Status::Ok();
  }

  // The hops this signature signs after (mtas.15) are the tracking headers
  // below it. A verifier places a carrier no tracking header names by its
  // own chain, which this signer cannot see without reading every
  // signature; and it cannot place a tracking header it cannot read. Either
  // would leave the new signature's chain unlike what verifiers find, so
  // such a message is not signed.
  Status CheckHopsLinked(const BodyIndex& index) const {
    std::vector<std::string> tracked;
    for (const auto& f : out_fields) {
      if (!f.NameIs(kTrackingName)) continue;
      auto t = ParseTracking(f.value());
      if (!t.ok())
        return Status::InvalidArgument("a tracking header cannot be read (" + t.status().message() +
                                       "), so the hops before this one cannot be signed in order");
      tracked.push_back(t->msgid);
    }
    auto named = [&](const std::string& msgid) {
      return std::find(tracked.begin(), tracked.end(), msgid) != tracked.end();
    };
    for (const auto& f : out_fields)
      if (f.NameIs(kSignatureFieldName) && !named(SignatureFieldMsgid(f.value())))
        return Status::InvalidArgument(
            "an MTAS-Signature field that no tracking header names (stripped in "
            "transit?): the hops before this one cannot be signed in order");
    for (const auto& e : index.entities)
      if (!named(e.msgid))
        return Status::InvalidArgument(
            "a postal-data entity that no tracking header names (stripped in transit?): "
            "the hops before this one cannot be signed in order");
    return Status::Ok();
  }

  // What verifiers refuse to vouch for in the body (limits, ambiguity).
  static Status CheckBodySignable(const BodyIndex& index) {
    if (!index.limit_hit.empty())
      return Status::InvalidArgument("the body exceeds what verifiers index (" + index.limit_hit + ")");
    if (!index.ambiguity.empty())
      return Status::InvalidArgument("readers would read this body's MIME structure differently (" + index.ambiguity +
                                     ")");
    return Status::Ok();
  }

  Result<MessageEdits> Finish() {
    if (!headers.done()) {
      headers.Finish();
      StartBody();
    }
    const std::string& eol = edits.eol;
    std::string boundary = "----=_mtas_wrap_" + edits.msgid;
    if (edits.wrapped) {
      // RFC 2046 §5.1.1: the line end before a delimiter belongs to the
      // delimiter, so a body that ends in a line end needs one more for
      // readers to see that line end in the wrapped part.
      std::string closing = (body_seen && last_byte == '\n' ? eol : LineEndAfterBody()) + "--" + boundary + "--" + eol;
      body->Write(closing);
      edits.body_suffix = closing;
    }
    BodyIndex index = body->Finish();

    Carrier carrier = planned;
    // An entity appended after an unclosed multipart or an unclosed
    // postal-data entity would be read as part of it, never found.
    bool open_entity = std::any_of(index.entities.begin(), index.entities.end(), [](auto& e) { return !e.complete; });
    if (carrier == Carrier::kBody && (!index.top_closed || open_entity)) {
      if (signer.options().carrier == Carrier::kBody)
        return Status::InvalidArgument(std::string(open_entity ? "an earlier postal-data entity is not closed"
                                                               : "the multipart body has no closing delimiter") +
                                       ", so the body carrier has no epilogue to go in; use --carrier "
                                       "header");
      carrier = Carrier::kHeader;
    }
    edits.carrier = carrier;
    if (Status st = CheckSignable(); !st.ok()) return st;
    if (Status st = CheckBodySignable(index); !st.ok()) return st;
    if (Status st = CheckHopsLinked(index); !st.ok()) return st;

    SignatureRequest req;
    req.digest = signer.digest();
    req.content_digest = index.final_digests.at(0);
    req.signing_time = std::time(nullptr);
    req.embed_certificate = signer.options().embed_certificate;
    MtasAttributes& a = req.attrs;
    a.msgid = edits.msgid;
    a.profile = kProfile11;
    for (const auto& name : signer.options().headers) {
      bool listed = std::any_of(a.header_counts.begin(), a.header_counts.end(),
                                [&](const HeaderCount& c) { return EqualsIgnoreCase(c.name, name); });
      if (!listed)
        a.header_counts.push_back({name, std::count_if(out_fields.begin(), out_fields.end(),
                                                       [&](const HeaderField& f) { return f.NameIs(name); })});
    }
    for (const auto& f : out_fields)
      if (std::any_of(a.header_counts.begin(), a.header_counts.end(),
                      [&](const HeaderCount& c) { return f.NameIs(c.name); }))
        a.headers.push_back(NormalizeLineEnds(f.raw));
    // The hops before this one, oldest (bottom-most) first.
    for (auto f = out_fields.rbegin(); f != out_fields.rend(); ++f)
      if (f->NameIs(kTrackingName)) {
        auto t = ParseTracking(f->value());
        a.previous_hops.push_back(t.ok() ? t->msgid : "");
      }
    for (const auto& p : index.parts)
      a.part_fields.push_back({p.path, p.header_fields, static_cast<int64_t>(p.trailing_empty_lines),
                               static_cast<int64_t>(p.length), p.closing, p.heads});
    a.received = ComputeReceivedHash(out_fields, signer.digest());
    for (const auto& p : index.parts)
      if (!p.container) a.parts.push_back({p.path, p.content_type, p.digests[static_cast<size_t>(signer.digest())]});
    a.services = signer.options().services;
    a.signer = signer.options().signer;
    a.canonicalization = std::string(CanonName(signer.options().canon));
    a.verification_info = verification_info.value_or(signer.options().verification_info);
    if (edits.wrapped) a.wrapped = wrapped_type;
    a.carrier = std::string(CarrierName(carrier));
    if (envelope) a.envelope = BindEnvelope(signer.digest(), envelope->mail_from, envelope->rcpt_to);

    auto der = BuildSignature(signer.keys(), req);
    if (!der.ok()) return der.status();
    if (der->size() > limits::kMaxSignatureBlob)
      return Status::InvalidArgument("the signature would be " + std::to_string(der->size()) + " bytes, over the " +
                                     std::to_string(limits::kMaxSignatureBlob) +
                                     " verifiers read (too many parts or signed header bytes)");

    std::vector<std::string> top = {TrackingField(edits.msgid, carrier, signer.digest(), signer.options().canon)};
    if (carrier == Carrier::kHeader) {
      top.push_back(SignatureHeaderField(edits.msgid, signer.options().services, *der, eol));
      if (top.back().size() > limits::kMaxHeaderField)
        return Status::InvalidArgument("the MTAS-Signature field would be " + std::to_string(top.back().size()) +
                                       " bytes, over the " + std::to_string(limits::kMaxHeaderField) +
                                       " verifiers read in a field; use --carrier body");
    } else {
      if (!edits.wrapped) edits.body_suffix += LineEndAfterBody();
      edits.body_suffix += PostalDataEntity(edits.msgid, signer.digest(), signer.options().services, *der, eol);
    }
    edits.prepend.insert(edits.prepend.begin(), top.begin(), top.end());
    return std::move(edits);
  }

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
      s.remove_suffix(1);
    return s;
  }
};

SignSession::SignSession(const Signer& signer) : impl_(std::make_unique<Impl>(signer)) {}
SignSession::~SignSession() = default;
void SignSession::Write(const char* data, size_t len) { impl_->Write(data, len); }
void SignSession::SetEnvelope(const Envelope& envelope) { impl_->envelope = envelope; }
void SignSession::SetVerificationInfo(const std::string& text) { impl_->verification_info = text; }
Result<MessageEdits> SignSession::Finish() { return impl_->Finish(); }

Result<MessageEdits> SignMessage(const Signer& signer, MessageSource& source, const Envelope* envelope) {
  MTAS_RETURN_IF_ERROR(source.Rewind());  // from the first byte, whatever read it before
  auto session = signer.Begin();
  if (envelope) session->SetEnvelope(*envelope);
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, [&](const char* p, size_t n) { session->Write(p, n); }));
  return session->Finish();
}

}  // namespace mtas
