#include "event_pool.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

namespace mtasd {
namespace {

// epoll data of the pool's own descriptors; a connection's is its address.
constexpr uint64_t kListener = 1, kTimer = 2, kWake = 3;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool Arm(int epoll, int op, int fd, uint64_t data, uint32_t events = EPOLLIN | EPOLLONESHOT) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return epoll_ctl(epoll, op, fd, &ev) == 0;
}

}  // namespace

struct EventPool::Connection {
  int fd;
  std::unique_ptr<ConnectionHandler> handler;
  std::atomic<int64_t> last_active;
};

static thread_local EventPool* serving_pool = nullptr;  // the pool whose thread this is

EventPool::EventPool(int listener, Factory make_handler, Options options)
    : listener_(listener),
      make_handler_(std::move(make_handler)),
      idle_timeout_(options.idle_timeout),
      base_threads_(options.base_threads > 0 ? options.base_threads
                                             : std::max(2, static_cast<int>(std::thread::hardware_concurrency()))),
      surplus_idle_(options.surplus_idle),
      max_connections_(options.max_connections),
      admit_(std::move(options.admit)),
      refused_(std::move(options.refused)) {}

// Only once threads() is 0 (the daemon leaves with _Exit instead).
EventPool::~EventPool() {
  for (int fd : {epoll_, timer_, wake_})
    if (fd >= 0) ::close(fd);
  for (auto& [c, owned] : open_) ::close(c->fd);
}

bool EventPool::Start(std::string* error) {
  auto fail = [error](const char* what) {
    *error = std::string(what) + ": " + std::strerror(errno);
    return false;
  };
  int flags = fcntl(listener_, F_GETFL);
  if (flags < 0 || fcntl(listener_, F_SETFL, flags | O_NONBLOCK) != 0) return fail("listener");
  if ((epoll_ = epoll_create1(EPOLL_CLOEXEC)) < 0) return fail("epoll_create1");
  if ((wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) return fail("eventfd");
  if ((timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0) return fail("timerfd_create");
  // The idle sweep runs a few times per timeout, at least once a second.
  itimerspec every{};
  every.it_interval.tv_sec = std::max<int64_t>(1, idle_timeout_.count() / 4);
  every.it_value = every.it_interval;
  if (timerfd_settime(timer_, 0, &every, nullptr) != 0) return fail("timerfd_settime");
  if (!Arm(epoll_, EPOLL_CTL_ADD, wake_, kWake, EPOLLIN) || !Arm(epoll_, EPOLL_CTL_ADD, timer_, kTimer) ||
      !Arm(epoll_, EPOLL_CTL_ADD, listener_, kListener))
    return fail("epoll_ctl");
  Spawn();
  return true;
}

void EventPool::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_, nullptr);
  if (open_.empty()) Drained();
}

// Stopping and nothing left open: the eventfd, level-triggered and never
// read, wakes every thread for good, and WaitDrained() returns.
void EventPool::Drained() {
  uint64_t one = 1;
  (void)!::write(wake_, &one, sizeof one);
  drained_.notify_all();
}

bool EventPool::WaitDrained(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mu_);
  return drained_.wait_for(lock, limit, [this] { return open_.empty(); });
}

int EventPool::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(open_.size());
}

void EventPool::Spawn() {
  ++threads_;
  StartCounted();
}

void EventPool::StartCounted() {
  std::thread([this] { Work(); }).detach();
}

// Counted before it starts, and only while below the base: two threads that
// both find no one waiting start one between them.
void EventPool::SpawnBelowBase() {
  int n = threads_;
  while (n < base_threads_)
    if (threads_.compare_exchange_weak(n, n + 1)) return StartCounted();
}

void EventPool::MayBlock() {
  EventPool* pool = serving_pool;
  if (pool && pool->waiting_ == 0) pool->Spawn();
}

