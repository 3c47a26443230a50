// Organisational domains (RFC 7489 §3.2) by the public suffix list.
#include "mtas/domain.h"

#include <cctype>
#include <fstream>
#include <set>
#include <vector>

namespace mtas {
namespace {

// Public suffix rules, read once (Debian: publicsuffix package).
struct SuffixList {
  std::set<std::string> rules, wildcards, exceptions;
  bool loaded = false;
  SuffixList() {
    std::ifstream in("/usr/share/publicsuffix/public_suffix_list.dat");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line.rfind("//", 0) == 0) continue;
      line = line.substr(0, line.find_first_of(" \t\r"));
      loaded = true;
      if (line.rfind("*.", 0) == 0)
        wildcards.insert(NormalizeDomain(line.substr(2)));
      else if (line.rfind("!", 0) == 0)
        exceptions.insert(NormalizeDomain(line.substr(1)));
      else
        rules.insert(NormalizeDomain(line));
    }
  }
};

}  // namespace

std::string NormalizeDomain(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string OrganizationalDomain(std::string_view domain) {
  static const SuffixList psl;
  std::string d = NormalizeDomain(domain);
  std::vector<std::string> labels;
  for (size_t start = 0; start <= d.size();) {
    size_t dot = d.find('.', start);
    labels.push_back(d.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (labels.size() <= 2) return d;
  auto suffix_of = [&](size_t from) {
    std::string s;
    for (size_t i = from; i < labels.size(); ++i) s += (s.empty() ? "" : ".") + labels[i];
    return s;
  };
  size_t suffix_len = 1;  // labels in the public suffix
  if (psl.loaded) {
    for (size_t i = 0; i < labels.size(); ++i) {
      std::string s = suffix_of(i);
      std::string parent = i + 1 < labels.size() ? suffix_of(i + 1) : "";
      if (psl.exceptions.count(s)) {
        suffix_len = labels.size() - i - 1;
        break;
      }
      if (psl.rules.count(s) || (!parent.empty() && psl.wildcards.count(parent))) {
        suffix_len = labels.size() - i;
        break;
      }
    }
  }
  if (suffix_len + 1 > labels.size()) return d;
  return suffix_of(labels.size() - suffix_len - 1);
}

}  // namespace mtas
