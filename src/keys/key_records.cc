// DNS key record formats. These are byte layouts fixed by their RFCs; OpenSSL
// turns the numbers they carry into keys.
#include "mtas/key_records.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "common/ossl.h"
#include "mtas/canon.h"
#include "mtas/message.h"

namespace mtas {
namespace {

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BIGNUM, BN_free>>;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

Result<PublicKey> FromParams(const char* type, OSSL_PARAM* params) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return Status::Malformed(std::string("not a valid ") + type + " public key");
  }
  return PublicKey::Adopt(key);
}

// RFC 3110 §2: exponent length (1 octet, or 0 and 2 octets), exponent, modulus.
Result<PublicKey> RsaFromRfc3110(std::string_view k) {
  if (k.empty()) return Status::Malformed("empty RSA key");
  size_t elen = static_cast<unsigned char>(k[0]), off = 1;
  if (elen == 0) {
    if (k.size() < 3) return Status::Malformed("truncated RSA exponent length");
    elen = (static_cast<size_t>(static_cast<unsigned char>(k[1])) << 8) | static_cast<unsigned char>(k[2]);
    off = 3;
  }
  if (elen == 0 || k.size() < off + elen + 64) return Status::Malformed("RSA key too short");
  BnPtr e(BN_bin2bn(Bytes(k.substr(off, elen)), static_cast<int>(elen), nullptr));
  std::string_view mod = k.substr(off + elen);
  BnPtr n(BN_bin2bn(Bytes(mod), static_cast<int>(mod.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  return FromParams("RSA", params.get());
}

Result<PublicKey> EcP256FromPoint(std::string_view xy) {
  if (xy.size() != 64) return Status::Malformed("ECDSA P-256 key is not 64 octets");
  std::string point = "\x04" + std::string(xy);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("prime256v1"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  return FromParams("EC", params);
}

Result<PublicKey> Ed25519FromRaw(std::string_view raw) {
  if (raw.size() != 32) return Status::Malformed("Ed25519 key is not 32 octets");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size());
  if (!key) {
    ERR_clear_error();
    return Status::Malformed("not a valid Ed25519 key");
  }
  return PublicKey::Adopt(key);
}

std::string BnBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// The key in its DNSSEC-style wire form, and the algorithm number.
Result<std::pair<int, std::string>> DnsKeyBytes(const PublicKey& key) {
  switch (key.algorithm()) {
    case KeyAlgorithm::kEd25519: {
      std::string raw(32, '\0');
      size_t len = raw.size();
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(raw.data()), &len);
      return std::make_pair(15, raw);
    }
    case KeyAlgorithm::kEcdsaP256: {
      unsigned char buf[65];
      size_t len = 0;
      EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf, &len);
      if (len != 65 || buf[0] != 4) return Status::InvalidArgument("unexpected EC point encoding");
      return std::make_pair(13, std::string(reinterpret_cast<char*>(buf + 1), 64));
    }
    case KeyAlgorithm::kRsa: {
      BIGNUM *n = nullptr, *e = nullptr;
      EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
      BnPtr nn(n), ee(e);
      std::string eb = BnBytes(e), nb = BnBytes(n);
      std::string out = eb.size() < 256 ? std::string(1, static_cast<char>(eb.size()))
                                        : std::string("\0", 1) + static_cast<char>(eb.size() >> 8) +
                                              static_cast<char>(eb.size() & 0xff);
      return std::make_pair(8, out + eb + nb);
    }
    default:
      return Status::Unsupported("key algorithm has no DNS KEY format");
  }
}

uint16_t U16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]));
}

}  // namespace

Result<PublicKey> ParseKeyRecord(std::string_view rdata) {
  if (rdata.size() < 4) return Status::Malformed("KEY record shorter than 4 octets");
  uint16_t flags = U16(rdata, 0);
  int protocol = static_cast<unsigned char>(rdata[2]);
  int algorithm = static_cast<unsigned char>(rdata[3]);
  if ((flags & 0xC000) == 0xC000) return Status::NotFound("KEY record says 'no key'");
  if (protocol != kKeyProtocolEmail && protocol != 255)
    return Status::NotFound("KEY record is for protocol " + std::to_string(protocol) + ", not email (2)");
  std::string_view key = rdata.substr(4);
  switch (algorithm) {
    case 8:
      return RsaFromRfc3110(key);
    case 13:
      return EcP256FromPoint(key);
    case 15:
      return Ed25519FromRaw(key);
    default:
      return Status::Unsupported("KEY record algorithm " + std::to_string(algorithm) + " is not 8, 13 or 15");
  }
}

Result<Certificate> ParseCertRecord(std::string_view rdata) {
  if (rdata.size() < 6) return Status::Malformed("CERT record shorter than 6 octets");
  uint16_t type = U16(rdata, 0);
  if (type != 1) return Status::Unsupported("CERT record type " + std::to_string(type) + " is not PKIX (1)");
  auto cert = Certificate::FromDer(rdata.substr(5));
  if (!cert.ok()) return Status::Malformed("CERT record does not hold a DER certificate");
  return cert;
}

