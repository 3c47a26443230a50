// What OpenSSL's own CMS parser reads from a signature: the independent
// reading that ParseSignature (a DER walk, src/cms/parse_signature.cc) is
// checked against, field by field, in tests/unit/signature_test.cc and in
// the signature fuzz target.
#pragma once

#include <openssl/cms.h>
#include <openssl/objects.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cms/attributes.h"
#include "common/ossl.h"
#include "mtas/signature.h"

namespace mtas::test {

struct OracleVerdict {
  bool openssl_accepts = false;  // d2i_CMS_ContentInfo took every byte
  std::string difference;        // empty when both read the same, else the first field that differs
};

namespace oracle_detail {

// The MTAS attribute number an OpenSSL object names (either arc), or 0.
inline int MtasNumber(const ASN1_OBJECT* obj) {
  char txt[128];
  OBJ_obj2txt(txt, sizeof txt, obj, 1);
  std::string s = txt;
  for (const std::string arc : {"1.3.6.1.3.4204393046.", "2.25.157787562415162570243483175449580401238."}) {
    if (s.rfind(arc, 0) != 0) continue;
    std::string n = s.substr(arc.size());
    if (n.empty() || n.size() > 2 || !std::all_of(n.begin(), n.end(), ::isdigit)) return 0;
    int v = std::stoi(n);
    return v >= 1 && v <= kMtasAttrCount ? v : 0;
  }
  return 0;
}

// (attribute number, value DER) for every MTAS attribute value in `attrs`,
// as OpenSSL parsed and re-encodes them. Empty strings and empty
// part lists are left out: the library reads them as absent.
inline std::vector<std::pair<int, std::string>> MtasValues(const std::vector<X509_ATTRIBUTE*>& attrs) {
  std::vector<std::pair<int, std::string>> out;
  for (X509_ATTRIBUTE* a : attrs) {
    int n = MtasNumber(X509_ATTRIBUTE_get0_object(a));
    if (!n) continue;
    for (int v = 0; v < X509_ATTRIBUTE_count(a); ++v) {
      std::string der = ossl::ToDer<ASN1_TYPE>(i2d_ASN1_TYPE, X509_ATTRIBUTE_get0_type(a, v));
      bool empty = der == std::string("\x0c\x00", 2) ||
                   (n == static_cast<int>(MtasAttr::kPartHashes) && der == std::string("\x30\x00", 2));
      if (!empty) out.emplace_back(n, der);
    }
  }
  // In attribute order; the values of one attribute type (header) as received.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

inline std::string Str(const ASN1_STRING* s) {
  return s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)))
           : std::string();
}

}  // namespace oracle_detail

