#include "mtas/services.h"

#include <cctype>

#include "common/ascii.h"

namespace mtas {
namespace {

constexpr size_t kMaxServices = 16;

constexpr std::string_view kKnownMethods[] = {"http:download:der",
                                              "https:download:der",
                                              "ftp:download:der",
                                              "tftp:download:der",
                                              "domain:key:email",
                                              "domain:cert:pkix",
                                              "domain:txt:xml:_ep:keys",
                                              "domain:txt:dk",
                                              "http:scvp",
                                              "http:dvcs",
                                              "http:pgp-keyserver",
                                              "ldap:smime-keyserver",
                                              "http:soap:polycserv:email:cms",
                                              "soap-beep:polycserv:email:cms"};

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool Printable(std::string_view s) {
  for (unsigned char c : AsBytes(s))
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

bool IsKnownMethod(std::string_view method) {
  for (auto m : kKnownMethods)
    if (m == method) return true;
  return false;
}

Result<std::vector<Service>> ParseServices(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  std::vector<Service> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t semi = text.find(';', start);
    std::string_view entry = text.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start);
    std::vector<std::string> words = Words(entry);
    if (!words.empty()) {
      if (words.size() < 2 || words.size() > 3)
        return Status::Malformed("service entry '" + std::string(entry) + "' is not METHOD ARG [ARG]");
      for (const auto& w : words)
        if (!Printable(w) || w.size() > 255) return Status::Malformed("service entry has an unusable word");
      if (out.size() == kMaxServices) return Status::Malformed("more than 16 verification services");
      Service s;
      s.method = words[0];
      for (char& c : s.method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      s.args.assign(words.begin() + 1, words.end());
      s.known = IsKnownMethod(s.method);
      out.push_back(std::move(s));
    }
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return out;
}

std::string ResolveName(std::string_view label, std::string_view signer) {
  if (!label.empty() && label.back() == '.') return std::string(label.substr(0, label.size() - 1));
  if (label.empty()) return std::string(signer);
  return std::string(label) + "." + std::string(signer);
}

}  // namespace mtas
