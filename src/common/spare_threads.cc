#include "common/spare_threads.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

namespace mtas {
namespace {

class SpareThreads {
 public:
  size_t Waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_.size();
  }

  bool Run(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        Slot* slot = idle_.back();
        idle_.pop_back();
        slot->job = std::move(job);
        slot->handed.notify_one();
        return true;
      }
    }
    try {
      std::thread([this, first = std::move(job)]() mutable { Serve(std::move(first)); }).detach();
    } catch (const std::system_error&) {
      return false;
    }
    return true;
  }

 private:
  // A waiting thread's place in idle_; it lives on that thread's stack.
  struct Slot {
    std::condition_variable handed;
    std::function<void()> job;  // set, under mu_, by the Run() that takes the slot
  };

  void Serve(std::function<void()> job) {
    Slot slot;
    for (;;) {
      job();
      job = nullptr;
      std::unique_lock<std::mutex> lock(mu_);
      if (idle_.size() >= kMaxIdleSpareThreads) return;
      idle_.push_back(&slot);
      // Only a Run() that sets slot.job takes the slot out of idle_.
      if (!slot.handed.wait_for(lock, kKeepIdleSpareThread, [&slot] { return slot.job != nullptr; })) {
        idle_.erase(std::find(idle_.begin(), idle_.end(), &slot));
        return;
      }
      job = std::move(slot.job);
      slot.job = nullptr;
    }
  }

  std::mutex mu_;
  std::vector<Slot*> idle_;  // guarded by mu_
};

// Never destroyed: detached threads may still wait on it while the process
// exits.
SpareThreads& Pool() {
  alignas(SpareThreads) static unsigned char storage[sizeof(SpareThreads)];
  static SpareThreads* pool = ::new (storage) SpareThreads();
  return *pool;
}

}  // namespace

bool RunOnSpareThread(std::function<void()> job) { return Pool().Run(std::move(job)); }
size_t SpareThreadsWaiting() { return Pool().Waiting(); }

}  // namespace mtas
