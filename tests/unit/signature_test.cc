// The CMS SignedData and the MTAS attributes (docs/asn1/MTAS-1.0.asn1).
#include "mtas/signature.h"

#include <gtest/gtest.h>

#include "cms/attributes.h"
#include "common/der.h"
#include "common/ossl.h"
#include "support/cms_oracle.h"
#include "test_util.h"

namespace mtas {
namespace {

SignatureRequest FullRequest(DigestAlg d) {
  SignatureRequest req;
  req.digest = d;
  req.content_digest = HashBytes(d, "content");
  req.signing_time = 1767225600;  // 2026-01-01
  MtasAttributes& a = req.attrs;
  a.msgid = "8A2A6KQ3ZP";
  a.headers = {"From: a@example.com", "Subject: one", "Subject: two\r\n folded"};
  a.received = ReceivedHash{2, d, HashBytes(d, "received")};
  a.parts = {{"1", "text/plain", HashBytes(d, "p1")}, {"2.1", "image/png", HashBytes(d, "p2")}};
  a.services = "domain:key:email _key1._certs; http:download:der _certs mail1.cer";
  a.signer = "mail.example.com";
  a.canonicalization = "relaxed";
  a.verification_info = "mx.example.net; msgid=X; result=pass";
  a.wrapped = "text/plain; charset=utf-8";
  a.carrier = "body";
  a.profile = kProfile11;
  a.header_counts = {{"From", 1}, {"Subject", 2}, {"Reply-To", 0}};
  // Part 1 with its closing lines and their digests (a text leaf), 2 a
  // container, 2.1 a leaf without.
  a.part_fields = {{"1",
                    {"Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"},
                    1,
                    40,
                    "</body>\r\n</html>\r\n",
                    {std::string(32, 'a'), std::string(32, 'b')}},
                   {"2", {"Content-Type: multipart/related;\r\n boundary=\"b  c\""}, 0, 0, "", {}},
                   {"2.1", {}, 0, 7, "", {}}};
  a.previous_hops = {"HOPONE", "HOPTWO"};
  return req;
}

TEST(Signature, EveryAttributeRoundTrips) {
  for (const char* alg : {"ed25519", "ecdsa-p256", "rsa2048"}) {
    const auto& k = test::Key(alg, "mail.example.com");
    for (bool cert : {false, true}) {
      auto key = SigningKey::Load(k.key_path, cert ? k.cert_path : "");
      ASSERT_TRUE(key.ok());
      DigestAlg d = std::string(alg) == "ed25519" ? DigestAlg::kSha512 : DigestAlg::kSha384;
      SignatureRequest req = FullRequest(d);
      req.embed_certificate = cert;
      auto der = BuildSignature(*key, req);
      ASSERT_TRUE(der.ok()) << der.status().message();
      auto sig = ParseSignature(*der);
      ASSERT_TRUE(sig.ok()) << sig.status().message();
      EXPECT_EQ(sig->digest, d);
      EXPECT_EQ(sig->message_digest, req.content_digest);
      EXPECT_EQ(sig->signing_time, std::optional<std::time_t>(req.signing_time));
      const MtasAttributes& a = sig->attrs;
      EXPECT_EQ(a.msgid, req.attrs.msgid);
      std::vector<std::string> headers = a.headers, want = req.attrs.headers;
      std::sort(headers.begin(), headers.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(headers, want);  // a DER SET OF keeps the values, not their order
      ASSERT_TRUE(a.received.has_value());
      EXPECT_EQ(a.received->count, 2);
      EXPECT_EQ(a.received->digest, req.attrs.received->digest);
      ASSERT_EQ(a.parts.size(), 2u);
      EXPECT_EQ(a.parts[1].path, "2.1");
      EXPECT_EQ(a.parts[1].content_type, "image/png");
      EXPECT_EQ(a.parts[1].digest, req.attrs.parts[1].digest);
      EXPECT_EQ(a.services, req.attrs.services);
      EXPECT_EQ(a.signer, req.attrs.signer);
      EXPECT_EQ(a.canonicalization, "relaxed");
      EXPECT_EQ(a.verification_info, req.attrs.verification_info);
      EXPECT_EQ(a.wrapped, req.attrs.wrapped);
      EXPECT_EQ(a.carrier, "body");
      EXPECT_EQ(a.profile, "MTAS/1.1");
      ASSERT_EQ(a.header_counts.size(), 3u);
      EXPECT_EQ(a.header_counts[2].name, "Reply-To");
      EXPECT_EQ(a.header_counts[2].count, 0);
      ASSERT_EQ(a.part_fields.size(), 3u);
      EXPECT_EQ(a.part_fields[1].fields, req.attrs.part_fields[1].fields);
      EXPECT_TRUE(a.part_fields[2].fields.empty());
      EXPECT_EQ(a.part_fields[0].closing, req.attrs.part_fields[0].closing);
      EXPECT_EQ(a.part_fields[0].heads, req.attrs.part_fields[0].heads);
      EXPECT_EQ(a.part_fields[0].trailing_empty_lines, 1);
      EXPECT_EQ(a.part_fields[0].length, 40);
      EXPECT_TRUE(a.part_fields[1].closing.empty());
      EXPECT_EQ(a.previous_hops, req.attrs.previous_hops);
      EXPECT_EQ(sig->certificates.size(), cert ? 1u : 0u);
      EXPECT_EQ(cert ? sig->signer_infos.front().sid.key_id.empty() : !sig->signer_infos.front().sid.key_id.empty(),
                true);
      EXPECT_TRUE(CheckSignatureValue(*sig, sig->signer_infos.front(), key->public_key()).ok());
    }
  }
}

// The bytes the signature value is checked over are the signedAttrs as
// received (tag made SET): for DER input, the same as re-encoding every
// attribute OpenSSL parsed, in order; with and without certificates.
TEST(Signature, SignedAttributesAreTakenAsReceived) {
  for (const char* alg : {"ed25519", "rsa2048"})
    for (bool cert : {false, true}) {
      const auto& k = test::Key(alg, "mail.example.com");
      auto key = SigningKey::Load(k.key_path, cert ? k.cert_path : "");
      ASSERT_TRUE(key.ok());
      SignatureRequest req = FullRequest(std::string(alg) == "ed25519" ? DigestAlg::kSha512 : DigestAlg::kSha256);
      req.embed_certificate = cert;
      auto der = BuildSignature(*key, req);
      ASSERT_TRUE(der.ok());
      auto sig = ParseSignature(*der);
      ASSERT_TRUE(sig.ok());
      const auto* p = reinterpret_cast<const unsigned char*>(der->data());
      ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der->size())));
      ASSERT_TRUE(cms);
      CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
      std::string content;
      for (int i = 0; i < CMS_signed_get_attr_count(si); ++i)
        content += ossl::ToDer<X509_ATTRIBUTE>(i2d_X509_ATTRIBUTE, CMS_signed_get_attr(si, i));
      ASSERT_LT(content.size(), 65536u);
      std::string expected = "\x31";
      if (content.size() < 128) {
        expected += static_cast<char>(content.size());
      } else if (content.size() < 256) {
        expected += "\x81";
        expected += static_cast<char>(content.size());
      } else {
        expected += "\x82";
        expected += static_cast<char>(content.size() >> 8);
        expected += static_cast<char>(content.size() & 0xff);
      }
      EXPECT_EQ(sig->signed_attrs_der, expected + content) << alg << (cert ? " with certificate" : "");
      // The signature value covers exactly these bytes: one changed byte fails it.
      ParsedSignature changed = *sig;
      changed.signed_attrs_der.back() ^= 1;
      EXPECT_FALSE(CheckSignatureValue(changed, changed.signer_infos.front(), key->public_key()).ok());
      EXPECT_TRUE(CheckSignatureValue(*sig, sig->signer_infos.front(), key->public_key()).ok());
    }
}

