// Encoding and decoding of the MTAS signed attributes (docs/asn1/MTAS-1.0.asn1).
// Values are framed by cms/der.h (see why there) and decoded through
// OpenSSL's generic ASN1_SEQUENCE_ANY.
#include "cms/attributes.h"

#include <array>

#include "cms/der.h"

namespace mtas {
namespace {

// The arc signatures are made under, and the spec's UUID arc, which this
// verifier also reads. The spec's arc has one 128-bit component that GnuTLS
// (libtasn1 decodes arcs into 64 bits) cannot parse, so signatures under it
// fail the independent check; see docs/protocol.md "OID arc".
constexpr const char* kArc = "1.3.6.1.3.4204393046";
constexpr const char* kSpecArc = "2.25.157787562415162570243483175449580401238";

std::string StringOf(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

Result<ossl::SeqAnyPtr> DecodeSequence(const ASN1_TYPE* t, const char* what) {
  if (!t || t->type != V_ASN1_SEQUENCE) return Status::Malformed(std::string(what) + " is not a SEQUENCE");
  const auto* p = ASN1_STRING_get0_data(t->value.sequence);
  long len = ASN1_STRING_length(t->value.sequence);
  const auto* start = p;
  ossl::SeqAnyPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, len));
  if (!seq || p != start + len) return Status::Malformed(std::string(what) + " is not valid DER");
  return seq;
}

const ASN1_TYPE* Item(ASN1_SEQUENCE_ANY* seq, int i, int type) {
  const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq, i);
  return t && t->type == type ? t : nullptr;
}

}  // namespace

std::string MtasOid(int n) { return std::string(kArc) + "." + std::to_string(n); }

namespace {

const std::array<ASN1_OBJECT*, kMtasAttrCount + 1>& Objects(bool spec_arc_wanted) {
  static std::array<ASN1_OBJECT*, kMtasAttrCount + 1> main_arc{}, spec_arc{};
  static const bool init = [] {
    for (int i = 1; i <= kMtasAttrCount; ++i) {
      main_arc[static_cast<size_t>(i)] = OBJ_txt2obj((std::string(kArc) + "." + std::to_string(i)).c_str(), 1);
      spec_arc[static_cast<size_t>(i)] = OBJ_txt2obj((std::string(kSpecArc) + "." + std::to_string(i)).c_str(), 1);
    }
    return true;
  }();
  (void)init;
  return spec_arc_wanted ? spec_arc : main_arc;
}

}  // namespace

const ASN1_OBJECT* MtasObject(MtasAttr a) { return Objects(false)[static_cast<size_t>(a)]; }

std::string ObjectDer(const ASN1_OBJECT* obj) { return ossl::ToDer<ASN1_OBJECT>(i2d_ASN1_OBJECT, obj); }

namespace {

// The DER of each MTAS attribute type and of each digest OID, encoded once.
const std::string& MtasObjectDer(MtasAttr a) {
  static const auto ders = [] {
    std::array<std::string, kMtasAttrCount + 1> out;
    for (int i = 1; i <= kMtasAttrCount; ++i)
      out[static_cast<size_t>(i)] = ObjectDer(MtasObject(static_cast<MtasAttr>(i)));
    return out;
  }();
  return ders[static_cast<size_t>(a)];
}

std::string DigestObjectDer(DigestAlg alg) { return ObjectDer(OBJ_nid2obj(DigestNid(alg))); }

}  // namespace

std::string AttributeDer(std::string_view type_der, std::string_view value_der) {
  std::string content(type_der);
  der::AppendTlv(&content, der::kSet, value_der);
  return der::Tlv(der::kSequence, content);
}

std::vector<std::string> EncodeMtasAttributes(const MtasAttributes& attrs) {
  std::vector<std::string> out;
  auto add = [&](MtasAttr a, const std::string& value_der) {
    out.push_back(AttributeDer(MtasObjectDer(a), value_der));
  };
  auto utf8 = [&](MtasAttr a, const std::string& v) {
    if (!v.empty()) add(a, der::Tlv(der::kUtf8String, v));
  };
  utf8(MtasAttr::kMsgid, attrs.msgid);
  for (const auto& h : attrs.headers) add(MtasAttr::kHeader, der::Tlv(der::kOctetString, h));
  if (attrs.received) {
    add(MtasAttr::kReceivedHash,
        der::Tlv(der::kSequence, der::Integer(attrs.received->count) + DigestObjectDer(attrs.received->alg) +
                                     der::Tlv(der::kOctetString, attrs.received->digest)));
  }
  if (!attrs.parts.empty()) {
    std::string list;
    for (const auto& p : attrs.parts)
      der::AppendTlv(&list, der::kSequence,
                     der::Tlv(der::kUtf8String, p.path) + der::Tlv(der::kUtf8String, p.content_type) +
                         der::Tlv(der::kOctetString, p.digest));
    add(MtasAttr::kPartHashes, der::Tlv(der::kSequence, list));
  }
  utf8(MtasAttr::kServices, attrs.services);
  utf8(MtasAttr::kSigner, attrs.signer);
  utf8(MtasAttr::kCanonicalization, attrs.canonicalization);
  utf8(MtasAttr::kVerificationInfo, attrs.verification_info);
  utf8(MtasAttr::kWrapped, attrs.wrapped);
  utf8(MtasAttr::kCarrier, attrs.carrier);
  if (attrs.envelope) {
    add(MtasAttr::kEnvelope, der::Tlv(der::kSequence, DigestObjectDer(attrs.envelope->alg) +
                                                          der::Tlv(der::kOctetString, attrs.envelope->mail_from) +
                                                          der::Tlv(der::kOctetString, attrs.envelope->rcpt_to)));
  }
  return out;
}

