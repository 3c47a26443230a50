// Deterministic benchmark messages.
#pragma once

#include <cstddef>
#include <string>

namespace mtas::bench {

// A text/plain message of about `size` bytes (wrapped prose, CRLF).
std::string TextMessage(size_t size, unsigned seed = 1);
// multipart/mixed: a text part and a base64 application/octet-stream
// attachment, about `size` bytes in all.
std::string MultipartMessage(size_t size, unsigned seed = 1);

}  // namespace mtas::bench
