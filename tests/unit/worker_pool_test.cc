// mtasd's worker pool: every connection is served at once, never queued
// behind another (a queued one would hit the MTA's milter timeout).
#include "worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace mtasd {
namespace {

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  int release_at = 0;  // sessions return once this many have started
};

TEST(WorkerPool, BurstOnIdleWorkersServesEveryConnectionAtOnce) {
  // The pool's workers never end, so the pool and what they touch are
  // left to the process's end: no destructor may run under them.
  static Gate& gate = *std::make_unique<Gate>().release();
  static std::atomic<int>& finished = *std::make_unique<std::atomic<int>>(0).release();
  static WorkerPool& pool =
      *std::make_unique<WorkerPool>([](int) {
         std::unique_lock<std::mutex> lock(gate.mu);
         ++gate.started;
         gate.cv.notify_all();
         gate.cv.wait_for(lock, std::chrono::seconds(5), [] { return gate.started >= gate.release_at; });
         ++finished;
       }).release();
  // Round 1 leaves 8 workers idle.
  gate.release_at = 8;
  for (int i = 0; i < 8; ++i) pool.Submit(i);
  for (int i = 0; i < 500 && finished < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(finished, 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // all 8 back to waiting

  // Round 2: a burst larger than the idle workers, each session held open
  // until all have started, as SMTP sessions hold their milter connection.
  {
    std::lock_guard<std::mutex> lock(gate.mu);
    gate.started = 0;
    gate.release_at = 20;
  }
  for (int i = 0; i < 20; ++i) pool.Submit(100 + i);
  std::unique_lock<std::mutex> lock(gate.mu);
  bool all = gate.cv.wait_for(lock, std::chrono::seconds(3), [] { return gate.started >= 20; });
  EXPECT_TRUE(all) << "only " << gate.started << " of 20 connections were being served";
}

}  // namespace
}  // namespace mtasd