Status DecodeMtasAttribute(MtasAttr which, const ASN1_TYPE* value, MtasAttributes* attrs, std::vector<bool>* seen) {
  const auto idx = static_cast<size_t>(which);
  if (which != MtasAttr::kHeader && (*seen)[idx])
    return Status::Malformed("attribute mtas." + std::to_string(idx) + " appears twice");
  (*seen)[idx] = true;
  auto utf8 = [&](std::string* dst) -> Status {
    if (!value || value->type != V_ASN1_UTF8STRING)
      return Status::Malformed("attribute mtas." + std::to_string(idx) + " is not a UTF8String");
    *dst = StringOf(value->value.utf8string);
    return Status::Ok();
  };
  switch (which) {
    case MtasAttr::kMsgid:
      return utf8(&attrs->msgid);
    case MtasAttr::kHeader:
      if (!value || value->type != V_ASN1_OCTET_STRING)
        return Status::Malformed("header attribute is not an OCTET STRING");
      attrs->headers.push_back(StringOf(value->value.octet_string));
      return Status::Ok();
    case MtasAttr::kReceivedHash: {
      auto seq = DecodeSequence(value, "receivedHash");
      if (!seq.ok()) return seq.status();
      ASN1_SEQUENCE_ANY* s = seq->get();
      const ASN1_TYPE *count = nullptr, *alg = nullptr, *digest = nullptr;
      if (sk_ASN1_TYPE_num(s) != 3 || !(count = Item(s, 0, V_ASN1_INTEGER)) || !(alg = Item(s, 1, V_ASN1_OBJECT)) ||
          !(digest = Item(s, 2, V_ASN1_OCTET_STRING)))
        return Status::Malformed("receivedHash is not SEQUENCE { INTEGER, OID, OCTET STRING }");
      ReceivedHash rh;
      if (!ASN1_INTEGER_get_int64(&rh.count, count->value.integer) || rh.count < 0 || rh.count > 100000)
        return Status::Malformed("receivedHash count out of range");
      auto a = DigestFromNid(OBJ_obj2nid(alg->value.object));
      if (!a.ok()) return Status::Malformed("receivedHash: " + a.status().message());
      rh.alg = *a;
      rh.digest = StringOf(digest->value.octet_string);
      attrs->received = rh;
      return Status::Ok();
    }
    case MtasAttr::kPartHashes: {
      auto seq = DecodeSequence(value, "partHashes");
      if (!seq.ok()) return seq.status();
      for (int i = 0; i < sk_ASN1_TYPE_num(seq->get()); ++i) {
        auto inner = DecodeSequence(sk_ASN1_TYPE_value(seq->get(), i), "partHashes entry");
        if (!inner.ok()) return inner.status();
        ASN1_SEQUENCE_ANY* s = inner->get();
        const ASN1_TYPE *path = nullptr, *ct = nullptr, *digest = nullptr;
        if (sk_ASN1_TYPE_num(s) != 3 || !(path = Item(s, 0, V_ASN1_UTF8STRING)) ||
            !(ct = Item(s, 1, V_ASN1_UTF8STRING)) || !(digest = Item(s, 2, V_ASN1_OCTET_STRING)))
          return Status::Malformed("partHashes entry is not SEQUENCE { UTF8String, UTF8String, OCTET STRING }");
        attrs->parts.push_back(
            {StringOf(path->value.utf8string), StringOf(ct->value.utf8string), StringOf(digest->value.octet_string)});
      }
      return Status::Ok();
    }
    case MtasAttr::kServices:
      return utf8(&attrs->services);
    case MtasAttr::kSigner:
      return utf8(&attrs->signer);
    case MtasAttr::kCanonicalization:
      return utf8(&attrs->canonicalization);
    case MtasAttr::kVerificationInfo:
      return utf8(&attrs->verification_info);
    case MtasAttr::kWrapped:
      return utf8(&attrs->wrapped);
    case MtasAttr::kCarrier:
      return utf8(&attrs->carrier);
    case MtasAttr::kEnvelope: {
      auto seq = DecodeSequence(value, "envelope");
      if (!seq.ok()) return seq.status();
      ASN1_SEQUENCE_ANY* s = seq->get();
      const ASN1_TYPE *alg = nullptr, *mf = nullptr, *rt = nullptr;
      if (sk_ASN1_TYPE_num(s) != 3 || !(alg = Item(s, 0, V_ASN1_OBJECT)) || !(mf = Item(s, 1, V_ASN1_OCTET_STRING)) ||
          !(rt = Item(s, 2, V_ASN1_OCTET_STRING)))
        return Status::Malformed("envelope is not SEQUENCE { OID, OCTET STRING, OCTET STRING }");
      auto a = DigestFromNid(OBJ_obj2nid(alg->value.object));
      if (!a.ok()) return Status::Malformed("envelope: " + a.status().message());
      attrs->envelope = EnvelopeBinding{*a, StringOf(mf->value.octet_string), StringOf(rt->value.octet_string)};
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::optional<MtasAttr> MtasAttrOf(const ASN1_OBJECT* obj) {
  for (bool spec : {false, true})
    for (int i = 1; i <= kMtasAttrCount; ++i)
      if (OBJ_cmp(obj, Objects(spec)[static_cast<size_t>(i)]) == 0) return static_cast<MtasAttr>(i);
  return std::nullopt;
}

}  // namespace mtas
