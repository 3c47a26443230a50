// MTAS signed attributes <-> ASN.1 values. Internal header.
#pragma once

#include <optional>
#include <vector>

#include "common/der.h"
#include "common/ossl.h"
#include "mtas/signature.h"

namespace mtas {

enum class MtasAttr {
  kMsgid = 1,
  kHeader,
  kReceivedHash,
  kPartHashes,
  kServices,
  kSigner,
  kCanonicalization,
  kVerificationInfo,
  kWrapped,
  kCarrier,
  kEnvelope,  // mtas.11, see signature.h
  kProfile,   // mtas.12 .. 15: MTAS/1.1, see signature.h
  kHeaderCounts,
  kPartFields,
  kPreviousHops,
};
inline constexpr int kMtasAttrCount = 15;

const ASN1_OBJECT* MtasObject(MtasAttr a);
// The attribute an OBJECT IDENTIFIER (its content octets) names, under the
// signing arc or the spec's; nullopt for any other.
std::optional<MtasAttr> MtasAttrOfOid(std::string_view oid);

// The DER of an OBJECT IDENTIFIER.
std::string ObjectDer(const ASN1_OBJECT* obj);

// The DER of one Attribute (RFC 5652 §5.3): SEQUENCE { type, SET { value } }.
std::string AttributeDer(std::string_view type_der, std::string_view value_der);

// One Attribute DER per MTAS value present (empty strings are left out;
// `header` gives one attribute per header value).
std::vector<std::string> EncodeMtasAttributes(const MtasAttributes& attrs);

// Decodes one attribute value (a DER TLV) into `attrs`; `seen`
// (kMtasAttrCount + 1) catches repeats of single-valued attributes.
Status DecodeMtasAttribute(MtasAttr which, const der::TlvView& value, MtasAttributes* attrs, std::vector<bool>* seen);

}  // namespace mtas
