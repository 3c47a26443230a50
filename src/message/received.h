// receivedHash (spec §3.1 mtas.3). Internal header.
#pragma once

#include <vector>

#include "mtas/message.h"

namespace mtas {

// Hash of the bottom `count` Received fields, top to bottom, each relaxed
// canonicalized and followed by CRLF (as DKIM hashes header fields).
// With count < 0, all Received fields. nullopt when fewer than `count` exist.
std::optional<ReceivedHash> ComputeReceivedHash(const std::vector<HeaderField>& fields, DigestAlg alg,
                                                int64_t count = -1);

}  // namespace mtas
