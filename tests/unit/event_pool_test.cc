// mtasd's event pool: every connection is served at once, never queued
// behind another that is blocked (a queued one would hit the MTA's milter
// timeout); handlers that do not block share one thread per core, and the
// threads a blocked burst started leave when idle; idle connections are shut
// down; Stop() drains. And the milter stream that the pool's handlers read
// with.
#include "event_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "milter.h"

namespace mtasd {
namespace {

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  int finished = 0;
  int release_at = 0;  // handlers return once this many have started
};

// Reads one byte (a handler is also called once at accept, when nothing
// may have come yet); announces that it may block, then blocks at the gate
// (as a handler waiting on DNS would); then closes. End of file closes at
// once.
class GatedHandler final : public ConnectionHandler {
 public:
  GatedHandler(int fd, Gate* gate) : fd_(fd), gate_(gate) {}
  bool OnReadable() override {
    char c;
    ssize_t r = ::recv(fd_, &c, 1, MSG_DONTWAIT);
    if (r < 0 && errno == EAGAIN) return true;  // called at accept, before the byte came
    if (r <= 0) return false;
    EventPool::MayBlock();
    std::unique_lock<std::mutex> lock(gate_->mu);
    ++gate_->started;
    gate_->cv.notify_all();
    gate_->cv.wait_for(lock, std::chrono::seconds(5), [this] { return gate_->started >= gate_->release_at; });
    ++gate_->finished;
    gate_->cv.notify_all();
    return false;
  }

 private:
  int fd_;
  Gate* gate_;
};

// Counts what arrives; closes on end of file.
class CountingHandler final : public ConnectionHandler {
 public:
  CountingHandler(int fd, std::atomic<int>* bytes) : fd_(fd), bytes_(bytes) {}
  bool OnReadable() override {
    char buf[256];
    ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) *bytes_ += static_cast<int>(r);
    return r > 0 || (r < 0 && errno == EAGAIN);
  }

 private:
  int fd_;
  std::atomic<int>* bytes_;
};

int ListenLoopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 64) != 0) return -1;
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *port = ntohs(sa.sin_port);
  return fd;
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

std::vector<int> ConnectAndSend(uint16_t port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    fds.push_back(Connect(port));
    EXPECT_EQ(::send(fds.back(), "x", 1, 0), 1);
  }
  return fds;
}

bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A pool whose threads did not all leave is kept alive (never destroyed
// under them) and fails the test.
void Retire(std::unique_ptr<EventPool> pool) {
  EXPECT_TRUE(Eventually([&] { return pool->threads() == 0; })) << pool->threads() << " threads left";
  if (pool->threads() > 0) (void)pool.release();
}

TEST(EventPool, BurstOfBusyConnectionsIsServedAtOnceThenStopEndsTheThreads) {
  uint16_t port = 0;
  int listener = ListenLoopback(&port);
  ASSERT_GE(listener, 0);
  // Handlers touch the gate until they return; it is left to the process's
  // end so that no destructor runs under one that did not.
  static Gate& gate = *std::make_unique<Gate>().release();
  EventPool::Options options;
  options.surplus_idle = std::chrono::milliseconds(200);
  auto pool = std::make_unique<EventPool>(
      listener, [](int fd) { return std::make_unique<GatedHandler>(fd, &gate); }, options);
  std::string error;
  ASSERT_TRUE(pool->Start(&error)) << error;

  // Round 1: 8 handlers busy together, then done.
  gate.started = gate.finished = 0;
  gate.release_at = 8;
  std::vector<int> round1 = ConnectAndSend(port, 8);
  {
    std::unique_lock<std::mutex> lock(gate.mu);
    EXPECT_TRUE(gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.finished >= 8; }));
  }
  for (int fd : round1) ::close(fd);

  // Round 2: a burst larger than the pool, each handler held busy until all
  // have started: none may wait for another to finish.
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.started = gate.finished = 0;
    gate.release_at = 20;
  }
  std::vector<int> round2 = ConnectAndSend(port, 20);
  {
    std::unique_lock<std::mutex> lock(gate.mu);
    bool all = gate.cv.wait_for(lock, std::chrono::seconds(3), [] { return gate.started >= 20; });
    EXPECT_TRUE(all) << "only " << gate.started << " of 20 connections were being served";
    gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.finished >= 20; });
  }
  for (int fd : round2) ::close(fd);
  EXPECT_TRUE(Eventually([&] { return pool->connections() == 0; }));
  // The threads the burst started leave once idle; the base stays.
  EXPECT_TRUE(Eventually([&] { return pool->threads() == pool->base_threads(); }))
      << pool->threads() << " threads, base " << pool->base_threads();

  pool->Stop();
  EXPECT_TRUE(pool->WaitDrained(std::chrono::milliseconds(100)));
  Retire(std::move(pool));
  ::close(listener);
}