// The SignedData as OpenSSL's CMS layer assembles it for the same keys,
// attributes and signature values (signatures[i] is keys[i]'s): the
// reference the hand-framed DER (common/der.h) must equal byte for byte.
std::string OpenSslAssembly(const std::vector<SigningKey>& keys, const SignatureRequest& req,
                            const std::vector<std::string>& signatures) {
  const EVP_MD* md = EVP_get_digestbynid(DigestNid(req.digest));
  unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY;
  ossl::CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  for (size_t k = 0; k < keys.size(); ++k) {
    const SigningKey& key = keys[k];
    unsigned int signer_flags = flags | CMS_NOSMIMECAP;
    if (!key.has_real_cert()) signer_flags |= CMS_USE_KEYID;
    if (!req.embed_certificate || !key.has_real_cert()) signer_flags |= CMS_NOCERTS;
    CMS_SignerInfo* si = CMS_add1_signer(cms.get(), key.signer_cert(), key.key(), md, signer_flags);
    EXPECT_NE(si, nullptr);
    if (!si) return "";
    while (CMS_signed_get_attr_count(si) > 0) X509_ATTRIBUTE_free(CMS_signed_delete_attr(si, 0));
    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1);
    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, req.content_digest.data(),
                                static_cast<int>(req.content_digest.size()));
    ASN1_TIME* t = ASN1_TIME_set(nullptr, req.signing_time);
    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1);
    ASN1_TIME_free(t);
    for (const auto& der : EncodeMtasAttributes(req.attrs)) {  // each decoded by OpenSSL, then re-encoded by it
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      X509_ATTRIBUTE* a = d2i_X509_ATTRIBUTE(nullptr, &p, static_cast<long>(der.size()));
      EXPECT_NE(a, nullptr);
      CMS_signed_add1_attr(si, a);
      X509_ATTRIBUTE_free(a);
    }
    X509_ALGOR* sig_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, nullptr, &sig_alg);
    switch (key.algorithm()) {
      case KeyAlgorithm::kEd25519:
        X509_ALGOR_set0(sig_alg, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, nullptr);
        break;
      case KeyAlgorithm::kRsa:
        X509_ALGOR_set0(sig_alg, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, nullptr);
        break;
      default: {
        int sig_nid = NID_undef;
        OBJ_find_sigid_by_algs(&sig_nid, DigestNid(req.digest), NID_X9_62_id_ecPublicKey);
        X509_ALGOR_set0(sig_alg, OBJ_nid2obj(sig_nid), V_ASN1_UNDEF, nullptr);
      }
    }
    ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), signatures[k].data(), static_cast<int>(signatures[k].size()));
  }
  return ossl::ToDer<CMS_ContentInfo>(i2d_CMS_ContentInfo, cms.get());
}

