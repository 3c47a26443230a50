// Domain names as mail policies see them.
#pragma once

#include <string>
#include <string_view>

namespace mtas {

// `s` lowercase (ASCII), without trailing dots.
std::string NormalizeDomain(std::string_view s);

// The organisational domain (RFC 7489 §3.2) of `domain`, lowercase, by the
// public suffix list when Debian's publicsuffix package is installed, else
// the last two labels. Thread-safe (the list is read once).
std::string OrganizationalDomain(std::string_view domain);

}  // namespace mtas
