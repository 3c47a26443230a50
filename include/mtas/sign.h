// Signing (spec §2, §3): one Signer per identity, created once (key parsed
// once); one SignSession per message, fed in chunks as they arrive.
//
// The session does not rewrite the message. It returns MessageEdits: the
// header fields to prepend, and (body carrier) the bytes to append after the
// body. A milter applies them with its own calls; WriteSignedMessage applies
// them to a rewindable source. Signed output therefore equals the input
// byte for byte apart from the tracking header and the carrier.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtas/canon.h"
#include "mtas/carrier.h"
#include "mtas/digest.h"
#include "mtas/keys.h"
#include "mtas/message.h"
#include "mtas/signature.h"
#include "mtas/sink.h"
#include "mtas/source.h"
#include "mtas/status.h"

namespace mtas {

// The header fields signed by default (spec §3.1 mtas.2).
std::vector<std::string> DefaultSignedHeaders();

struct SignOptions {
  std::string signer;    // FQDN of this MTA (required)
  std::string services;  // verification services, spec §4 syntax
  Carrier carrier = Carrier::kAuto;
  Canon canon = Canon::kRelaxed;
  // Default: SHA-256; Ed25519 always uses SHA-512 (RFC 8419).
  std::optional<DigestAlg> digest;
  bool allow_sha1 = false;
  bool embed_certificate = false;
  std::vector<std::string> headers = DefaultSignedHeaders();
  std::string verification_info;  // when re-signing after verifying
};

// A header field the edits take out (wrapping moves it into the body part).
struct RemovedField {
  std::string name;
  int occurrence = 1;   // 1 = first field of that name, as smfi_chgheader counts
  uint64_t offset = 0;  // where it stands in the message, final line end included
  uint64_t length = 0;
};

struct MessageEdits {
  std::vector<std::string> prepend;   // fields to add at the top, top first; "Name: value", no final line end
  std::vector<RemovedField> removed;  // fields to take out
  std::string eol = "\r\n";           // the message's line end, used in everything added
  uint64_t body_offset = 0;           // where the original body starts in the message
  std::string body_prefix;            // before the original body (wrapping)
  std::string body_suffix;            // after the original body (closing + postal-data entity)
  std::string msgid;
  Carrier carrier = Carrier::kBody;  // the carrier used
  bool wrapped = false;
};

class SignSession;

// Thread safety: a Signer is immutable once created; share it (mtasd shares
// one per KeyTable entry across sessions). A SignSession is one message's
// and belongs to one thread at a time.
class Signer {
 public:
  // Several keys sign each message together, one SignerInfo each in one
  // signature (Ed25519 beside RSA, or an old key beside its successor
  // while verifiers' caches turn over). With an Ed25519 key among them
  // every key signs a SHA-512 digest (RFC 8419).
  static Result<std::shared_ptr<const Signer>> Create(std::vector<SigningKey> keys, SignOptions options);
  static Result<std::shared_ptr<const Signer>> Create(SigningKey key, SignOptions options);
  std::unique_ptr<SignSession> Begin() const;
  const SignOptions& options() const { return options_; }
  const std::vector<SigningKey>& keys() const { return keys_; }
  DigestAlg digest() const { return digest_; }

 private:
  Signer(std::vector<SigningKey> keys, SignOptions options, DigestAlg digest)
      : keys_(std::move(keys)), options_(std::move(options)), digest_(digest) {}
  std::vector<SigningKey> keys_;
  SignOptions options_;
  DigestAlg digest_;
};

class SignSession {
 public:
  explicit SignSession(const Signer& signer);
  ~SignSession();
  // Binds the signature to the envelope this hop sends the message with
  // (mtas.11); call before Finish().
  void SetEnvelope(const Envelope& envelope);
  // This hop's verification results of the earlier hops (mtas.8), when it
  // verified before signing; replaces SignOptions::verification_info.
  void SetVerificationInfo(const std::string& text);
  void Write(const char* data, size_t len);
  void Write(std::string_view s) { Write(s.data(), s.size()); }
  // Ends the message and makes the signature.
  Result<MessageEdits> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Signs everything `source` holds (rewinding it first).
Result<MessageEdits> SignMessage(const Signer& signer, MessageSource& source, const Envelope* envelope = nullptr);

// Writes `source` (from its first byte) with `edits` applied.
Status WriteSignedMessage(MessageSource& source, const MessageEdits& edits, ByteSink& out);

// A fresh msgid token: 16 characters of [A-Z0-9].
std::string NewMsgid();

}  // namespace mtas
