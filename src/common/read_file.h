// Reading a small file whole (keys, certificates, the local policy).
// Internal header.
#pragma once

#include <cstddef>
#include <string>

#include "mtas/status.h"

namespace mtas {

// The file's bytes, or kIoError naming the path and the OS reason ("No
// such file or directory", "Permission denied"), or kInvalidArgument when
// it is not a regular file or is larger than `max_bytes` (a FIFO or
// /dev/zero must not be read forever).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace mtas