// Reads `der` with d2i_CMS_ContentInfo and compares what it finds with
// `ours`, which ParseSignature returned for the same bytes. The signed
// attributes' bytes are compared when OpenSSL's re-encoding of them is found
// in the input as it is (they were DER, whatever framed them): OpenSSL
// verifies over its re-encoding, the library over the bytes as received.
inline OracleVerdict CompareWithOpenSsl(std::string_view der, const ParsedSignature& ours) {
  using namespace oracle_detail;
  OracleVerdict verdict;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!cms || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) return verdict;
  verdict.openssl_accepts = true;
  auto differ = [&](const std::string& what) {
    if (verdict.difference.empty()) verdict.difference = what;
  };
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed ||
      sk_CMS_SignerInfo_num(sis) != static_cast<int>(ours.signer_infos.size())) {
    differ("OpenSSL reads another number of SignerInfos");
    return verdict;
  }
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_pkcs7_data) differ("eContentType");
  if (ASN1_OCTET_STRING** c = CMS_get0_content(cms.get()); c && *c) differ("detached");
  for (size_t k = 0; k < ours.signer_infos.size(); ++k) {
    const ParsedSignerInfo& mine_si = ours.signer_infos[k];
    CMS_SignerInfo* each = sk_CMS_SignerInfo_value(sis, static_cast<int>(k));
    X509_ALGOR *dig = nullptr, *sig_alg = nullptr;
    CMS_SignerInfo_get0_algs(each, nullptr, nullptr, &dig, &sig_alg);
    if (OBJ_obj2nid(dig->algorithm) != DigestNid(ours.digest)) differ("digestAlgorithm");
    if (OBJ_obj2nid(sig_alg->algorithm) != mine_si.signature_nid) differ("signatureAlgorithm");
    ASN1_OCTET_STRING* keyid = nullptr;
    X509_NAME* issuer = nullptr;
    ASN1_INTEGER* serial = nullptr;
    CMS_SignerInfo_get0_signer_id(each, &keyid, &issuer, &serial);
    if (Str(keyid) != mine_si.sid.key_id) differ("subjectKeyIdentifier");
    if ((issuer ? ossl::ToDer<X509_NAME>(i2d_X509_NAME, issuer) : "") != mine_si.sid.issuer_der) differ("issuer");
    if ((serial ? ossl::ToDer<ASN1_INTEGER>(i2d_ASN1_INTEGER, serial) : "") != mine_si.sid.serial_der) differ("serial");
    if (Str(CMS_SignerInfo_get0_signature(each)) != mine_si.signature) differ("signature value");
  }
  // The signed attributes: the library requires every SignerInfo to carry
  // the first one's, so the first is compared.
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);

  int count = CMS_signed_get_attr_count(si);
  int signing_times = 0;
  std::string content;
  for (int i = 0; i < count; ++i) {
    X509_ATTRIBUTE* a = CMS_signed_get_attr(si, i);
    content += ossl::ToDer<X509_ATTRIBUTE>(i2d_X509_ATTRIBUTE, a);
    int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));
    const ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(a, 0);
    if (nid == NID_pkcs9_messageDigest && v && v->type == V_ASN1_OCTET_STRING &&
        Str(v->value.octet_string) != ours.message_digest)
      differ("messageDigest");
    if (nid == NID_pkcs9_signingTime) ++signing_times;
    if (nid == NID_pkcs9_signingTime && v && (v->type == V_ASN1_UTCTIME || v->type == V_ASN1_GENERALIZEDTIME)) {
      struct tm tm {};
      if (ASN1_TIME_to_tm(v->value.utctime, &tm) == 1 && ours.signing_time != std::optional<std::time_t>(timegm(&tm)))
        differ("signingTime");
    }
  }
  std::string set = "\x31";
  std::string len;
  for (size_t n = content.size(); n; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
  if (content.size() < 128)
    set += static_cast<char>(content.size());
  else
    set += static_cast<char>(0x80 | len.size()) + len;
  if (signing_times == 0 && ours.signing_time) differ("signingTime");
  if (der.find(content) != std::string_view::npos && set + content != ours.signed_attrs_der)
    differ("signedAttrs bytes");

  // Our decoded attributes, encoded again by the library, parsed by OpenSSL.
  std::vector<X509_ATTRIBUTE*> theirs, mine;
  for (int i = 0; i < count; ++i) theirs.push_back(CMS_signed_get_attr(si, i));
  for (const std::string& a : EncodeMtasAttributes(ours.attrs)) {
    const auto* q = reinterpret_cast<const unsigned char*>(a.data());
    if (X509_ATTRIBUTE* parsed = d2i_X509_ATTRIBUTE(nullptr, &q, static_cast<long>(a.size())))
      mine.push_back(parsed);
    else
      differ("an MTAS attribute the library encodes that OpenSSL cannot read");
  }
  if (MtasValues(theirs) != MtasValues(mine)) differ("MTAS attributes");
  for (X509_ATTRIBUTE* a : mine) X509_ATTRIBUTE_free(a);

  std::vector<std::string> certs;
  if (STACK_OF(X509)* stack = CMS_get1_certs(cms.get())) {
    for (int i = 0; i < sk_X509_num(stack); ++i) certs.push_back(ossl::ToDer<X509>(i2d_X509, sk_X509_value(stack, i)));
    sk_X509_pop_free(stack, X509_free);
  }
  std::vector<std::string> our_certs;
  for (const auto& c : ours.certificates) our_certs.push_back(c.Der());
  if (certs != our_certs) differ("certificates");
  return verdict;
}

}  // namespace mtas::test
