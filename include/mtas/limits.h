// Bounds a verifier and signer enforce on untrusted input (spec §7).
#pragma once

#include <cstddef>

namespace mtas::limits {

inline constexpr size_t kMaxSignatures = 50;            // examined per message
inline constexpr size_t kMaxMimeDepth = 32;             // nested multiparts
inline constexpr size_t kMaxParts = 1000;               // leaf + container parts indexed
inline constexpr size_t kMaxHeaderField = 64 * 1024;    // one header field, bytes
inline constexpr size_t kMaxHeaderSection = 4 << 20;    // all header fields kept in memory
inline constexpr size_t kMaxHeaderFields = 10000;       // header fields indexed (Postfix allows 100 KB of header)
inline constexpr size_t kMaxSignatureBlob = 64 * 1024;  // DER CMS
inline constexpr size_t kMaxBoundaryLine = 998;         // longer lines are never boundaries
inline constexpr size_t kMaxPartHeader = 64 * 1024;     // header block of one MIME part

}  // namespace mtas::limits
