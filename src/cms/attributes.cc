// Encoding and decoding of the MTAS signed attributes (docs/asn1/MTAS-1.0.asn1).
// Values are framed and read by common/der.h (see why there and in
// parse_signature.cc).
#include "cms/attributes.h"

#include <algorithm>
#include <array>

#include "cms/oids.h"
#include "common/der.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// The arc signatures are made under, and the spec's UUID arc, which this
// verifier also reads. The spec's arc has one 128-bit component that GnuTLS
// (libtasn1 decodes arcs into 64 bits) cannot parse, so signatures under it
// fail the independent check; see docs/protocol.md "OID arc".
constexpr const char* kArc = "1.3.6.1.3.4204393046";
constexpr const char* kSpecArc = "2.25.157787562415162570243483175449580401238";

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
  if (!attrs.profile.empty()) {
    utf8(MtasAttr::kProfile, attrs.profile);
    std::string counts, parts, hops;
    for (const auto& c : attrs.header_counts)
      der::AppendTlv(&counts, der::kSequence, der::Tlv(der::kUtf8String, c.name) + der::Integer(c.count));
    for (const auto& p : attrs.part_fields) {
      std::string fields;
      for (const auto& f : p.fields) der::AppendTlv(&fields, der::kOctetString, f);
      std::string closing;
      if (!p.closing.empty()) {
        std::string heads;
        for (const auto& h : p.heads) der::AppendTlv(&heads, der::kOctetString, h);
        closing = der::Tlv(der::kSequence, der::Tlv(der::kOctetString, p.closing) + der::Tlv(der::kSequence, heads));
      }
      der::AppendTlv(&parts, der::kSequence,
                     der::Tlv(der::kUtf8String, p.path) + der::Tlv(der::kSequence, fields) +
                         der::Integer(p.trailing_empty_lines) + der::Integer(p.length) + closing);
    }
    for (const auto& h : attrs.previous_hops) der::AppendTlv(&hops, der::kUtf8String, h);
    add(MtasAttr::kHeaderCounts, der::Tlv(der::kSequence, counts));
    add(MtasAttr::kPartFields, der::Tlv(der::kSequence, parts));
    add(MtasAttr::kPreviousHops, der::Tlv(der::kSequence, hops));
  }
  return out;
}

namespace {

// The content octets of each MTAS attribute type under both arcs.
const std::array<std::array<std::string, kMtasAttrCount + 1>, 2>& ObjectContents() {
  static const auto contents = [] {
    std::array<std::array<std::string, kMtasAttrCount + 1>, 2> out;
    for (bool spec : {false, true})
      for (int i = 1; i <= kMtasAttrCount; ++i) {
        const ASN1_OBJECT* o = Objects(spec)[static_cast<size_t>(i)];
        out[spec][static_cast<size_t>(i)] = std::string(reinterpret_cast<const char*>(OBJ_get0_data(o)), OBJ_length(o));
      }
    return out;
  }();
  return contents;
}

// SEQUENCE { a, b, c } of three TLVs with the given tags, and nothing after.
bool ReadTriple(const der::TlvView& value, uint8_t a, uint8_t b, uint8_t c, der::TlvView out[3]) {
  if (value.tag != der::kSequence) return false;
  std::string_view in = value.content;
  return der::ReadTlv(&in, a, &out[0]) && der::ReadTlv(&in, b, &out[1]) && der::ReadTlv(&in, c, &out[2]) && in.empty();
}

}  // namespace

