#include "carrier/carrier.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "common/ascii.h"
#include "mtas/message.h"

namespace mtas {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// `v` without the bytes `drop` marks: a signature's base64 is kilobytes
// long and read for every message.
std::string Without(std::string_view v, const std::array<bool, 256>& drop) {
  std::string out(v.size(), '\0');
  char* o = out.data();
  const char* p = v.data();
  const char* end = p + v.size();
  while (p < end) {  // copy each run of kept bytes whole: base64 lines are ~72 bytes
    const char* q = p;
    while (q < end && !drop[static_cast<unsigned char>(*q)]) ++q;
    std::memcpy(o, p, static_cast<size_t>(q - p));
    o += q - p;
    while (q < end && drop[static_cast<unsigned char>(*q)]) ++q;
    p = q;
  }
  out.resize(static_cast<size_t>(o - out.data()));
  return out;
}

constexpr std::array<bool, 256> kLineEnds = [] {
  std::array<bool, 256> t{};
  t['\r'] = t['\n'] = true;
  return t;
}();
constexpr std::array<bool, 256> kFoldingWhitespace = [] {
  std::array<bool, 256> t{};
  t['\r'] = t['\n'] = t[' '] = t['\t'] = true;
  return t;
}();

// DKIM-style tag list (RFC 6376 §3.2) with quoted values allowed.
// Values are returned as they stand (quotes removed), line ends included.
std::vector<std::pair<std::string, std::string_view>> ParseTagList(std::string_view s) {
  std::vector<std::pair<std::string, std::string_view>> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    // The ';' that ends this tag, quoted sections skipped. find() is memchr:
    // a b= value is kilobytes long and read for every message.
    for (;;) {
      size_t semi = std::min(s.find(';', i), s.size());
      size_t quote = s.substr(0, semi).find('"', i);
      if (quote == std::string_view::npos) {
        i = semi;
        break;
      }
      size_t close = s.find('"', quote + 1);
      i = close == std::string_view::npos ? s.size() : close + 1;
      if (i == s.size()) break;
    }
    std::string_view item = Trim(s.substr(start, i - start));
    ++i;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(Trim(item.substr(0, eq)));
    for (char& c : name) c = AsciiLower(c);
    std::string_view v = Trim(item.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    out.emplace_back(std::move(name), v);
  }
  return out;
}

}  // namespace

bool ValidMsgid(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string TrackingField(const std::string& msgid, Carrier carrier, DigestAlg digest, Canon canon) {
  return std::string(kTrackingName) + ": MTAS/1.0 msgid=" + msgid + "; carrier=" + std::string(CarrierName(carrier)) +
         "; micalg=" + std::string(DigestMicalg(digest)) + "; canon=" + std::string(CanonName(canon));
}

std::string SignatureHeaderField(const std::string& msgid, const std::string& services, const std::string& der,
                                 const std::string& eol) {
  std::string f = std::string(kSignatureFieldName) + ": v=MTAS/1.0; msgid=" + msgid + ";";
  if (!services.empty()) f += eol + " vs=\"" + services + "\";";
  f += eol + " b=" + Base64Encode(der, 72, eol + " ");
  return f;
}

std::string PostalDataEntity(const std::string& msgid, DigestAlg digest, const std::string& services,
                             const std::string& der, const std::string& eol) {
  std::string boundary = "----=_mtas_" + msgid;
  std::string e;
  e += "Content-Type: multipart/x-postal-data; msgid=\"" + msgid + "\";" + eol;
  e += " boundary=\"" + boundary + "\"" + eol + eol;
  e += "This mime entity contains message tracking data" + eol;
  e += "--" + boundary + eol;
  e += "Content-Type: " + std::string(kSignatureLabel) + "; micalg=" + std::string(DigestMicalg(digest)) +
       "; ext=\"MTAS/1.0\"" + eol;
  e += "Content-Transfer-Encoding: base64" + eol;
  if (!services.empty()) e += "X-Certificate-Verification-Service: \"" + services + "\"" + eol;
  e += eol;
  e += Base64Encode(der, 76, eol) + eol;
  e += "--" + boundary + "--" + eol;
  return e;
}

Result<TrackingInfo> ParseTracking(std::string_view value) {
  value = Trim(value);
  size_t sp = value.find_first_of(" \t\r\n;");
  TrackingInfo t;
  t.version = std::string(value.substr(0, sp));
  if (t.version.rfind("MTAS/", 0) != 0) return Status::Malformed("tracking header does not start with MTAS/<version>");
  for (auto& [name, v] : ParseParams(sp == std::string_view::npos ? "" : value.substr(sp))) {
    if (name == "msgid") t.msgid = v;
    if (name == "carrier") t.carrier = v;
    if (name == "micalg") {
      auto d = ParseDigestName(v);
      if (d.ok()) t.digest = *d;
    }
    if (name == "canon") {
      auto c = ParseCanon(v);
      if (c.ok()) t.canon = *c;
    }
  }
  if (t.msgid.empty()) return Status::Malformed("tracking header has no msgid");
  if (!ValidMsgid(t.msgid)) return Status::Malformed("tracking header msgid is not a valid token");
  return t;
}

std::string SignatureFieldMsgid(std::string_view value) {
  for (auto& [name, v] : ParseTagList(value))
    if (name == "msgid") return Without(v, kLineEnds);
  return "";
}

Result<SignatureField> ParseSignatureField(std::string_view value) {
  SignatureField f;
  f.version = "MTAS/1.0";
  for (auto& [name, v] : ParseTagList(value)) {
    if (name == "v") f.version = Without(v, kLineEnds);
    if (name == "msgid") f.msgid = Without(v, kLineEnds);
    if (name == "vs") f.services = Without(v, kLineEnds);
    if (name == "b") f.signature_base64 = Without(v, kFoldingWhitespace);
  }
  if (f.msgid.empty()) return Status::Malformed("MTAS-Signature has no msgid= tag");
  if (f.signature_base64.empty()) return Status::Malformed("MTAS-Signature has no b= tag");
  return f;
}

std::string_view CarrierName(Carrier c) {
  switch (c) {
    case Carrier::kBody:
      return "body";
    case Carrier::kHeader:
      return "header";
    default:
      return "auto";
  }
}

Result<Carrier> ParseCarrier(std::string_view name) {
  if (name == "auto") return Carrier::kAuto;
  if (name == "body") return Carrier::kBody;
  if (name == "header") return Carrier::kHeader;
  return Status::InvalidArgument("unknown carrier '" + std::string(name) + "' (use auto, body or header)");
}

}  // namespace mtas
