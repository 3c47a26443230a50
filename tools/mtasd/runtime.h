// What mtasd needs to process a message, built from a Config once (at start
// and on SIGHUP): parsed keys, key sources, policy. Immutable and shared.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config.h"
#include "mtas/keys.h"
#include "mtas/policy.h"
#include "mtas/sign.h"
#include "mtas/verify.h"

namespace mtasd {

struct Runtime {
  Config config;
  std::map<std::string, std::shared_ptr<const mtas::Signer>> signers;  // by KeyTable id
  std::shared_ptr<mtas::KeyResolver> resolver;
  std::shared_ptr<mtas::DnsClient> dns;
  mtas::LocalPolicy local_policy;
  mtas::VerifyOptions verify_options;

  // The signer for a sender domain and its KeyTable id (*key_id), or nullptr.
  const mtas::Signer* SignerFor(const std::string& sender_domain, std::string* key_id = nullptr) const;
};

mtas::Result<std::shared_ptr<const Runtime>> BuildRuntime(const Config& config);

// One log line (syslog or stderr, as configured).
void Log(int priority, const std::string& line);
void SetupLogging(const Config& config);

}  // namespace mtasd
