#include "runtime.h"

#include <syslog.h>

#include <cstdio>
#include <mutex>

#include "mtas/key_sources.h"

namespace mtasd {
namespace {

std::mutex log_mu;
bool use_syslog = false;

int Facility(const std::string& name) {
  static const std::map<std::string, int> f = {{"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0},
                                               {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
                                               {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
                                               {"local7", LOG_LOCAL7}};
  auto it = f.find(name);
  return it == f.end() ? LOG_MAIL : it->second;
}

}  // namespace

void SetupLogging(const Config& config) {
  std::lock_guard<std::mutex> lock(log_mu);
  use_syslog = config.syslog_facility != "no" && !config.foreground;
  if (use_syslog) openlog("mtasd", LOG_PID, Facility(config.syslog_facility));
}

void Log(int priority, const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu);
  if (use_syslog) {
    syslog(priority, "%s", line.c_str());
  } else {
    std::fprintf(stderr, "mtasd: %s\n", line.c_str());
    std::fflush(stderr);
  }
}

const mtas::Signer* Runtime::SignerFor(const std::string& sender_domain, std::string* key_id) const {
  const KeyEntry* k = KeyFor(config, sender_domain);
  if (!k) return nullptr;
  if (key_id) *key_id = k->id;
  auto it = signers.find(k->id);
  return it == signers.end() ? nullptr : it->second.get();
}

mtas::Result<std::shared_ptr<const Runtime>> BuildRuntime(const Config& config) {
  auto rt = std::make_shared<Runtime>();
  rt->config = config;
  for (const auto& k : config.keys) {  // keys are parsed here, never per message
    auto keys = mtas::LoadSigningKeys(k.key_files, k.cert_files);
    if (!keys.ok()) return mtas::Status::InvalidArgument("KeyTable " + k.id + ": " + keys.status().message());
    mtas::SignOptions opt;
    opt.signer = k.signer;
    opt.services = k.services;
    opt.carrier = k.carrier;
    auto signer = mtas::Signer::Create(std::move(*keys), opt);
    if (!signer.ok()) return mtas::Status::InvalidArgument("KeyTable " + k.id + ": " + signer.status().message());
    rt->signers[k.id] = *signer;
  }
  mtas::KeySourceOptions sources;
  sources.pinned = config.pinned_keys;
  sources.ca_file = config.ca_file;
  sources.network = config.network;
  sources.dns.server = config.resolver;
  sources.dns.trust_anchor_file = config.trust_anchor;
  sources.dns.timeout_ms = config.timeout_ms;
  sources.fetch.timeout_ms = config.timeout_ms;
  auto keys = mtas::BuildKeySources(sources);
  if (!keys.ok()) return keys.status();
  rt->resolver = keys->resolver;
  rt->dns = keys->dns;
  if (!config.policy_file.empty()) {
    auto lp = mtas::LocalPolicy::Load(config.policy_file);
    if (!lp.ok()) return lp.status();
    rt->local_policy = *lp;
  }
  for (const auto& d : config.trusted_forwarders) rt->local_policy.trusted_forwarders.push_back(d);
  if (config.on_policy_error) rt->local_policy.on_policy_error = *config.on_policy_error;
  rt->verify_options.resolver = rt->resolver.get();
  return std::shared_ptr<const Runtime>(std::move(rt));
}

}  // namespace mtasd