std::string OpenSslAssembly(const SigningKey& key, const SignatureRequest& req, const std::string& signature) {
  return OpenSslAssembly(std::vector<SigningKey>{key}, req, {signature});
}

// Calls `each` for every algorithm with every digest it signs with, with
// and without a certificate.
template <typename Each>
void ForEveryKeyAndDigest(Each each) {
  for (const char* alg : {"ed25519", "ecdsa-p256", "rsa2048"}) {
    const auto& k = test::Key(alg, "mail.example.com");
    for (bool cert : {false, true}) {
      auto key = SigningKey::Load(k.key_path, cert ? k.cert_path : "");
      ASSERT_TRUE(key.ok());
      for (DigestAlg d : {DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512})
        if (std::string(alg) != "ed25519" || d == DigestAlg::kSha512) each(alg, cert, *key, d);
    }
  }
}

TEST(Signature, SameBytesAsOpenSslCmsAssembly) {
  ForEveryKeyAndDigest([](const char* alg, bool cert, const SigningKey& key, DigestAlg d) {
    for (std::time_t when : {std::time_t{1767225600}, std::time_t{2524608000} /* 2050: GeneralizedTime */}) {
      SignatureRequest req = FullRequest(d);
      req.signing_time = when;
      req.embed_certificate = cert;
      req.attrs.envelope = BindEnvelope(d, "a@example.com", {"b@example.net", "c@example.org"});
      if (when != 1767225600) req.attrs.received->count = 300;  // a two-octet INTEGER
      auto der = BuildSignature(key, req);
      ASSERT_TRUE(der.ok()) << der.status().message();
      auto parsed = ParseSignature(*der);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      EXPECT_EQ(*der, OpenSslAssembly(key, req, parsed->signer_infos.front().signature)) << alg << " cert=" << cert;
      EXPECT_TRUE(CheckSignatureValue(*parsed, parsed->signer_infos.front(), key.public_key()).ok());
    }
  });
}

