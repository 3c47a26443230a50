// OpenPGP keys (RFC 4880), read through librnp loaded at first use: what the
// http:pgp-keyserver key method finds on an HKP server, and the secret key
// `mtas keygen --from-openpgp` turns into the PEM key mtas signs with.
//
// RNP (the OpenPGP library of Thunderbird) checks every self-signature and
// binding signature; mtas only picks the key a fingerprint names and hands
// its public (or secret) numbers to OpenSSL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mtas/keys.h"
#include "mtas/status.h"

namespace mtas {

// Upper-case hex of a version 4 fingerprint: 40 digits, an optional "0x"
// prefix dropped. Malformed otherwise.
Result<std::string> NormalizeOpenPgpFingerprint(std::string_view text);

struct OpenPgpKey {
  std::string fingerprint;  // 40 upper-case hex digits
  PublicKey key;
  // The domains of the addresses in the valid, unrevoked user IDs of the
  // key (of its primary key for a subkey), lower case: whom the key's owner
  // says it belongs to. Never empty: a key without one is refused.
  std::vector<std::string> user_id_domains;
  std::string secret_pem;  // ReadOpenPgpSecretKey only: PKCS#8 PEM
};

// The key `fingerprint` names (a primary key or a subkey) among the
// transferable public or secret keys in `data` (binary or ASCII-armoured, at
// most 1 MB), as mtas can verify with it.
// Errors: kMalformed (not OpenPGP data); kNotFound (no key with that
// fingerprint); kInvalidArgument (the key is there but unusable: a
// self-signature does not verify, revoked, expired, not allowed to sign, or
// no user ID with an address); kUnsupported (an algorithm mtas does not
// verify with: mtas takes RSA, Ed25519 and ECDSA P-256/P-384).
// Thread safety: reentrant.
Result<OpenPgpKey> ReadOpenPgpKey(std::string_view data, std::string_view fingerprint);

// As ReadOpenPgpKey, for a transferable secret key as `gpg
// --export-secret-keys` writes it, without a passphrase; also fills
// secret_pem. An empty `fingerprint` takes the only key that may sign.
Result<OpenPgpKey> ReadOpenPgpSecretKey(std::string_view data, std::string_view fingerprint);

}  // namespace mtas
