// Oracles: the RFCs' rules written out as they read, one line or one
// character at a time, with no streaming and no fast paths. Unit tests and
// fuzz targets compare the streaming code against them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mtas/canon.h"

namespace mtas::oracle {

// RFC 6376 §3.4.3/§3.4.4 as the text reads, one whole line at a time, with
// no streaming and no fast paths: the oracle for the streaming canonicalizer.
inline std::string ReferenceBody(Canon c, const std::string& in) {
  std::vector<std::string> lines;
  std::string line;
  bool open = false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' || in[i] == '\n') {  // CRLF, bare CR, bare LF: each ends a line
      if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      lines.push_back(line);
      line.clear();
      open = false;
    } else {
      line.push_back(in[i]);
      open = true;
    }
  }
  if (open) lines.push_back(line);
  if (c == Canon::kRelaxed) {
    for (auto& l : lines) {
      std::string out;
      for (size_t i = 0; i < l.size();) {
        if (l[i] == ' ' || l[i] == '\t') {
          while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
          if (i < l.size()) out.push_back(' ');  // trailing WSP goes
        } else {
          out.push_back(l[i++]);
        }
      }
      l = out;
    }
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  if (out.empty() && c == Canon::kSimple) out = "\r\n";
  return out;
}

// RFC 2045 §6.8 as it reads, one character at a time: the oracle for the
// decoder's fast paths.
inline std::string ReferenceBase64(const std::string& in) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int have = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = alphabet.find(c);
    if (v == std::string::npos) continue;
    bits = bits << 6 | static_cast<uint32_t>(v);
    if (++have == 4) {
      out += {static_cast<char>(bits >> 16), static_cast<char>(bits >> 8), static_cast<char>(bits)};
      bits = 0;
      have = 0;
    }
  }
  if (have == 2) out += static_cast<char>(bits >> 4);
  if (have == 3) out += {static_cast<char>(bits >> 10), static_cast<char>(bits >> 2)};
  return out;
}

}  // namespace mtas::oracle
