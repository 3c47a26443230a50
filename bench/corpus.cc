#include "corpus.h"

#include <random>

#include "mtas/canon.h"

namespace mtas::bench {
namespace {

std::string Headers(const std::string& subject, unsigned seed) {
  return "Received: from client.example.org (client.example.org [192.0.2.7])\r\n"
         "\tby mail.example.com with ESMTPS id " +
         std::to_string(seed) +
         "; Wed, 11 Mar 2026 16:02:49 +0100\r\n"
         "From: Alice Example <alice@example.com>\r\n"
         "To: Bob Example <bob@example.net>\r\n"
         "Subject: " +
         subject +
         "\r\n"
         "Date: Wed, 11 Mar 2026 16:02:47 +0100\r\n"
         "Message-ID: <bench-" +
         std::to_string(seed) +
         "@example.com>\r\n"
         "MIME-Version: 1.0\r\n";
}

std::string Prose(size_t size, std::mt19937& rng) {
  static const char* words[] = {"relay", "queue",  "message", "report", "the", "of",   "and",    "signature",
                                "mail",  "server", "volume",  "week",   "up",  "down", "hop",    "delivery",
                                "a",     "to",     "in",      "is",     "for", "with", "bounce", "policy"};
  std::string out;
  size_t col = 0;
  while (out.size() < size) {
    std::string w = words[rng() % 24];
    if (col + w.size() + 1 > 72) {
      out += "\r\n";
      col = 0;
    } else if (col) {
      out += ' ';
      ++col;
    }
    out += w;
    col += w.size();
  }
  return out + "\r\n";
}

}  // namespace

std::string TextMessage(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string h = Headers("Text message " + std::to_string(seed), seed) +
                  "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
  return h + Prose(size > h.size() ? size - h.size() : 0, rng);
}

std::string MultipartMessage(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string b = "=_bench_" + std::to_string(seed);
  std::string text = Prose(2000, rng);
  size_t attach_len = size > 4000 ? (size - 4000) * 3 / 4 * 76 / 78 : 100;
  std::string bytes(attach_len, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  return Headers("Multipart message " + std::to_string(seed), seed) + "Content-Type: multipart/mixed; boundary=\"" + b +
         "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--" + b +
         "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + text + "\r\n--" + b +
         "\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n" +
         Base64Encode(bytes, 76) + "\r\n--" + b + "--\r\n";
}

}  // namespace mtas::bench
