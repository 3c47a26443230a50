// DNS lookups through libunbound, bounded in time, optionally DNSSEC-validated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mtas/status.h"

namespace mtas {

struct DnsOptions {
  std::string server;             // "" = the system resolver (/etc/resolv.conf); else HOST or HOST@PORT or HOST:PORT
  std::string trust_anchor_file;  // DNSKEY/DS lines; enables DNSSEC validation
  int timeout_ms = 5000;          // per query, whatever the server does
};

struct DnsAnswer {
  enum class Outcome { kOk, kNxDomain, kNoData, kServFail, kTimeout, kBogus };
  Outcome outcome = Outcome::kServFail;
  std::vector<std::string> rdata;  // wire-format RDATA of each record
  uint32_t ttl = 0;
  bool secure = false;  // DNSSEC-validated
  std::string why;      // for kBogus / kServFail: what went wrong
};

// Record types MTAS reads.
inline constexpr int kDnsTypeTxt = 16;
inline constexpr int kDnsTypeKey = 25;
inline constexpr int kDnsTypeCert = 37;

// Whether `server` is a resolver address DnsOptions::server takes: an IP
// address, optionally with a port 1..65535 (IPv4 "A.B.C.D:PORT", either
// family "ADDRESS@PORT"). Names are refused: the resolver cannot look up
// where it should ask.
Status CheckResolverAddress(const std::string& server);

// Thread safety: Query may be called from any number of threads at once.
class DnsClient {
 public:
  static Result<std::unique_ptr<DnsClient>> Create(const DnsOptions& options);
  virtual ~DnsClient() = default;
  // Never blocks longer than the configured timeout.
  virtual DnsAnswer Query(const std::string& name, int type) = 0;
  virtual bool validating() const = 0;
};

}  // namespace mtas
