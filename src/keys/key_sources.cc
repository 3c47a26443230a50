#include "mtas/key_sources.h"

#include "mtas/key_service.h"

namespace mtas {

Result<KeySources> BuildKeySources(const KeySourceOptions& options) {
  auto chain = std::make_shared<ChainResolver>();
  auto pinned = std::make_unique<PinnedKeyResolver>();
  for (const auto& [signer, path] : options.pinned) MTAS_RETURN_IF_ERROR(pinned->Add(signer, path));
  if (!pinned->empty()) chain->Add(std::move(pinned));
  auto pkix = PkixResolver::FromCaFile(options.ca_file);
  if (!pkix.ok()) return pkix.status();
  chain->Add(std::move(*pkix));
  KeySources out;
  if (options.network) {
    auto client = DnsClient::Create(options.dns);
    if (!client.ok()) return client.status();
    out.dns = std::move(*client);
    NetworkOptions net;
    net.dns = out.dns;
    net.fetch = options.fetch;
    chain->Add(std::make_unique<ServiceKeyResolver>(std::move(net)));
  }
  out.resolver = std::move(chain);
  return out;
}

}  // namespace mtas
