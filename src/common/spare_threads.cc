#include "common/spare_threads.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace mtas {
namespace {

class SpareThreads {
 public:
  SpareThreads() { pthread_atfork(&SpareThreads::BeforeFork, &SpareThreads::AfterForkInParent, &AfterForkInChild); }

  bool Run(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      Slot* slot = idle_.back();
      idle_.pop_back();
      ++busy_;
      slot->job = std::move(job);
      slot->handed.notify_one();
      return true;
    }
    // Started under the lock, so that the thread finds slot->thread set.
    auto slot = std::make_unique<Slot>();
    slot->job = std::move(job);
    if (pthread_create(&slot->thread, nullptr, &SpareThreads::Serve, slot.get()) != 0) return false;
    slot.release();  // the thread owns it now, until it leaves
    ++busy_;
    return true;
  }

  size_t Waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_.size();
  }

  void Close() {
    std::vector<Slot*> leaving;
    {
      std::unique_lock<std::mutex> lock(mu_);
      closing_ = true;
      leaving.swap(idle_);
      for (Slot* slot : leaving) {
        slot->told_to_leave = true;
        slot->handed.notify_one();
      }
      // A thread whose job has just returned is on its way back: wait for
      // it (briefly: a job still running at exit is not waited for) and join
      // it too, so that no thread is left running as the process ends.
      joining_busy_ = true;
      quiet_.wait_for(lock, kCloseWait, [this] { return busy_ == 0; });
      joining_busy_ = false;
      leaving.insert(leaving.end(), returned_.begin(), returned_.end());
      returned_.clear();
    }
    for (Slot* slot : leaving) {
      pthread_join(slot->thread, nullptr);
      delete slot;
    }
  }

 private:
  struct Slot {
    pthread_t thread{};
    std::condition_variable handed;
    std::function<void()> job;   // set, under mu_, by the Run() that takes the slot
    bool told_to_leave = false;  // set, under mu_, by Close(), which joins the thread
  };

  static void* Serve(void* arg);
  void ServeSlot(Slot* slot);

  // The forking thread holds mu_ across fork, so the child's copy of the
  // state is whole. In the child no spare thread exists: their slots are set
  // aside (not destroyed: a condition variable the parent's thread waits on
  // cannot be destroyed in the child), and the child starts its own.
  static void BeforeFork();
  static void AfterForkInParent();
  static void AfterForkInChild();

  std::mutex mu_;
  std::vector<Slot*> idle_;        // guarded by mu_
  std::vector<Slot*> forked_;      // slots of threads left behind in the parent; never freed
  bool closing_ = false;           // guarded by mu_
  size_t busy_ = 0;                // threads from taking a job until they wait again; guarded by mu_
  bool joining_busy_ = false;      // Close() waits for the busy ones; guarded by mu_
  std::vector<Slot*> returned_;    // busy threads come back for Close() to join; guarded by mu_
  std::condition_variable quiet_;  // busy_ fell
  static constexpr std::chrono::seconds kCloseWait{1};
};

// Never destroyed: a thread busy when the process exits still takes mu_ once
// its job returns.
SpareThreads& Pool() {
  alignas(SpareThreads) static unsigned char storage[sizeof(SpareThreads)];
  static SpareThreads* pool = [] {
    auto* p = ::new (storage) SpareThreads();
    std::atexit([] { CloseSpareThreads(); });
    return p;
  }();
  return *pool;
}

void* SpareThreads::Serve(void* arg) {
  Pool().ServeSlot(static_cast<Slot*>(arg));
  return nullptr;
}

void SpareThreads::ServeSlot(Slot* slot) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    std::function<void()> job = std::move(slot->job);
    slot->job = nullptr;
    lock.unlock();
    job();
    job = nullptr;  // the job's captures go before the thread is handed on
    lock.lock();
    --busy_;
    if (closing_ && joining_busy_) {
      returned_.push_back(slot);  // Close() joins this thread and frees the slot
      quiet_.notify_all();
      return;
    }
    if (closing_ || idle_.size() >= kMaxIdleSpareThreads) break;
    idle_.push_back(slot);
    // Only Run() (setting job) and Close() (setting told_to_leave) take the
    // slot out of idle_.
    bool woken = slot->handed.wait_for(lock, kKeepIdleSpareThread,
                                       [slot] { return slot->job != nullptr || slot->told_to_leave; });
    if (slot->told_to_leave) return;  // Close() joins this thread and frees the slot
    if (!woken) {
      idle_.erase(std::find(idle_.begin(), idle_.end(), slot));
      break;
    }
  }
  // Nobody will join this thread: it frees its own resources as it ends.
  pthread_detach(slot->thread);
  delete slot;
}

void SpareThreads::BeforeFork() { Pool().mu_.lock(); }
void SpareThreads::AfterForkInParent() { Pool().mu_.unlock(); }
void SpareThreads::AfterForkInChild() {
  SpareThreads& pool = Pool();
  pool.forked_.insert(pool.forked_.end(), pool.idle_.begin(), pool.idle_.end());
  pool.idle_.clear();
  pool.busy_ = 0;  // the parent's busy threads are not here either
  pool.mu_.unlock();
}

}  // namespace

bool RunOnSpareThread(std::function<void()> job) { return Pool().Run(std::move(job)); }
size_t SpareThreadsWaiting() { return Pool().Waiting(); }
void CloseSpareThreads() { Pool().Close(); }

}  // namespace mtas
