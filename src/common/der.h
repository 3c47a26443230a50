// DER framing (X.690 §8.1, §10) for the SignedData this library assembles,
// and the reading of the one it receives (DER, or BER where CMS allows it;
// see Encoding). Internal header.
//
// Why by hand: building the SignedData through OpenSSL's CMS object model
// (CMS_add1_signer, CMS_signed_add1_attr_*, i2d twice) cost about 40 % of a
// 4 KB message's signing time. The structure we emit is fixed, so it is
// framed here from parts OpenSSL encodes once per key (names, serials,
// algorithm identifiers, certificates). tests/unit/signature_test.cc checks
// the result byte for byte against OpenSSL's own assembly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mtas::der {

inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kObjectIdentifier = 0x06;
inline constexpr uint8_t kUtf8String = 0x0c;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;
inline constexpr uint8_t kContext0 = 0xa0;           // [0] constructed
inline constexpr uint8_t kContext0Primitive = 0x80;  // [0] primitive
inline constexpr uint8_t kContext1 = 0xa1;           // [1] constructed

// Definite-length octets: short form below 128, else long form (§8.1.3).
inline void AppendLength(std::string* out, size_t len) {
  if (len < 0x80) {
    out->push_back(static_cast<char>(len));
    return;
  }
  char bytes[sizeof(size_t)];
  int n = 0;
  for (size_t l = len; l; l >>= 8) bytes[n++] = static_cast<char>(l & 0xff);
  out->push_back(static_cast<char>(0x80 | n));
  while (n) out->push_back(bytes[--n]);
}

inline void AppendTlv(std::string* out, uint8_t tag, std::string_view content) {
  out->push_back(static_cast<char>(tag));
  AppendLength(out, content.size());
  out->append(content);
}

inline std::string Tlv(uint8_t tag, std::string_view content) {
  std::string out;
  out.reserve(content.size() + 6);
  AppendTlv(&out, tag, content);
  return out;
}

// INTEGER in the fewest two's-complement octets (§8.3).
inline std::string Integer(int64_t v) {
  std::string bytes;
  for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  size_t skip = 0;
  while (skip + 1 < bytes.size()) {
    auto b0 = static_cast<uint8_t>(bytes[skip]), b1 = static_cast<uint8_t>(bytes[skip + 1]);
    if (!((b0 == 0x00 && !(b1 & 0x80)) || (b0 == 0xff && (b1 & 0x80)))) break;
    ++skip;
  }
  return Tlv(kInteger, std::string_view(bytes).substr(skip));
}

// X.690 §11.6: the components of a SET OF in ascending order of their
// encodings, the shorter one padded with zero octets.
inline bool SetOfLess(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  int c = std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0;
  if (a.size() >= b.size()) return false;
  return std::any_of(b.begin() + static_cast<long>(n), b.end(), [](char ch) { return ch != 0; });
}

// A SET OF from already-encoded components, sorted as §11.6 requires.
inline std::string SetOf(std::vector<std::string> components, uint8_t tag = kSet) {
  std::sort(components.begin(), components.end(), SetOfLess);
  size_t total = 0;
  for (const auto& c : components) total += c.size();
  std::string content;
  content.reserve(total);
  for (const auto& c : components) content += c;
  return Tlv(tag, content);
}

// How strictly the readers take lengths. kDer (X.690 §10.1): the short
// form below 128, else the long form in the fewest octets. kBer (§8.1.3)
// also takes a longer long form and, for a constructed value, the
// indefinite form, whose content runs to the end-of-contents octets. RFC
// 5652 lets a sender encode the SignedData in BER; what a signature covers
// is always read as DER. Minimal INTEGERs and well-formed OIDs are required
// in both (X.690 asks them of BER too); primitive strings are, in effect,
// because every caller names the primitive tag it wants.
enum class Encoding { kDer, kBer };

struct TlvView {
  uint8_t tag = 0;           // the first identifier octet (tag numbers above 30 all show as 0x1f in it)
  std::string_view whole;    // identifier, length and content (and end-of-contents octets)
  std::string_view content;  // content only
};

