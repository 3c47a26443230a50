#include "cms/oids.h"

#include <openssl/objects.h>

#include <array>
#include <utility>

#include "common/der.h"
#include "common/ossl.h"

namespace mtas {
namespace {

// Every identifier NidOfOid knows, with its content octets taken from
// OpenSSL's table once.
constexpr std::array kKnownNids = {
    NID_pkcs7_data,
    NID_pkcs7_signed,
    NID_pkcs9_contentType,
    NID_pkcs9_messageDigest,
    NID_pkcs9_signingTime,
    NID_sha1,
    NID_sha256,
    NID_sha384,
    NID_sha512,
    NID_ED25519,
    NID_rsaEncryption,
    NID_sha256WithRSAEncryption,
    NID_sha384WithRSAEncryption,
    NID_sha512WithRSAEncryption,
    NID_sha1WithRSAEncryption,
    NID_ecdsa_with_SHA256,
    NID_ecdsa_with_SHA384,
    NID_ecdsa_with_SHA512,
    NID_ecdsa_with_SHA1,
};

const std::array<std::pair<int, std::string>, kKnownNids.size()>& Known() {
  static const auto known = [] {
    std::array<std::pair<int, std::string>, kKnownNids.size()> out;
    for (size_t i = 0; i < kKnownNids.size(); ++i) {
      const ASN1_OBJECT* o = OBJ_nid2obj(kKnownNids[i]);
      out[i] = {kKnownNids[i],
                std::string(reinterpret_cast<const char*>(OBJ_get0_data(o)), static_cast<size_t>(OBJ_length(o)))};
    }
    return out;
  }();
  return known;
}

}  // namespace

int NidOfOid(std::string_view oid) {
  for (const auto& [n, known] : Known())
    if (known == oid) return n;
  return NID_undef;
}

Result<DigestAlg> DigestOfOid(std::string_view oid) {
  auto alg = DigestFromNid(NidOfOid(oid));
  if (!alg.ok()) return Status::Malformed("unsupported digest algorithm " + OidName(oid));
  return alg;
}

std::string OidName(std::string_view oid) {
  std::string tlv = der::Tlv(der::kObjectIdentifier, oid);
  const auto* p = reinterpret_cast<const unsigned char*>(tlv.data());
  ossl::ObjectPtr obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(tlv.size())));
  if (!obj) {
    ERR_clear_error();
    return "(malformed OID)";
  }
  char name[80];
  OBJ_obj2txt(name, sizeof name, obj.get(), 0);
  return name;
}

}  // namespace mtas