// The same signature with its MTAS attributes under the spec's UUID arc,
// framed again by OpenSSL.
std::string UnderTheSpecArc(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(cms);
  if (!cms) return "";
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
    X509_ATTRIBUTE* a = CMS_signed_get_attr(si, i);
    char txt[128];
    OBJ_obj2txt(txt, sizeof txt, X509_ATTRIBUTE_get0_object(a), 1);
    std::string oid = txt, arc = "1.3.6.1.3.4204393046.";
    if (oid.rfind(arc, 0) != 0) continue;
    ossl::ObjectPtr spec(
        OBJ_txt2obj(("2.25.157787562415162570243483175449580401238." + oid.substr(arc.size())).c_str(), 1));
    EXPECT_EQ(X509_ATTRIBUTE_set1_object(a, spec.get()), 1);
  }
  std::string out = ossl::ToDer<CMS_ContentInfo>(i2d_CMS_ContentInfo, cms.get());
  EXPECT_EQ(out.find(ObjectDer(MtasObject(MtasAttr::kMsgid))), std::string::npos);
  return out;
}

// ParseSignature walks the DER itself (src/cms/parse_signature.cc); OpenSSL's
// CMS parser must read the same fields from the same bytes: every algorithm,
// digest, signer identifier kind, with and without a certificate, under the
// signing arc and the spec's.
TEST(Signature, ReadsWhatOpenSslReads) {
  int compared = 0;
  ForEveryKeyAndDigest([&](const char* alg, bool cert, const SigningKey& key, DigestAlg d) {
    SignatureRequest req = FullRequest(d);
    req.embed_certificate = cert;
    req.attrs.envelope = BindEnvelope(d, "a@example.com", {"b@example.net"});
    auto der = BuildSignature(key, req);
    ASSERT_TRUE(der.ok());
    for (const std::string& input : {*der, UnderTheSpecArc(*der)}) {
      auto parsed = ParseSignature(input);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      auto verdict = test::CompareWithOpenSsl(input, *parsed);
      EXPECT_TRUE(verdict.openssl_accepts) << alg;
      EXPECT_EQ(verdict.difference, "") << alg << " cert=" << cert << " digest=" << DigestName(d);
      ++compared;
    }
  });
  EXPECT_EQ(compared, 28);  // 7 algorithm-digest pairs, with and without a certificate, two arcs
}

// Every truncation and every single-byte change of a signature: what the DER
// walk accepts, OpenSSL's parser accepts too and reads the same way.
TEST(Signature, CorruptedSignaturesReadAsOpenSslReadsThem) {
  for (bool cert : {false, true}) {
    const auto& k = test::Key("ecdsa-p256", "mail.example.com");
    auto key = SigningKey::Load(k.key_path, cert ? k.cert_path : "");
    ASSERT_TRUE(key.ok());
    SignatureRequest req = FullRequest(DigestAlg::kSha256);
    req.embed_certificate = cert;
    auto der = BuildSignature(*key, req);
    ASSERT_TRUE(der.ok());
    int accepted = 0;
    for (size_t i = 0; i < der->size(); ++i)
      for (uint8_t x : {uint8_t{0x01}, uint8_t{0x5a}, uint8_t{0x80}}) {
        std::string d = *der;
        d[i] = static_cast<char>(d[i] ^ x);
        auto parsed = ParseSignature(d);
        if (!parsed.ok()) continue;
        ++accepted;
        auto verdict = test::CompareWithOpenSsl(d, *parsed);
        EXPECT_TRUE(verdict.openssl_accepts) << "byte " << i << " ^ " << int{x} << " accepted by the walk only";
        EXPECT_EQ(verdict.difference, "") << "byte " << i << " ^ " << int{x};
      }
    EXPECT_GT(accepted, 0);  // changes inside values and the signature are still DER
  }
}