TEST(EventPool, TheLastWaitingThreadStaysWhileTheOthersAreBlocked) {
  uint16_t port = 0;
  int listener = ListenLoopback(&port);
  ASSERT_GE(listener, 0);
  static Gate& gate = *std::make_unique<Gate>().release();
  static std::atomic<int>& bytes = *std::make_unique<std::atomic<int>>(0).release();
  static std::atomic<int>& made = *std::make_unique<std::atomic<int>>(0).release();
  gate.started = gate.finished = 0;
  bytes = 0;
  made = 0;
  gate.release_at = 2;  // the one gated handler stays blocked until released below
  EventPool::Options options;
  options.base_threads = 1;
  options.surplus_idle = std::chrono::milliseconds(50);
  auto pool = std::make_unique<EventPool>(
      listener,
      [](int fd) -> std::unique_ptr<ConnectionHandler> {
        if (made++ == 0) return std::make_unique<GatedHandler>(fd, &gate);
        return std::make_unique<CountingHandler>(fd, &bytes);
      },
      options);
  std::string error;
  ASSERT_TRUE(pool->Start(&error)) << error;

  // The base thread blocks; the thread it started is above the base, and
  // times out again and again with nothing to do, yet must not leave.
  std::vector<int> blocked = ConnectAndSend(port, 1);
  ASSERT_TRUE(Eventually([] { return gate.started == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int other = Connect(port);
  ASSERT_EQ(::send(other, "abc", 3, 0), 3);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (bytes < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(bytes, 3) << "a connection waited for a blocked handler";
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.release_at = 0;
  }
  gate.cv.notify_all();
  ::close(blocked[0]);
  ::close(other);
  EXPECT_TRUE(Eventually([&] { return pool->connections() == 0; }));
  pool->Stop();
  Retire(std::move(pool));
  ::close(listener);
}

TEST(EventPool, ManySmallWritesOnManyConnectionsAllArrive) {
  uint16_t port = 0;
  int listener = ListenLoopback(&port);
  ASSERT_GE(listener, 0);
  static std::atomic<int>& bytes = *std::make_unique<std::atomic<int>>(0).release();
  bytes = 0;
  auto pool =
      std::make_unique<EventPool>(listener, [](int fd) { return std::make_unique<CountingHandler>(fd, &bytes); });
  std::string error;
  ASSERT_TRUE(pool->Start(&error)) << error;
  std::vector<int> fds;
  for (int i = 0; i < 16; ++i) fds.push_back(Connect(port));
  for (int round = 0; round < 50; ++round)
    for (int fd : fds) ASSERT_EQ(::send(fd, "abc", 3, 0), 3);
  EXPECT_TRUE(Eventually([] { return bytes == 16 * 50 * 3; })) << bytes;
  EXPECT_EQ(pool->connections(), 16);
  // Handlers that never block share the base threads, one per core.
  EXPECT_LE(pool->threads(), pool->base_threads());
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(Eventually([&] { return pool->connections() == 0; }));
  pool->Stop();
  Retire(std::move(pool));
  ::close(listener);
}

TEST(EventPool, IdleConnectionIsShutDownAndStopWaitsForOpenOnes) {
  uint16_t port = 0;
  int listener = ListenLoopback(&port);
  ASSERT_GE(listener, 0);
  static std::atomic<int>& bytes = *std::make_unique<std::atomic<int>>(0).release();
  EventPool::Options options;
  options.idle_timeout = std::chrono::seconds(1);
  auto pool = std::make_unique<EventPool>(
      listener, [](int fd) { return std::make_unique<CountingHandler>(fd, &bytes); }, options);
  std::string error;
  ASSERT_TRUE(pool->Start(&error)) << error;

  int idle = Connect(port);
  int busy = Connect(port);
  // The busy one keeps talking past the idle timeout and stays open.
  auto t0 = std::chrono::steady_clock::now();
  char c;
  bool idle_closed = false;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    ASSERT_EQ(::send(busy, "b", 1, 0), 1);
    if (::recv(idle, &c, 1, MSG_DONTWAIT) == 0) {
      idle_closed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(idle_closed) << "an idle connection was left open";
  EXPECT_TRUE(Eventually([&] { return pool->connections() == 1; }));
  EXPECT_EQ(::recv(busy, &c, 1, MSG_DONTWAIT), -1) << "the busy connection was closed";

  // Stop: no new connection is served; the open one is, until it closes.
  pool->Stop();
  EXPECT_FALSE(pool->WaitDrained(std::chrono::milliseconds(200)));
  EXPECT_GT(pool->threads(), 0);
  ::close(busy);
  EXPECT_TRUE(pool->WaitDrained(std::chrono::seconds(5)));
  Retire(std::move(pool));
  ::close(listener);
}

// The milter stream assembles packets split across reads and refuses a
// bad length.
TEST(MilterStream, PacketsSplitAcrossReadsAreAssembledAndABadLengthEndsTheStream) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  MilterStream stream(sv[0], false);
  Packet p;
  EXPECT_EQ(stream.Receive(), MilterStream::Received::kNothing);
  std::string two = std::string("\0\0\0\4Aabc", 8) + std::string("\0\0\0\2Bz", 6);
  ASSERT_EQ(::write(sv[1], two.data(), 5), 5);  // the first packet's length and command only
  EXPECT_EQ(stream.Receive(), MilterStream::Received::kData);
  EXPECT_EQ(stream.Take(&p), MilterStream::Next::kIncomplete);
  ASSERT_EQ(::write(sv[1], two.data() + 5, two.size() - 5), static_cast<ssize_t>(two.size() - 5));
  EXPECT_EQ(stream.Receive(), MilterStream::Received::kData);
  ASSERT_EQ(stream.Take(&p), MilterStream::Next::kPacket);
  EXPECT_EQ(p.command, 'A');
  EXPECT_EQ(p.data, "abc");
  ASSERT_EQ(stream.Take(&p), MilterStream::Next::kPacket);
  EXPECT_EQ(p.command, 'B');
  EXPECT_EQ(p.data, "z");
  EXPECT_EQ(stream.Take(&p), MilterStream::Next::kIncomplete);

  std::string huge("\x7f\0\0\0X", 5);  // 2 GiB: above the bound
  ASSERT_EQ(::write(sv[1], huge.data(), huge.size()), 5);
  EXPECT_EQ(stream.Receive(), MilterStream::Received::kData);
  EXPECT_EQ(stream.Take(&p), MilterStream::Next::kMalformed);
  ::close(sv[1]);
  EXPECT_EQ(stream.Receive(), MilterStream::Received::kClosed);
  ::close(sv[0]);
}

}  // namespace
}  // namespace mtasd
