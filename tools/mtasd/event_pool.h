// Milter connections served by a few threads sharing one epoll set.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mtasd {

// One accepted connection's protocol state, driven by an EventPool.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // The socket is readable (data, end of file or an error). Called on one
  // thread at a time per connection. Returns false when the connection is
  // finished; the pool then closes the socket (the handler must not).
  virtual bool OnReadable() = 0;
};

// Threads take turns waiting in epoll_wait() on the listener and every open
// connection, each registered one-shot: the thread that gets an event owns
// that connection until it has handled what arrived, then re-arms it. A
// thread that finishes while other connections have data takes the next
// event without sleeping, so under load one wake-up serves several packets
// of several sessions; with a thread per connection, each SMTP stage of each
// message cost a wake-up and a context switch.
//
// Contract: a handler that may block (a DNS lookup, a download, a reply the
// MTA does not read) calls MayBlock() first; if no other thread then waits in
// epoll_wait(), one is started, so the blocked handler delays no other
// connection. When nothing blocks, the pool settles at `base_threads`
// threads (one per core): more would only take turns on the same cores, and
// the kernel wakes its epoll waiters in turn, so each event would land on the
// thread whose caches are coldest. A thread above the base leaves after
// `surplus_idle` without an event, unless it is the last one waiting.
//
// A connection that sends nothing for `idle_timeout` is shut down (an MTA
// silent that long is gone). After Stop() no connection is accepted; open
// ones are served until they close, then the threads leave.
class EventPool {
 public:
  using Factory = std::function<std::unique_ptr<ConnectionHandler>(int fd)>;
  struct Options {
    std::chrono::seconds idle_timeout{600};
    int base_threads = 0;  // 0: one per core, at least 2
    std::chrono::milliseconds surplus_idle{10000};
    int max_connections = 0;  // more open at once are closed at accept (0: no limit)
    // Asked for each accepted connection before it is served; false closes
    // it (PeerList). May be empty.
    std::function<bool(int fd)> admit;
    std::function<void(const char* why)> refused;  // told when a connection is closed at accept
  };
  EventPool(int listener, Factory make_handler, Options options);
  EventPool(int listener, Factory make_handler) : EventPool(listener, std::move(make_handler), Options()) {}
  ~EventPool();
  EventPool(const EventPool&) = delete;
  EventPool& operator=(const EventPool&) = delete;

  // Makes the listener non-blocking, creates the epoll set and the first
  // thread. False (with *error) if the kernel refuses.
  bool Start(std::string* error);
  void Stop();
  // After Stop(): waits until every connection has closed, at most `limit`.
  // True if none is left.
  bool WaitDrained(std::chrono::milliseconds limit);

  int connections() const;
  int threads() const { return threads_; }  // alive
  int base_threads() const { return base_threads_; }
  int waiting() const { return waiting_; }  // in epoll_wait()

  // Called by a handler before it may block, on the thread serving it (a
  // no-op on any other thread): makes sure another thread waits for events.
  static void MayBlock();

 private:
  struct Connection;
  void Spawn();
  void SpawnBelowBase();
  void StartCounted();  // a thread already counted in threads_
  bool LeaveIfSurplus();
  void Work();
  void Accept();
  void Serve(Connection* c, int epoll_op);  // then re-arms it (EPOLL_CTL_MOD) or adds it (EPOLL_CTL_ADD)
  void Close(Connection* c);
  void Sweep();
  void Drained();

  int listener_;
  Factory make_handler_;
  std::chrono::seconds idle_timeout_;
  int base_threads_;
  std::chrono::milliseconds surplus_idle_;
  int max_connections_;
  std::function<bool(int fd)> admit_;
  std::function<void(const char* why)> refused_;
  int epoll_ = -1, timer_ = -1, wake_ = -1;

  mutable std::mutex mu_;  // guards open_ and stopping_
  std::condition_variable drained_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> open_;
  bool stopping_ = false;

  std::atomic<int> waiting_{0};
  std::atomic<int> threads_{0};
};

}  // namespace mtasd
