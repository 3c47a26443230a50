// Worker threads that stay, one per concurrent milter connection.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace mtasd {

// Creating and ending a thread per SMTP session costs more than the
// signature (stack mapping, TLB shootdowns), so workers wait for the next
// connection when theirs ends. Contract: every submitted fd is served at
// once by a thread of its own; the pool grows to the largest number of
// connections open together. A connection never waits behind another.
class WorkerPool {
 public:
  explicit WorkerPool(std::function<void(int)> serve) : serve_(std::move(serve)) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(fd);
    // Each waiting worker takes one fd. Compare with what is queued, not
    // with "any worker idle": two Submits before one worker wakes would
    // otherwise leave the second fd waiting until some session ends, and
    // the MTA's milter timeout would fire (mail deferred).
    if (queue_.size() > idle_) {
      std::thread([this] { Work(); }).detach();
    } else {
      cv_.notify_one();
    }
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [this] { return !queue_.empty(); });
      --idle_;
      int fd = queue_.front();
      queue_.pop_front();
      lock.unlock();
      serve_(fd);
      lock.lock();
    }
  }

  std::function<void(int)> serve_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> queue_;
  size_t idle_ = 0;
};

}  // namespace mtasd
