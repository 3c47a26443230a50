#include "message/received.h"

namespace mtas {

std::optional<ReceivedHash> ComputeReceivedHash(const std::vector<HeaderField>& fields, DigestAlg alg, int64_t count) {
  std::vector<const HeaderField*> received;
  for (const auto& f : fields)
    if (f.NameIs("Received")) received.push_back(&f);
  if (count < 0) count = static_cast<int64_t>(received.size());
  if (static_cast<size_t>(count) > received.size()) return std::nullopt;
  ReceivedHash rh;
  rh.count = count;
  rh.alg = alg;
  Hasher h(alg);
  for (size_t i = received.size() - static_cast<size_t>(count); i < received.size(); ++i) {
    h.Update(CanonicalHeaderRelaxed(received[i]->raw));
    h.Update("\r\n");
  }
  rh.digest = h.Finish();
  return rh;
}

}  // namespace mtas
