// The object identifiers a signature names, known by their DER content
// octets, so that reading one is a comparison of a few bytes and not an
// OpenSSL object (an allocation and a table search) per identifier.
// Internal header.
#pragma once

#include <string>
#include <string_view>

#include "mtas/digest.h"
#include "mtas/status.h"

namespace mtas {

// The NID of the identifier with content octets `oid`, among those a
// signature uses (the CMS content and attribute types, the digests and the
// signature algorithms); NID_undef for any other.
int NidOfOid(std::string_view oid);

// The digest algorithm `oid` names: kMalformed naming it when it is none
// this library computes.
Result<DigestAlg> DigestOfOid(std::string_view oid);

// `oid` as OpenSSL names it (short name, else dotted), for messages.
std::string OidName(std::string_view oid);

}  // namespace mtas
