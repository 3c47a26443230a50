// The change report of one signature: signed headers and parts compared
// with the message as it is now (spec §5). Internal header.
#pragma once

#include <vector>

#include "mtas/message.h"
#include "mtas/signature.h"
#include "mtas/verify.h"

namespace mtas {

// Per signed field name: same when the instances now equal the signed ones
// (as a multiset, compared under `canon`), removed when none is left,
// changed otherwise (an instance prepended above the signed one included).
std::vector<HeaderReport> CompareHeaders(const std::vector<std::string>& signed_fields,
                                         const std::vector<HeaderField>& current, Canon canon);

// Signed leaf parts against the current ones, matched by path, then by
// content; current leaves nobody signed are `added`.
void CompareParts(const std::vector<PartHash>& signed_parts, const std::vector<PartInfo>& current, DigestAlg alg,
                  std::vector<PartReport>* parts, std::vector<AddedPart>* added);

}  // namespace mtas