// Reads one TLV from the front of `*in` and advances past it: an
// identifier of at most five octets (§8.1.2), a length of at most four
// octets as `enc` allows, and content that `*in` holds. False, and `*in`
// unchanged, on anything else. Indefinite lengths nest at most 16 deep.
inline bool ReadTlv(std::string_view* in, TlvView* out, Encoding enc = Encoding::kDer, int depth = 0) {
  std::string_view s = *in;
  auto octet = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  if (s.empty() || octet(0) == 0) return false;  // universal 0 only ends an indefinite length
  size_t pos = 1;                                // past the identifier
  if ((octet(0) & 0x1f) == 0x1f) {               // high tag number form, base 128 in the fewest octets
    if (s.size() < 2 || octet(1) == 0x80) return false;
    while (pos < s.size() && (octet(pos) & 0x80))
      if (++pos > 4) return false;
    if (pos >= s.size() || (pos == 1 && octet(1) < 31)) return false;  // tags below 31 take one octet
    ++pos;
  }
  if (s.size() < pos + 1) return false;
  size_t len = octet(pos), header = pos + 1;
  if (len == 0x80) {  // indefinite: BER, constructed only
    if (enc != Encoding::kBer || !(octet(0) & 0x20) || depth >= 16) return false;
    std::string_view rest = s.substr(header);
    TlvView child;
    while (rest.size() < 2 || rest[0] != 0 || rest[1] != 0)
      if (!ReadTlv(&rest, &child, enc, depth + 1)) return false;
    size_t content_len = s.size() - header - rest.size();
    out->tag = octet(0);
    out->whole = s.substr(0, header + content_len + 2);
    out->content = s.substr(header, content_len);
    in->remove_prefix(out->whole.size());
    return true;
  }
  if (len & 0x80) {
    size_t n = len & 0x7f;
    if (n > 4 || s.size() < header + n) return false;
    if (enc == Encoding::kDer && octet(header) == 0) return false;  // padded
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | octet(header + i);
    if (enc == Encoding::kDer && len < 0x80) return false;  // the short form was required
    header += n;
  }
  if (len > s.size() - header) return false;
  out->tag = octet(0);
  out->whole = s.substr(0, header + len);
  out->content = s.substr(header, len);
  in->remove_prefix(header + len);
  return true;
}

// Reads a TLV whose tag must be `tag`.
inline bool ReadTlv(std::string_view* in, uint8_t tag, TlvView* out, Encoding enc = Encoding::kDer) {
  std::string_view probe = *in;
  if (!ReadTlv(&probe, out, enc) || out->tag != tag) return false;
  *in = probe;
  return true;
}

// An INTEGER's content in the fewest octets (§8.3.2): no leading 0x00
// before a clear high bit, no leading 0xff before a set one.
inline bool MinimalInteger(std::string_view c) {
  if (c.empty()) return false;
  if (c.size() == 1) return true;
  auto b0 = static_cast<uint8_t>(c[0]), b1 = static_cast<uint8_t>(c[1]);
  return !((b0 == 0x00 && !(b1 & 0x80)) || (b0 == 0xff && (b1 & 0x80)));
}

// Reads an INTEGER that fits in 64 bits.
inline bool ReadInteger(std::string_view* in, int64_t* value, Encoding enc = Encoding::kDer) {
  std::string_view probe = *in;
  TlvView t;
  if (!ReadTlv(&probe, kInteger, &t, enc) || t.content.size() > 8 || !MinimalInteger(t.content)) return false;
  uint64_t v = static_cast<uint8_t>(t.content[0]) & 0x80 ? ~uint64_t{0} : 0;  // sign extension
  for (char c : t.content) v = (v << 8) | static_cast<uint8_t>(c);
  *value = static_cast<int64_t>(v);
  *in = probe;
  return true;
}

// An OBJECT IDENTIFIER's content as X.690 §8.19 allows it: at least one
// subidentifier, each in the fewest base-128 digits, the last one ended.
inline bool WellFormedOid(std::string_view c) {
  if (c.empty() || (static_cast<uint8_t>(c.back()) & 0x80)) return false;
  bool at_start = true;
  for (char ch : c) {
    auto b = static_cast<uint8_t>(ch);
    if (at_start && b == 0x80) return false;
    at_start = !(b & 0x80);
  }
  return true;
}

// Reads an OBJECT IDENTIFIER; `*oid` is its content octets.
inline bool ReadOid(std::string_view* in, std::string_view* oid, Encoding enc = Encoding::kDer) {
  std::string_view probe = *in;
  TlvView t;
  if (!ReadTlv(&probe, kObjectIdentifier, &t, enc) || !WellFormedOid(t.content)) return false;
  *oid = t.content;
  *in = probe;
  return true;
}

}  // namespace mtas::der
