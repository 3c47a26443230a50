// ASCII case folding. Internal header.
//
// Header field names, MIME tokens and tag names are ASCII and compare
// case-insensitively in ASCII only (RFC 5322 §1.2.2, RFC 2045 §5.1), whatever
// the process locale says; this is also a cheap inline, where std::tolower is
// a library call per byte.
#pragma once

#include <span>
#include <string_view>

namespace mtas {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// The bytes of `s` as octets (0..255), for loops that compare or index by
// byte value whatever the sign of char.
inline std::span<const unsigned char> AsBytes(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

}  // namespace mtas
