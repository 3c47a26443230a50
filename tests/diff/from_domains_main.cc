// Driver for tests/diff/from_diff.py: reads one From field value per line,
// hex-encoded (any bytes), and prints per line either the domains
// FromDomains gives, space-separated, or "ERROR <reason>".
#include <iostream>
#include <string>
#include <vector>

#include "mtas/address.h"

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unhex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    mtas::HeaderField f;
    f.raw = "From:";
    f.name_len = 4;
    if (!Unhex(line, &f.raw)) {
      std::cout << "ERROR driver: bad hex input\n";
      continue;
    }
    auto r = mtas::FromDomains({f});
    if (!r.ok()) {
      std::cout << "ERROR " << r.status().message() << "\n";
      continue;
    }
    for (size_t i = 0; i < r->size(); ++i) std::cout << (i ? " " : "") << (*r)[i];
    std::cout << "\n";
  }
  return 0;
}