// A signature's TLV tree, to change one encoding and frame the rest again.
struct Node {
  uint8_t tag = 0;
  std::string content;  // primitive values
  std::vector<Node> children;
  int long_form = 0;  // > 0: the length in this many octets (BER when more than needed)
  bool indefinite = false;

  static Node Parse(std::string_view in) {
    der::TlvView t;
    EXPECT_TRUE(der::ReadTlv(&in, &t, der::Encoding::kBer));
    Node n;
    n.tag = t.tag;
    if (!(t.tag & 0x20)) {
      n.content = std::string(t.content);
      return n;
    }
    for (std::string_view c = t.content; !c.empty();) {
      std::string_view one = c;
      der::TlvView child;
      EXPECT_TRUE(der::ReadTlv(&c, &child, der::Encoding::kBer));
      n.children.push_back(Parse(one.substr(0, child.whole.size())));
    }
    return n;
  }
  std::string Encode() const {
    std::string body = content;
    for (const auto& c : children) body += c.Encode();
    std::string out(1, static_cast<char>(tag));
    if (indefinite) return out + "\x80" + body + std::string(2, '\0');
    if (long_form == 0) return der::Tlv(tag, body);
    out += static_cast<char>(0x80 | long_form);
    for (int i = long_form - 1; i >= 0; --i) out += static_cast<char>((body.size() >> (8 * i)) & 0xff);
    return out + body;
  }
  Node& SignedData() { return children[1].children[0]; }
  Node& SignerInfo() { return SignedData().children.back().children[0]; }
  Node& SignedAttrs() { return SignerInfo().children[3]; }
};

// RFC 5652 lets a sender encode the SignedData in BER; the signed attributes
// are DER (§5.4). Longer and indefinite lengths around them are read (the
// signature still verifies, and OpenSSL reads the same); inside them, or an
// INTEGER or OID that BER forbids too, are refused.
TEST(Signature, BerAroundTheSignedAttributesDerInside) {
  auto key = SigningKey::Load(test::Key("ed25519", "a.example").key_path);
  auto der = BuildSignature(*key, FullRequest(DigestAlg::kSha512));
  ASSERT_TRUE(der.ok());
  const Node tree = Node::Parse(*der);
  ASSERT_EQ(tree.Encode(), *der);
  auto read = [&](const Node& n, const char* what) {
    std::string input = n.Encode();
    auto sig = ParseSignature(input);
    EXPECT_TRUE(sig.ok()) << what << ": " << sig.status().message();
    if (!sig.ok()) return;
    EXPECT_TRUE(CheckSignatureValue(*sig, sig->signer_infos.front(), key->public_key()).ok()) << what;
    auto verdict = test::CompareWithOpenSsl(input, *sig);
    EXPECT_TRUE(verdict.openssl_accepts) << what;
    EXPECT_EQ(verdict.difference, "") << what;
  };
  auto refused = [&](const Node& n, const char* what, const char* reason) {
    auto sig = ParseSignature(n.Encode());
    ASSERT_FALSE(sig.ok()) << what;
    EXPECT_EQ(sig.status().code(), Status::Code::kMalformed) << what;
    EXPECT_NE(sig.status().message().find(reason), std::string::npos) << what << ": " << sig.status().message();
  };

  Node padded = tree;
  padded.long_form = 3;
  read(padded, "ContentInfo length with a leading zero octet");
  Node indefinite = tree;
  indefinite.indefinite = true;
  indefinite.children[1].indefinite = true;
  indefinite.SignedData().indefinite = true;
  read(indefinite, "ContentInfo, [0] and SignedData of indefinite length");
  Node attrs_ber = tree;
  attrs_ber.SignedAttrs().long_form = 4;
  read(attrs_ber, "signedAttrs' own length padded");
  Node version = tree;
  version.SignerInfo().children[0].long_form = 1;
  read(version, "a short length in the long form");

  Node attr = tree;
  attr.SignedAttrs().children[0].long_form = 2;
  refused(attr, "an attribute's length padded", "signed attribute is not DER");
  Node attr_indefinite = tree;
  attr_indefinite.SignedAttrs().children[0].indefinite = true;
  refused(attr_indefinite, "an attribute of indefinite length", "signed attribute is not DER");
  Node integer = tree;
  integer.SignedData().children[0].content.insert(0, 1, '\0');  // version 3 as 00 03
  refused(integer, "an INTEGER with a leading zero octet", "version");
  // An unknown attribute is ignored whatever its value's tag, a high tag
  // number included (spec §3.1); OpenSSL reads the rest the same.
  Node unknown = tree;
  Node extra;
  extra.tag = der::kSequence;
  extra.content = std::string("\x06\x03\x2a\x03\x04\x31\x03\xdf\x20\x00", 10);  // 1.2.3.4, [PRIVATE 32]
  unknown.SignedAttrs().children.push_back(extra);
  auto with_unknown = ParseSignature(unknown.Encode());
  ASSERT_TRUE(with_unknown.ok()) << with_unknown.status().message();
  EXPECT_EQ(test::CompareWithOpenSsl(unknown.Encode(), *with_unknown).difference, "");
  // signingTime twice (RFC 5652 §11.3 allows one).
  Node two_times = tree;
  const size_t attr_count = two_times.SignedAttrs().children.size();
  const std::string signing_time_oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05", 11);
  for (size_t i = 0; i < attr_count; ++i)
    if (der::Tlv(der::kObjectIdentifier, two_times.SignedAttrs().children[i].children[0].content) == signing_time_oid)
      two_times.SignedAttrs().children.push_back(two_times.SignedAttrs().children[i]);
  ASSERT_EQ(two_times.SignedAttrs().children.size(), attr_count + 1);
  refused(two_times, "two signingTime attributes", "signingTime attribute appears twice");
  // A header attribute's type with a subidentifier that starts 0x80: not an
  // unknown attribute to skip, but no OID at all.
  Node oid = tree;
  bool changed = false;
  for (Node& a : oid.SignedAttrs().children)
    if (!changed &&
        der::Tlv(der::kObjectIdentifier, a.children[0].content) == ObjectDer(MtasObject(MtasAttr::kHeader))) {
      a.children[0].content[1] = static_cast<char>(0x80);  // 2b 06 01 ... becomes 2b 80 01 ...
      changed = true;
    }
  ASSERT_TRUE(changed);
  refused(oid, "a malformed attribute OID", "SEQUENCE { OID");
}

