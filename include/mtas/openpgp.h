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

// The domain of the one address a user ID is (RFC 5322 mailbox syntax:
// "Name <local@domain>" or "local@domain"), lower case; "" when it is not
// exactly one mailbox (comments are dropped, quoted local parts kept whole).
std::string OpenPgpUserIdDomain(std::string_view user_id);

// The HKP lookup of a key by fingerprint (draft-shaw-openpgp-hkp):
// SERVER/pks/lookup?op=get&options=mr&search=0xFINGERPRINT. SERVER is
// hkp://HOST[:PORT] (http, port 11371), hkps://HOST[:PORT] (https), or
// http[s]://HOST[:PORT]; the host a plain name. kMalformed otherwise.
inline constexpr const char* kHkpLookup = "/pks/lookup?op=get&options=mr&search=0x";
Result<std::string> HkpLookupUrl(std::string_view server, std::string_view fingerprint);

struct OpenPgpKey {
  std::string fingerprint;  // 40 upper-case hex digits
  PublicKey key;
  // The domains of the addresses in the valid, unrevoked user IDs of the
  // key (of its primary key for a subkey), lower case: whom the key's owner
  // says it belongs to. Never empty: a key without one is refused.
  std::vector<std::string> user_id_domains;
  std::string secret_pem;  // ReadOpenPgpSecretKey only: PKCS#8 PEM
};

// The key `fingerprint` names (a primary key or a subkey) in the
// transferable public or secret key in `data` (binary or ASCII-armoured, at
// most 1 MB), as mtas can verify with it. One key block of ordinary shape
// is read: one primary key, at most 16 subkeys, 32 user IDs and 256
// signatures, RSA of at most 8192 bits with an exponent under 2^33, no DSA
// and no other packets (librnp checks each self-signature, so these bound
// its work); anything else is kMalformed.
// Errors: kMalformed (not OpenPGP data); kNotFound (no key with that
// fingerprint); kInvalidArgument (the key is there but unusable: a
// self-signature does not verify, revoked, expired, not allowed to sign, or
// no user ID with an address); kUnsupported (an algorithm mtas does not
// verify with: mtas takes RSA, Ed25519 and ECDSA P-256).
// Thread safety: reentrant.
Result<OpenPgpKey> ReadOpenPgpKey(std::string_view data, std::string_view fingerprint);

// As ReadOpenPgpKey, for a transferable secret key as `gpg
// --export-secret-keys` writes it, without a passphrase; also fills
// secret_pem, checked to be the same key. An empty `fingerprint` takes the
// only key that may sign. RSA under 2048 bits is kInvalidArgument (mtas
// does not sign with it).
Result<OpenPgpKey> ReadOpenPgpSecretKey(std::string_view data, std::string_view fingerprint);

}  // namespace mtas
