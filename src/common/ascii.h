// ASCII case folding. Internal header.
//
// Header field names, MIME tokens and tag names are ASCII and compare
// case-insensitively in ASCII only (RFC 5322 §1.2.2, RFC 2045 §5.1), whatever
// the process locale says; this is also a cheap inline, where std::tolower is
// a library call per byte.
#pragma once

namespace mtas {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

}  // namespace mtas