TEST(Signature, WrongKeyOrTamperedAttributesFail) {
  auto key = SigningKey::Load(test::Key("ecdsa-p256", "a.example").key_path);
  auto other = SigningKey::Load(test::Key("ecdsa-p256", "b.example").key_path);
  auto ed = SigningKey::Load(test::Key("ed25519", "a.example").key_path);
  auto der = BuildSignature(*key, FullRequest(DigestAlg::kSha256));
  ASSERT_TRUE(der.ok());
  auto sig = ParseSignature(*der);
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(CheckSignatureValue(*sig, sig->signer_infos.front(), other->public_key()).ok());
  EXPECT_FALSE(CheckSignatureValue(*sig, sig->signer_infos.front(), ed->public_key()).ok());
  // One byte of a signed attribute changed in the DER: the value no longer verifies.
  std::string bad = *der;
  size_t at = bad.find("mail.example.com");
  bad[at] = 'M';
  auto tampered = ParseSignature(bad);
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(CheckSignatureValue(*tampered, tampered->signer_infos.front(), key->public_key()).ok());
}

TEST(Signature, MalformedInputIsMalformedNeverACrash) {
  auto key = SigningKey::Load(test::Key("ed25519", "a.example").key_path);
  auto der = BuildSignature(*key, FullRequest(DigestAlg::kSha512));
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(ParseSignature("").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseSignature("not der").status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseSignature(std::string(70000, '\x30')).status().code(), Status::Code::kMalformed);
  EXPECT_EQ(ParseSignature(*der + "x").status().code(), Status::Code::kMalformed);
  for (size_t cut = 0; cut < der->size(); cut += 7) EXPECT_FALSE(ParseSignature(der->substr(0, cut)).ok());
  for (size_t i = 0; i < der->size(); ++i) {  // every single-byte corruption: parse or refuse, never crash
    std::string d = *der;
    d[i] ^= 0x5a;
    auto s = ParseSignature(d);
    if (s.ok()) (void)CheckSignatureValue(*s, s->signer_infos.front(), key->public_key());
  }
}

