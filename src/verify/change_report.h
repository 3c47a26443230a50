// The change report of one signature: signed headers and parts compared
// with the message as it is now (spec §5). Internal header.
#pragma once

#include <vector>

#include "mtas/message.h"
#include "mtas/signature.h"
#include "mtas/verify.h"

namespace mtas {

// Per signed field name: same when the instances now equal the signed ones
// (as a multiset, compared under `canon`; rendering fields also by their
// exact MIME structure), removed when none is left, added when `counts`
// says none was signed and there is one now, changed otherwise (an instance
// prepended above the signed one included). A name counted as absent and
// still absent is not reported.
std::vector<HeaderReport> CompareHeaders(const std::vector<std::string>& signed_fields,
                                         const std::vector<HeaderCount>& counts,
                                         const std::vector<HeaderField>& current, Canon canon);

// A raw field's name, lowercase, without white space before its colon.
std::string FieldNameLower(std::string_view field);

// The last k lines of a signed part's closing lines (PartFields::closing).
std::string_view ClosingLines(std::string_view closing, size_t k);

// The encoding a Content-Transfer-Encoding field names, lowercase: "7bit"
// for none (""), one of 7bit, 8bit, binary, quoted-printable, base64, or ""
// for anything else (readers treat unknown encodings differently).
std::string TransferEncodingName(const std::string& field);

// Whether two Content-Type / -Transfer-Encoding / -Disposition fields render
// alike: equal under `canon` and in their exact MIME structure (parameter
// values compared byte for byte).
bool RenderingFieldsEqual(Canon canon, std::string_view a, std::string_view b);

// Signed leaf parts against the current ones, matched by path, then by
// content; current leaves nobody signed are `added`. With `signed_fields`
// (MTAS/1.1) each part's rendering fields are compared too (a difference
// makes it `changed`, named in changed_fields; containers whose fields
// changed are reported as well), and *tree_intact says whether every signed
// path is still there as it was and no other is.
void CompareParts(const std::vector<PartHash>& signed_parts, const std::vector<PartFields>* signed_fields,
                  const std::vector<PartInfo>& current, DigestAlg alg, Canon canon, std::vector<PartReport>* parts,
                  std::vector<AddedPart>* added, bool* tree_intact);

}  // namespace mtas
