// mtasd's accepting workers: every connection is served at once, never
// queued behind another (a queued one would hit the MTA's milter timeout).
#include "worker_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace mtasd {
namespace {

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  int finished = 0;
  int release_at = 0;  // sessions end once this many have started
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

std::vector<int> ConnectMany(uint16_t port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    fds.push_back(fd);
  }
  return fds;
}

TEST(AcceptPool, BurstOfConnectionsIsServedAtOnceThenStopEndsTheWorkers) {
  uint16_t port = 0;
  int listener = ListenLoopback(&port);
  ASSERT_GE(listener, 0);
  // Workers touch the gate until they leave; it is left to the process's
  // end so that no destructor runs under a worker that did not.
  static Gate& gate = *std::make_unique<Gate>().release();
  auto pool = std::make_unique<AcceptPool>(listener, [](int fd) {
    std::unique_lock<std::mutex> lock(gate.mu);
    ++gate.started;
    gate.cv.notify_all();
    gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.started >= gate.release_at; });
    ++gate.finished;
    gate.cv.notify_all();
    ::close(fd);
  });
  pool->Start();

  // Round 1: 8 sessions open together, then end: 8 workers or more stay.
  gate.release_at = 8;
  std::vector<int> round1 = ConnectMany(port, 8);
  {
    std::unique_lock<std::mutex> lock(gate.mu);
    EXPECT_TRUE(gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.finished >= 8; }));
  }
  for (int fd : round1) ::close(fd);

  // Round 2: a burst larger than the pool, each session held open until
  // all have started, as SMTP sessions hold their milter connection.
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.started = gate.finished = 0;
    gate.release_at = 20;
  }
  std::vector<int> round2 = ConnectMany(port, 20);
  {
    std::unique_lock<std::mutex> lock(gate.mu);
    bool all = gate.cv.wait_for(lock, std::chrono::seconds(3), [] { return gate.started >= 20; });
    EXPECT_TRUE(all) << "only " << gate.started << " of 20 connections were being served";
    gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.finished >= 20; });
  }
  for (int fd : round2) ::close(fd);

  // Stop: every worker leaves; none is started in their place.
  pool->Stop();
  for (int i = 0; i < 300 && pool->threads() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pool->threads(), 0);
  [[maybe_unused]] static AcceptPool* still_running =
      nullptr;  // a worker that did not leave must not see its pool destroyed
  if (pool->threads() > 0) still_running = pool.release();
  ::close(listener);
}

}  // namespace
}  // namespace mtasd