TEST(Signature, RequiredAttributesMustBePresent) {
  auto key = SigningKey::Load(test::Key("ed25519", "a.example").key_path);
  SignatureRequest req = FullRequest(DigestAlg::kSha512);
  req.attrs.signer.clear();
  auto der = BuildSignature(*key, req);
  ASSERT_TRUE(der.ok());
  auto sig = ParseSignature(*der);
  ASSERT_FALSE(sig.ok());
  EXPECT_NE(sig.status().message().find("signer"), std::string::npos);
}

TEST(Signature, AnUnknownProfileIsMalformed) {
  auto key = SigningKey::Load(test::Key("ed25519", "a.example").key_path);
  SignatureRequest req = FullRequest(DigestAlg::kSha512);
  req.attrs.profile = "MTAS/9.9";
  auto der = BuildSignature(*key, req);
  ASSERT_TRUE(der.ok());
  auto sig = ParseSignature(*der);
  ASSERT_FALSE(sig.ok());
  EXPECT_NE(sig.status().message().find("unsupported profile"), std::string::npos);
}

// ---- several SignerInfos (docs/protocol.md §3.4) ----

// Every pair of algorithms, with and without certificates: the same bytes
// as OpenSSL's CMS layer assembles for those signers, read back field by
// field as OpenSSL reads them, each value verifying with its own key.
TEST(Signature, SeveralSignerInfosAreOpenSslsAssembly) {
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {"ed25519", "rsa2048"}, {"ecdsa-p256", "rsa2048"}, {"ed25519", "ecdsa-p256"}};
  for (const auto& [a, b] : pairs)
    for (bool cert : {false, true})
      for (bool embed : {false, true}) {
        SCOPED_TRACE(std::string(a) + "+" + b + (cert ? " certificates" : "") + (embed ? " embedded" : ""));
        std::vector<SigningKey> keys;
        for (const char* alg : {a, b}) {
          const auto& k = test::Key(alg, "mail.example.com");
          auto key = SigningKey::Load(k.key_path, cert ? k.cert_path : "");
          ASSERT_TRUE(key.ok());
          keys.push_back(*key);
        }
        SignatureRequest req = FullRequest(DigestAlg::kSha512);
        req.embed_certificate = embed;
        auto der = BuildSignature(keys, req);
        ASSERT_TRUE(der.ok()) << der.status().message();
        auto parsed = ParseSignature(*der);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        ASSERT_EQ(parsed->signer_infos.size(), 2u);
        EXPECT_EQ(parsed->certificates.size(), cert && embed ? 2u : 0u);
        std::vector<std::string> values(2);  // each key's value, found by verifying
        for (const auto& si : parsed->signer_infos) {
          int matched = 0;
          for (size_t k = 0; k < 2; ++k)
            if (CheckSignatureValue(*parsed, si, keys[k].public_key()).ok()) {
              values[k] = si.signature;
              ++matched;
            }
          EXPECT_EQ(matched, 1);
        }
        EXPECT_EQ(*der, OpenSslAssembly(keys, req, values));
        EXPECT_EQ(test::CompareWithOpenSsl(*der, *parsed).difference, "");
      }
}

