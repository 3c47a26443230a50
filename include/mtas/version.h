// The library's version, and the protocol profile it implements.
#pragma once

namespace mtas {

// "MAJOR.MINOR.PATCH" of this build of libmtas (the CMake project version).
const char* Version();

// The newest signature profile this build writes (docs/protocol.md).
inline constexpr const char* kProtocolProfile = "MTAS/1.1";

}  // namespace mtas
