#include "mtas/blocking.h"

#include <atomic>

namespace mtas {
namespace {
std::atomic<BlockingHook> hook{nullptr};
}  // namespace

void SetBlockingHook(BlockingHook h) { hook = h; }

void AnnounceBlocking() {
  if (BlockingHook h = hook.load(std::memory_order_relaxed)) h();
}

}  // namespace mtas
