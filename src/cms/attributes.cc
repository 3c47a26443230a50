// Encoding and decoding of the MTAS signed attributes (docs/asn1/MTAS-1.0.asn1).
// SEQUENCE values go through OpenSSL's generic ASN1_SEQUENCE_ANY so that no
// DER is hand-written here.
#include "cms/attributes.h"

#include <array>

namespace mtas {
namespace {

// The arc signatures are made under, and the spec's UUID arc, which this
// verifier also reads. The spec's arc has one 128-bit component that GnuTLS
// (libtasn1 decodes arcs into 64 bits) cannot parse, so signatures under it
// fail the independent check; see docs/protocol.md "OID arc".
constexpr const char* kArc = "1.3.6.1.3.4204393046";
constexpr const char* kSpecArc = "2.25.157787562415162570243483175449580401238";

ossl::AsnTypePtr StringType(int type, std::string_view s) {
  ossl::AsnStringPtr str(ASN1_STRING_type_new(type));
  ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size()));
  ossl::AsnTypePtr t(ASN1_TYPE_new());
  ASN1_TYPE_set(t.get(), type, str.release());
  return t;
}

std::string EncodeSequence(std::vector<ossl::AsnTypePtr> items) {
  ossl::SeqAnyPtr seq(sk_ASN1_TYPE_new_null());
  for (auto& i : items) sk_ASN1_TYPE_push(seq.get(), i.release());
  return ossl::ToDer<ASN1_SEQUENCE_ANY>(i2d_ASN1_SEQUENCE_ANY, seq.get());
}

ossl::AsnTypePtr SequenceType(const std::string& der) {
  ossl::AsnStringPtr str(ASN1_STRING_type_new(V_ASN1_SEQUENCE));
  ASN1_STRING_set(str.get(), der.data(), static_cast<int>(der.size()));
  ossl::AsnTypePtr t(ASN1_TYPE_new());
  ASN1_TYPE_set(t.get(), V_ASN1_SEQUENCE, str.release());
  return t;
}

std::string StringOf(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
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

std::vector<EncodedAttribute> EncodeMtasAttributes(const MtasAttributes& attrs) {
  std::vector<EncodedAttribute> out;
  auto utf8 = [&](MtasAttr a, const std::string& v) {
    if (!v.empty()) out.push_back({a, StringType(V_ASN1_UTF8STRING, v)});
  };
  utf8(MtasAttr::kMsgid, attrs.msgid);
  for (const auto& h : attrs.headers) out.push_back({MtasAttr::kHeader, StringType(V_ASN1_OCTET_STRING, h)});
  if (attrs.received) {
    std::vector<ossl::AsnTypePtr> items;
    ossl::AsnTypePtr count(ASN1_TYPE_new());
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    ASN1_INTEGER_set_int64(n, attrs.received->count);
    ASN1_TYPE_set(count.get(), V_ASN1_INTEGER, n);
    items.push_back(std::move(count));
    ossl::AsnTypePtr alg(ASN1_TYPE_new());
    ASN1_TYPE_set(alg.get(), V_ASN1_OBJECT, OBJ_nid2obj(DigestNid(attrs.received->alg)));
    items.push_back(std::move(alg));
    items.push_back(StringType(V_ASN1_OCTET_STRING, attrs.received->digest));
    out.push_back({MtasAttr::kReceivedHash, SequenceType(EncodeSequence(std::move(items)))});
  }
  if (!attrs.parts.empty()) {
    std::vector<ossl::AsnTypePtr> list;
    for (const auto& p : attrs.parts) {
      std::vector<ossl::AsnTypePtr> items;
      items.push_back(StringType(V_ASN1_UTF8STRING, p.path));
      items.push_back(StringType(V_ASN1_UTF8STRING, p.content_type));
      items.push_back(StringType(V_ASN1_OCTET_STRING, p.digest));
      list.push_back(SequenceType(EncodeSequence(std::move(items))));
    }
    out.push_back({MtasAttr::kPartHashes, SequenceType(EncodeSequence(std::move(list)))});
  }
  utf8(MtasAttr::kServices, attrs.services);
  utf8(MtasAttr::kSigner, attrs.signer);
  utf8(MtasAttr::kCanonicalization, attrs.canonicalization);
  utf8(MtasAttr::kVerificationInfo, attrs.verification_info);
  utf8(MtasAttr::kWrapped, attrs.wrapped);
  utf8(MtasAttr::kCarrier, attrs.carrier);
  if (attrs.envelope) {
    std::vector<ossl::AsnTypePtr> items;
    ossl::AsnTypePtr alg(ASN1_TYPE_new());
    ASN1_TYPE_set(alg.get(), V_ASN1_OBJECT, OBJ_nid2obj(DigestNid(attrs.envelope->alg)));
    items.push_back(std::move(alg));
    items.push_back(StringType(V_ASN1_OCTET_STRING, attrs.envelope->mail_from));
    items.push_back(StringType(V_ASN1_OCTET_STRING, attrs.envelope->rcpt_to));
    out.push_back({MtasAttr::kEnvelope, SequenceType(EncodeSequence(std::move(items)))});
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
      if (!value || value->type != V_ASN1_OCTET_STRING) return Status::Malformed("header attribute is not an OCTET STRING");
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
        attrs->parts.push_back({StringOf(path->value.utf8string), StringOf(ct->value.utf8string),
                                StringOf(digest->value.octet_string)});
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
