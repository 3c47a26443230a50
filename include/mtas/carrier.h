// Where a hop puts its signature (spec §2): a header field, or an entity
// in the body's epilogue.
#pragma once

#include <string_view>

#include "mtas/status.h"

namespace mtas {

enum class Carrier { kAuto, kBody, kHeader };  // kAuto: the signer chooses (docs/protocol.md)
std::string_view CarrierName(Carrier c);       // "auto", "body", "header"
Result<Carrier> ParseCarrier(std::string_view name);

}  // namespace mtas
