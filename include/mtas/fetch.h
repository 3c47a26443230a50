// Downloads over http, https, ftp and tftp through libcurl: bounded size,
// bounded time, few redirects, https verified.
#pragma once

#include <string>
#include <vector>

#include "mtas/status.h"

namespace mtas {

struct FetchOptions {
  int timeout_ms = 5000;         // whole transfer
  size_t max_bytes = 64 * 1024;  // larger bodies are refused
  int max_redirects = 3;
  std::string tls_ca_file;  // "" = the system trust store
  // curl's --connect-to entries "HOST:PORT:CONNECT-HOST:CONNECT-PORT", to
  // reach a signer's name at another address (tests, split horizons).
  std::vector<std::string> connect_to;
};

struct FetchResult {
  enum class Outcome { kOk, kNotFound, kTemporary, kTooLarge, kRefused };
  Outcome outcome = Outcome::kTemporary;
  std::string body;
  std::string why;
};

// Thread safety: reentrant (each call has its own libcurl handle).
FetchResult Fetch(const std::string& url, const FetchOptions& options);

}  // namespace mtas
