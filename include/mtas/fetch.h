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
  std::string final_url;  // where the body came from, after redirects ("" if none was read)
};

// Thread safety: reentrant (each call has its own libcurl handle).
FetchResult Fetch(const std::string& url, const FetchOptions& options);

struct LdapFetchResult {
  FetchResult::Outcome outcome = FetchResult::Outcome::kTemporary;
  std::vector<std::string> values;  // each userCertificate;binary value, as stored
  std::string why;
};

// The certificates of the entry an LDAP URL names (RFC 4516:
// ldap[s]://HOST[:PORT]/DN[??SCOPE?FILTER]; scope base and any entry by
// default), read as the attribute userCertificate;binary with an anonymous
// bind, through libldap loaded at first use. Bounded: options.timeout_ms for
// connecting and for the search, at most 8 entries, 16 values of
// options.max_bytes each. options.connect_to applies as for Fetch; ldaps
// verifies the server against options.tls_ca_file or the system store.
// Thread safety: reentrant (a connection per call).
LdapFetchResult FetchLdapCertificates(const std::string& url, const FetchOptions& options);

}  // namespace mtas
