// Worker threads that take turns accepting milter connections.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <thread>

namespace mtasd {

// Workers wait in accept() on the listening socket, and the one that gets a
// connection serves it itself: no hand-over between threads (a futex wake
// and a context switch per connection), and no thread created per SMTP
// session (stack mapping, TLB shootdowns cost more than the signature).
//
// Contract: before serving, a worker makes sure another one waits in
// accept(), starting one if none does. The pool grows to the largest number
// of connections open together, and a connection never waits behind
// another (a waiting one would hit the MTA's milter timeout and the mail
// would be deferred). After Stop(), workers leave as their sessions end.
class AcceptPool {
 public:
  AcceptPool(int listener, std::function<void(int)> serve) : listener_(listener), serve_(std::move(serve)) {}
  AcceptPool(const AcceptPool&) = delete;
  AcceptPool& operator=(const AcceptPool&) = delete;

  void Start() { Spawn(); }
  // Wakes every worker waiting in accept(); none accepts again.
  void Stop() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
  }
  int waiting() const { return waiting_; }  // workers in accept()
  int threads() const { return threads_; }  // workers alive

 private:
  void Spawn() {
    ++threads_;
    std::thread([this] { Work(); }).detach();
  }
  void Work() {
    while (!stopping_) {
      ++waiting_;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      int left = --waiting_;
      if (stopping_) {
        if (fd >= 0) serve_(fd);  // accepted before the stop: still served
        break;
      }
      if (fd < 0) {
        if (errno != EINTR && errno != ECONNABORTED)  // EMFILE and the like: let it pass
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      if (left == 0) Spawn();
      serve_(fd);
    }
    --threads_;
  }

  int listener_;
  std::function<void(int)> serve_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> waiting_{0};
  std::atomic<int> threads_{0};
};

}  // namespace mtasd