Result<std::string> TxtRecordText(std::string_view rdata) {
  std::string out;
  size_t i = 0;
  while (i < rdata.size()) {
    size_t len = static_cast<unsigned char>(rdata[i]);
    if (i + 1 + len > rdata.size()) return Status::Malformed("TXT character-string runs past the record");
    out.append(rdata.substr(i + 1, len));
    i += 1 + len;
  }
  return out;
}

Result<PublicKey> ParseDkimKey(std::string_view text) {
  std::string k = "rsa", p;
  bool have_p = false;
  size_t n = 0;
  for (const auto& [name, value] : ParseParams(text)) {
    ++n;
    if (name == "v" && (n != 1 || value != "DKIM1")) return Status::Malformed("DKIM key record v= is not DKIM1 first");
    if (name == "k") k = value;
    if (name == "p") {
      have_p = true;
      p = value;
    }
  }
  if (!have_p) return Status::Malformed("DKIM key record has no p=");
  std::string der = Base64Decode(p);
  if (der.empty()) return Status::NotFound("DKIM key is revoked (empty p=)");
  if (k == "ed25519") return Ed25519FromRaw(der);
  if (k != "rsa") return Status::Unsupported("DKIM key type k=" + k);
  const auto* d = Bytes(der);
  if (EVP_PKEY* key = d2i_PUBKEY(nullptr, &d, static_cast<long>(der.size()))) return PublicKey::Adopt(key);
  d = Bytes(der);
  if (EVP_PKEY* key = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &d, static_cast<long>(der.size())))
    return PublicKey::Adopt(key);
  ERR_clear_error();
  return Status::Malformed("DKIM p= is not an RSA public key");
}

Result<std::string> KeyRecordPresentation(const PublicKey& key) {
  auto kb = DnsKeyBytes(key);
  if (!kb.ok()) return kb.status();
  return std::to_string(kKeyFlagsHost) + " " + std::to_string(kKeyProtocolEmail) + " " + std::to_string(kb->first) +
         " " + Base64Encode(kb->second);
}

std::string CertRecordPresentation(const Certificate& cert) { return "1 0 0 " + Base64Encode(cert.Der()); }

Result<std::string> DkimKeyText(const PublicKey& key) {
  switch (key.algorithm()) {
    case KeyAlgorithm::kEd25519: {
      auto kb = DnsKeyBytes(key);
      return "v=DKIM1; k=ed25519; p=" + Base64Encode(kb->second);
    }
    case KeyAlgorithm::kRsa:
      return "v=DKIM1; k=rsa; p=" + Base64Encode(key.SpkiDer());
    default:
      return Status::Unsupported("DKIM key records have no ECDSA key type");
  }
}

}  // namespace mtas

namespace mtas {
namespace {

// Zone-file RDATA in parentheses, 64 columns a line.
std::string Wrapped(const std::string& head, const std::string& base64) {
  std::string out = head + " (";
  for (size_t i = 0; i < base64.size(); i += 64) out += "\n\t" + base64.substr(i, 64);
  return out + " )";
}

}  // namespace

std::string ServicesFor(const std::string& selector, KeyAlgorithm algorithm, bool https) {
  std::string s = "domain:key:email " + selector + "._certs; domain:cert:pkix " + selector + "._certs";
  if (algorithm != KeyAlgorithm::kEcdsaP256) s += "; domain:txt:dk " + selector + "._domainkey";
  if (https) s += "; https:download:der _certs " + selector + ".crt.der";
  return s;
}

Result<std::string> ZoneRecords(const std::string& signer, const std::string& selector, const Certificate& cert,
                                bool https) {
  PublicKey key = PublicKey::Adopt(X509_get_pubkey(cert.get()));
  auto kb = DnsKeyBytes(key);
  if (!kb.ok()) return kb.status();
  std::string owner = selector + "._certs." + signer + ".";
  std::string z;
  z += "; MTAS key records for signer " + signer + ", selector " + selector + " (made by mtas keygen).\n";
  z += "; Sign with: --services \"" + ServicesFor(selector, key.algorithm(), https) + "\"\n";
  if (https) z += "; and serve " + selector + ".crt.der at https://" + signer + "/_certs/" + selector + ".crt.der\n";
  z += Wrapped(owner + " 3600 IN KEY " + std::to_string(kKeyFlagsHost) + " " + std::to_string(kKeyProtocolEmail) + " " +
                   std::to_string(kb->first),
               Base64Encode(kb->second)) +
       "\n";
  z += Wrapped(owner + " 3600 IN CERT 1 0 0", Base64Encode(cert.Der())) + "\n";
  auto dkim = DkimKeyText(key);
  if (dkim.ok()) {
    std::string txt;
    for (size_t i = 0; i < dkim->size(); i += 255) txt += " \"" + dkim->substr(i, 255) + "\"";
    z += selector + "._domainkey." + signer + ". 3600 IN TXT (" + txt + " )\n";
  } else {
    z += "; no DKIM TXT record: " + dkim.status().message() + "\n";
  }
  return z;
}

}  // namespace mtas
