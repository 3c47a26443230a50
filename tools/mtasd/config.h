// mtasd.conf: plain "Key value" lines like opendkim.conf (mtasd.conf(5)).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/policy.h"
#include "mtas/sign.h"
#include "mtas/status.h"

namespace mtasd {

enum class Mode { kSign, kVerify, kBoth };

// One signing identity (a KeyTable line).
struct KeyEntry {
  std::string id;
  // The keys that sign together, one SignerInfo each (the KeyTable's
  // KEYFILE, then each key=): a PEM file or a PKCS#11 URI.
  std::vector<std::string> key_files;
  std::vector<std::string> cert_files;  // optional; each goes with the key it holds
  std::string signer;                   // FQDN written into the signature
  std::string services;
  mtas::Carrier carrier = mtas::Carrier::kAuto;
};

// Which identity signs for which sender domain (a SigningTable line).
struct SigningRule {
  std::string pattern;  // "example.com", "*.example.com" or "*"
  std::string key_id;
};

struct Config {
  std::string path;
  Mode mode = Mode::kBoth;
  std::string socket = "inet:8894@127.0.0.1";  // inet:PORT@ADDR or unix:/path
  std::string authserv_id;                     // default: the host name
  std::vector<KeyEntry> keys;                  // from KeyTable
  std::vector<SigningRule> signing;            // from SigningTable
  std::vector<std::string> internal_hosts = {"127.0.0.1", "::1"};
  mtas::Carrier carrier = mtas::Carrier::kAuto;  // default for keys that do not say
  bool policy = false;                           // look up published policies
  std::string policy_file;
  // TrustedForwarders: intermediaries whose passing signature may vouch for
  // others' changes (added to the policy file's trusted-forwarder lines).
  std::vector<std::string> trusted_forwarders;
  std::vector<std::pair<std::string, std::string>> pinned_keys;  // PinnedKey FQDN PATH
  std::string ca_file;
  std::string resolver;
  std::string trust_anchor;
  int timeout_ms = 5000;
  bool on_error_tempfail = true;  // OnError tempfail | accept
  // OnPolicyError accept | tempfail (LocalPolicy::on_policy_error); unset:
  // the policy file's on-policy-error line, else accept.
  std::optional<mtas::PolicyErrorAction> on_policy_error;
  size_t max_message_size = 64u << 20;
  std::string syslog_facility = "mail";  // "no": log to stderr
  std::string pid_file;
  std::string user_id;
  bool foreground = false;
  bool network = true;                 // key lookups over DNS/HTTP (Network no: pinned and PKIX only)
  std::string metrics_socket;          // MetricsSocket: "" = no metrics endpoint
  std::vector<std::string> peer_list;  // PeerList: MTAs allowed to connect over TCP; empty = any
  int max_connections = 0;             // MaxConnections: 0 = no limit
};

// Parses a config file; errors name the file and line. KeyTable and
// SigningTable paths are read relative to the config file.
mtas::Result<Config> LoadConfig(const std::string& path);
mtas::Result<Config> ParseConfig(std::string_view text, const std::string& name, const std::string& base_dir);

// The identity for a sender domain, nullptr when none signs for it.
const KeyEntry* KeyFor(const Config& config, const std::string& sender_domain);

// Whether a client address is in InternalHosts (addresses and CIDR blocks).
bool IsInternal(const Config& config, const std::string& address);

// Whether `address` matches one of `specs` (addresses and CIDR blocks).
bool AddressInList(const std::vector<std::string>& specs, const std::string& address);

}  // namespace mtasd