// A thread above the base count leaves (true), unless the count fell to the
// base meanwhile.
bool EventPool::LeaveIfSurplus() {
  int n = threads_;
  while (n > base_threads_)
    if (threads_.compare_exchange_weak(n, n - 1)) return true;
  return false;
}

void EventPool::Work() {
  serving_pool = this;
  for (;;) {
    epoll_event ev{};
    ++waiting_;
    // One event per call: a slow handler holds no other connection.
    int timeout = threads_ > base_threads_ ? static_cast<int>(surplus_idle_.count()) : -1;
    int n = epoll_wait(epoll_, &ev, 1, timeout);
    int left = --waiting_;
    if (n < 0 && errno != EINTR) break;  // the epoll set is gone: nothing left to serve
    // Never the last waiter: the others may all be blocked, and the events
    // would wait for them.
    if (n == 0 && left > 0 && LeaveIfSurplus()) return;
    if (n <= 0) continue;
    if (ev.data.u64 == kWake) break;
    if (left == 0) SpawnBelowBase();
    if (ev.data.u64 == kListener)
      Accept();
    else if (ev.data.u64 == kTimer)
      Sweep();
    else
      Serve(reinterpret_cast<Connection*>(ev.data.u64), EPOLL_CTL_MOD);
  }
  --threads_;
}

// One connection per event: the listener, re-armed, reports the next one
// at once if there is one (draining to EAGAIN costs a failed accept4 per
// connection when they come one at a time, as SMTP sessions do). The MTA
// has usually sent its first packet by now: it is read here, before the
// connection joins the epoll set, which saves a wake-up per session.
void EventPool::Accept() {
  int fd;
  do {
    fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking: replies are written whole
  } while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK)  // EMFILE and the like: let it pass
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Connection* c = nullptr;
  const char* refused = nullptr;
  if (fd >= 0 && admit_ && !admit_(fd)) refused = "peer-list";
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) Arm(epoll_, EPOLL_CTL_MOD, listener_, kListener);
    if (fd < 0) return;
    if (!refused && max_connections_ > 0 && open_.size() >= static_cast<size_t>(max_connections_))
      refused = "connection-limit";
    if (stopping_ || refused) {
      ::close(fd);  // the MTA applies its milter_default_action
      if (refused && refused_) refused_(refused);
      return;
    }
    auto owned = std::make_unique<Connection>();
    c = owned.get();
    c->fd = fd;
    c->last_active = INT64_MAX;  // busy until served
    open_.emplace(c, std::move(owned));
  }
  c->handler = make_handler_(fd);
  Serve(c, EPOLL_CTL_ADD);
}

void EventPool::Serve(Connection* c, int op) {
  c->last_active = INT64_MAX;  // busy is not idle
  bool open = c->handler->OnReadable();
  c->last_active = Now();
  if (!open || !Arm(epoll_, op, c->fd, reinterpret_cast<uint64_t>(c))) Close(c);
}

// Only the thread serving a connection closes it, and it leaves the
// registry first: the sweeper, which shuts sockets down under the same
// lock, never touches a descriptor that is closed or reused.
void EventPool::Close(Connection* c) {
  std::unique_ptr<Connection> owned;
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(c);
    owned = std::move(it->second);
    open_.erase(it);
    last = stopping_ && open_.empty();
  }
  owned->handler.reset();
  ::close(owned->fd);
  if (last) Drained();
}

// Shuts down connections idle too long; each one's handler then reads the
// end of file and the pool closes it as any other.
void EventPool::Sweep() {
  uint64_t expirations;
  (void)!::read(timer_, &expirations, sizeof expirations);
  int64_t cutoff = Now() - idle_timeout_.count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [c, owned] : open_)
      if (c->last_active < cutoff) ::shutdown(c->fd, SHUT_RDWR);
  }
  Arm(epoll_, EPOLL_CTL_MOD, timer_, kTimer);
}

}  // namespace mtasd