namespace several {

// The SignerInfo TLVs of a signature, and the signature with its
// signerInfos SET replaced: SignedData's fields as der.h reads them.
struct Frame {
  std::string before;                     // ContentInfo up to the signerInfos SET, unframed
  std::vector<std::string> signer_infos;  // whole TLVs
};

Frame Split(const std::string& der) {
  std::string_view in = der, body;
  der::TlvView ci, explicit0, sd, field;
  EXPECT_TRUE(der::ReadTlv(&in, der::kSequence, &ci));
  body = ci.content;
  std::string_view oid;
  EXPECT_TRUE(der::ReadOid(&body, &oid));
  EXPECT_TRUE(der::ReadTlv(&body, der::kContext0, &explicit0));
  body = explicit0.content;
  EXPECT_TRUE(der::ReadTlv(&body, der::kSequence, &sd));
  Frame f;
  std::string_view fields = sd.content;
  while (!fields.empty()) {
    EXPECT_TRUE(der::ReadTlv(&fields, &field));
    if (fields.empty()) {  // the last one: signerInfos
      std::string_view sis = field.content;
      der::TlvView si;
      while (der::ReadTlv(&sis, der::kSequence, &si)) f.signer_infos.emplace_back(si.whole);
    } else {
      f.before += field.whole;
    }
  }
  return f;
}

std::string Join(const std::string& before, const std::vector<std::string>& signer_infos) {
  std::string sis;
  for (const auto& si : signer_infos) sis += si;
  std::string signed_data = der::Tlv(der::kSequence, before + der::Tlv(der::kSet, sis));
  std::string oid = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02";  // id-signedData
  return der::Tlv(der::kSequence, oid + der::Tlv(der::kContext0, signed_data));
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

}  // namespace several

TEST(Signature, SeveralSignerInfosMustSignTheSameAttributes) {
  std::vector<SigningKey> keys;
  for (const char* alg : {"ed25519", "rsa2048"})
    keys.push_back(*SigningKey::Load(test::Key(alg, "a.example").key_path));
  SignatureRequest req = FullRequest(DigestAlg::kSha512);
  auto first = several::Split(*BuildSignature(keys, req));
  ASSERT_EQ(first.signer_infos.size(), 2u);
  EXPECT_TRUE(ParseSignature(several::Join(first.before, first.signer_infos)).ok());  // the splice itself is sound

  req.signing_time += 1;  // another signature: the same keys, other attributes
  auto second = several::Split(*BuildSignature(keys, req));
  auto mixed = ParseSignature(several::Join(first.before, {first.signer_infos[0], second.signer_infos[1]}));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("must sign the same"), std::string::npos) << mixed.status().message();

  // At most kMaxSignerInfos; none is malformed too.
  std::vector<std::string> many(kMaxSignerInfos + 1, first.signer_infos[0]);
  auto too_many = ParseSignature(several::Join(first.before, many));
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("more than"), std::string::npos);
  EXPECT_TRUE(ParseSignature(several::Join(first.before, {many.begin(), many.end() - 1})).ok());
  EXPECT_FALSE(ParseSignature(several::Join(first.before, {})).ok());
}

// A SignerInfo of an algorithm this library does not know (a newer one)
// beside a known one is read and left to the verifier to skip; a signature
// of unknown ones only is malformed.
TEST(Signature, AnUnknownAlgorithmBesideAKnownOneIsRead) {
  std::vector<SigningKey> keys;
  for (const char* alg : {"ed25519", "rsa2048"})
    keys.push_back(*SigningKey::Load(test::Key(alg, "a.example").key_path));
  auto f = several::Split(*BuildSignature(keys, FullRequest(DigestAlg::kSha512)));
  const std::string ed25519 = "\x06\x03\x2b\x65\x70", ed448 = "\x06\x03\x2b\x65\x71";
  for (auto& si : f.signer_infos) si = several::ReplaceAll(si, "\x30\x05" + ed25519, "\x30\x05" + ed448);
  auto sig = ParseSignature(several::Join(f.before, f.signer_infos));
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  int unknown = 0;
  for (const auto& si : sig->signer_infos)
    if (si.algorithm == KeyAlgorithm::kUnknown) {
      ++unknown;
      EXPECT_EQ(si.algorithm_name, "ED448");
    }
  EXPECT_EQ(unknown, 1);
  auto only_unknown = ParseSignature(
      several::Join(f.before, {f.signer_infos[sig->signer_infos[0].algorithm == KeyAlgorithm::kUnknown ? 0 : 1]}));
  ASSERT_FALSE(only_unknown.ok());
  EXPECT_NE(only_unknown.status().message().find("unknown signature algorithm"), std::string::npos);
}

TEST(Signature, OidArc) { EXPECT_EQ(MtasOid(4), "1.3.6.1.3.4204393046.4"); }

}  // namespace
}  // namespace mtas