Status DecodeMtasAttribute(MtasAttr which, const der::TlvView& value, MtasAttributes* attrs, std::vector<bool>* seen) {
  const auto idx = static_cast<size_t>(which);
  if (which != MtasAttr::kHeader && (*seen)[idx])
    return Status::Malformed("attribute mtas." + std::to_string(idx) + " appears twice");
  (*seen)[idx] = true;
  auto utf8 = [&](std::string* dst) -> Status {
    if (value.tag != der::kUtf8String)
      return Status::Malformed("attribute mtas." + std::to_string(idx) + " is not a UTF8String");
    dst->assign(value.content);
    return Status::Ok();
  };
  der::TlvView f[3];
  switch (which) {
    case MtasAttr::kMsgid:
      return utf8(&attrs->msgid);
    case MtasAttr::kHeader:
      if (value.tag != der::kOctetString) return Status::Malformed("header attribute is not an OCTET STRING");
      attrs->headers.emplace_back(value.content);
      return Status::Ok();
    case MtasAttr::kReceivedHash: {
      std::string_view in = value.content;
      ReceivedHash rh;
      if (value.tag != der::kSequence || !der::ReadInteger(&in, &rh.count) ||
          !der::ReadTlv(&in, der::kObjectIdentifier, &f[1]) || !der::ReadTlv(&in, der::kOctetString, &f[2]) ||
          !in.empty())
        return Status::Malformed("receivedHash is not SEQUENCE { INTEGER, OID, OCTET STRING }");
      if (rh.count < 0 || rh.count > 100000) return Status::Malformed("receivedHash count out of range");
      auto a = DigestOfOid(f[1].content);
      if (!a.ok()) return Status::Malformed("receivedHash: " + a.status().message());
      rh.alg = *a;
      rh.digest.assign(f[2].content);
      attrs->received = std::move(rh);
      return Status::Ok();
    }
    case MtasAttr::kPartHashes: {
      if (value.tag != der::kSequence) return Status::Malformed("partHashes is not a SEQUENCE");
      std::string_view in = value.content;
      der::TlvView entry;
      while (!in.empty()) {
        if (!der::ReadTlv(&in, &entry) || !ReadTriple(entry, der::kUtf8String, der::kUtf8String, der::kOctetString, f))
          return Status::Malformed("partHashes entry is not SEQUENCE { UTF8String, UTF8String, OCTET STRING }");
        attrs->parts.push_back({std::string(f[0].content), std::string(f[1].content), std::string(f[2].content)});
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
      if (!ReadTriple(value, der::kObjectIdentifier, der::kOctetString, der::kOctetString, f))
        return Status::Malformed("envelope is not SEQUENCE { OID, OCTET STRING, OCTET STRING }");
      auto a = DigestOfOid(f[0].content);
      if (!a.ok()) return Status::Malformed("envelope: " + a.status().message());
      attrs->envelope = EnvelopeBinding{*a, std::string(f[1].content), std::string(f[2].content)};
      return Status::Ok();
    }
    case MtasAttr::kProfile:
      return utf8(&attrs->profile);
    case MtasAttr::kHeaderCounts: {
      if (value.tag != der::kSequence) return Status::Malformed("headerCounts is not a SEQUENCE");
      std::string_view in = value.content;
      der::TlvView entry;
      while (!in.empty()) {
        HeaderCount c;
        std::string_view e;
        if (!der::ReadTlv(&in, der::kSequence, &entry) || (e = entry.content, false) ||
            !der::ReadTlv(&e, der::kUtf8String, &f[0]) || !der::ReadInteger(&e, &c.count) || !e.empty() ||
            c.count < 0 || c.count > 100000 || f[0].content.empty())
          return Status::Malformed("headerCounts entry is not SEQUENCE { UTF8String, INTEGER }");
        c.name.assign(f[0].content);
        attrs->header_counts.push_back(std::move(c));
      }
      return Status::Ok();
    }
    case MtasAttr::kPartFields: {
      if (value.tag != der::kSequence) return Status::Malformed("partFields is not a SEQUENCE");
      std::string_view in = value.content;
      der::TlvView entry;
      while (!in.empty()) {
        PartFields p;
        std::string_view e;
        if (!der::ReadTlv(&in, der::kSequence, &entry) || (e = entry.content, false) ||
            !der::ReadTlv(&e, der::kUtf8String, &f[0]) || !der::ReadTlv(&e, der::kSequence, &f[1]) ||
            !der::ReadInteger(&e, &p.trailing_empty_lines) || !der::ReadInteger(&e, &p.length) ||
            p.trailing_empty_lines < 0 || p.length < 0)
          return Status::Malformed(
              "partFields entry is not SEQUENCE { UTF8String, SEQUENCE OF OCTET STRING, INTEGER, INTEGER, "
              "closing OPTIONAL }");
        if (!e.empty()) {  // closing SEQUENCE { OCTET STRING, SEQUENCE OF OCTET STRING }
          der::TlvView closing, lines, heads, head;
          std::string_view c;
          if (!der::ReadTlv(&e, der::kSequence, &closing) || !e.empty() || (c = closing.content, false) ||
              !der::ReadTlv(&c, der::kOctetString, &lines) || !der::ReadTlv(&c, der::kSequence, &heads) || !c.empty())
            return Status::Malformed("partFields closing is not SEQUENCE { OCTET STRING, SEQUENCE OF OCTET STRING }");
          p.closing.assign(lines.content);
          std::string_view h = heads.content;
          while (!h.empty()) {
            if (!der::ReadTlv(&h, der::kOctetString, &head))
              return Status::Malformed("partFields closing digest is not an OCTET STRING");
            p.heads.emplace_back(head.content);
          }
          size_t line_count = static_cast<size_t>(std::count(p.closing.begin(), p.closing.end(), '\n'));
          if (p.closing.empty() || p.closing.size() > kMaxClosingBytes || p.closing.back() != '\n' ||
              line_count != p.heads.size() || line_count > kMaxClosingLines ||
              static_cast<int64_t>(p.closing.size()) > p.length)
            return Status::Malformed("partFields closing lines do not match their digests");
        }
        p.path.assign(f[0].content);
        std::string_view fields = f[1].content;
        while (!fields.empty()) {
          if (!der::ReadTlv(&fields, der::kOctetString, &f[2]))
            return Status::Malformed("partFields field is not an OCTET STRING");
          p.fields.emplace_back(f[2].content);
        }
        attrs->part_fields.push_back(std::move(p));
      }
      return Status::Ok();
    }
    case MtasAttr::kPreviousHops: {
      if (value.tag != der::kSequence) return Status::Malformed("previousHops is not a SEQUENCE");
      std::string_view in = value.content;
      while (!in.empty()) {
        if (!der::ReadTlv(&in, der::kUtf8String, &f[0]))
          return Status::Malformed("previousHops entry is not a UTF8String");
        attrs->previous_hops.emplace_back(f[0].content);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::optional<MtasAttr> MtasAttrOfOid(std::string_view oid) {
  for (const auto& arc : ObjectContents())
    for (int i = 1; i <= kMtasAttrCount; ++i)
      if (arc[static_cast<size_t>(i)] == oid) return static_cast<MtasAttr>(i);
  return std::nullopt;
}

}  // namespace mtas
