// Signing keys that stay in a token: a PKCS#11 URI (RFC 7512,
// "pkcs11:token=…;object=…;pin-source=file:…") loaded through OpenSSL's
// pkcs11 engine (libp11; Debian: libengine-pkcs11-openssl). The private key
// never leaves the token: the EVP_PKEY is a handle, and every signature is
// made by the token. Internal header.
#pragma once

#include <openssl/types.h>

#include <string>

#include "mtas/status.h"

namespace mtas {

inline bool IsPkcs11Uri(const std::string& path) { return path.rfind("pkcs11:", 0) == 0; }

// The key the URI names, or kInvalidArgument saying what failed (no engine,
// no such object, a wrong PIN). The engine, loaded once per process, uses
// p11-kit's proxy module unless MTAS_PKCS11_MODULE names a module.
Result<EVP_PKEY*> LoadPkcs11Key(const std::string& uri);

}  // namespace mtas
