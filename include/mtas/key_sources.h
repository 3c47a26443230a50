// The key sources a verifier asks, in one builder both tools use.
//
// In order (docs/protocol.md §3):
//   1. keys or certificates the administrator pins per signer;
//   2. a certificate in the signature that chains to a trusted CA (PKIX);
//   3. the signer's verification services over DNS, HTTP(S), FTP, TFTP,
//      unless the network is off.
// The first that finds a key, or has evidence against it, decides
// (ChainResolver).
//
// Thread safety: the resolver and DNS client built here may be shared by
// any number of threads (mtasd's sessions do).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mtas/dns.h"
#include "mtas/fetch.h"
#include "mtas/keys.h"
#include "mtas/status.h"

namespace mtas {

struct KeySourceOptions {
  // Signer FQDN -> PEM/DER key or certificate file, checked in order.
  std::vector<std::pair<std::string, std::string>> pinned;
  std::string ca_file;  // PKIX trust anchors; "" = the system trust store
  bool network = true;  // false: no lookup ever leaves the host
  DnsOptions dns;       // resolver, DNSSEC trust anchor, per-query timeout
  FetchOptions fetch;   // timeout, TLS CA file, test address overrides
};

struct KeySources {
  std::shared_ptr<KeyResolver> resolver;  // for VerifyOptions::resolver
  std::shared_ptr<DnsClient> dns;         // the network source's client (null when off), for policy lookups
};

// Fails (kInvalidArgument or kIoError, naming the file or setting) on an
// unreadable pinned key, an unreadable CA file, or a resolver that cannot
// be set up: a verifier that would defer every message must not start.
Result<KeySources> BuildKeySources(const KeySourceOptions& options);

}  // namespace mtas
