// Spare threads (kept for reuse) and the BackgroundSink that runs on them.
#include "common/spare_threads.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/background_sink.h"

namespace mtas {
namespace {

using namespace std::chrono_literals;

// Waits (at most 10 s) until `done` holds.
template <typename Pred>
bool WaitFor(Pred done) {
  for (int i = 0; i < 10000 && !done(); ++i) std::this_thread::sleep_for(1ms);
  return done();
}

// Runs `job` on a spare thread and waits until it has run; returns the id of
// the thread it ran on.
std::thread::id RunAndWait(std::function<void()> job = [] {}) {
  std::mutex mu;
  std::condition_variable cv;
  bool ran = false;
  std::thread::id id;
  EXPECT_TRUE(RunOnSpareThread([&] {
    job();
    std::lock_guard<std::mutex> lock(mu);
    id = std::this_thread::get_id();
    ran = true;
    cv.notify_all();
  }));
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return ran; }));
  return id;
}

// How many spare threads wait once a job run alone has finished: as many as
// before, or the one it started.
size_t WaitingBetweenJobs() { return std::max<size_t>(SpareThreadsWaiting(), 1); }

TEST(SpareThreads, AThreadThatFinishedTakesTheNextJob) {
  std::set<std::thread::id> used;
  const size_t waiting = WaitingBetweenJobs();
  for (int i = 0; i < 20; ++i) {
    used.insert(RunAndWait());
    // The thread goes back to waiting just after the job returns.
    ASSERT_TRUE(WaitFor([&] { return SpareThreadsWaiting() == waiting; }));
  }
  EXPECT_EQ(used.size(), 1u);
  EXPECT_EQ(used.count(std::this_thread::get_id()), 0u);
}

TEST(SpareThreads, JobsAtTheSameTimeRunOnThreadsOfTheirOwn) {
  // Each job waits until all have started: run one after another, they
  // would never finish.
  constexpr int kJobs = kMaxIdleSpareThreads + 4;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, finished = 0;
  std::set<std::thread::id> threads;
  for (int i = 0; i < kJobs; ++i)
    ASSERT_TRUE(RunOnSpareThread([&] {
      std::unique_lock<std::mutex> lock(mu);
      threads.insert(std::this_thread::get_id());
      ++started;
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return started == kJobs; });
      ++finished;
      cv.notify_all();
    }));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return finished == kJobs; }));
  EXPECT_EQ(threads.size(), static_cast<size_t>(kJobs));
  lock.unlock();
  // No more than kMaxIdleSpareThreads stay; the others leave.
  ASSERT_TRUE(WaitFor([] { return SpareThreadsWaiting() == kMaxIdleSpareThreads; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(SpareThreadsWaiting(), kMaxIdleSpareThreads);
}

// Runs `child` in a forked process; returns its exit status (0: passed).
int InChild(int (*child)()) {
  pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = -1;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

int RunsJobsAfterFork() {
  // The parent's waiting threads do not exist here: a job handed to one of
  // them would never run.
  if (SpareThreadsWaiting() != 0) return 1;
  for (int i = 0; i < 3; ++i) {
    std::mutex mu;
    std::condition_variable cv;
    bool ran = false;
    if (!RunOnSpareThread([&] {
          std::lock_guard<std::mutex> lock(mu);
          ran = true;
          cv.notify_all();
        }))
      return 2;
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, 10s, [&] { return ran; })) return 3;
  }
  // A job may find the last one not yet back, and start another.
  if (!WaitFor([] { return SpareThreadsWaiting() >= 1; }) || SpareThreadsWaiting() > 3) return 4;
  return 0;
}

TEST(SpareThreads, AForkedChildStartsWithNoneAndRunsItsOwn) {
  RunAndWait();
  ASSERT_TRUE(WaitFor([] { return SpareThreadsWaiting() >= 1; }));
  EXPECT_EQ(InChild(&RunsJobsAfterFork), 0);
  EXPECT_GE(SpareThreadsWaiting(), 1u);  // the parent keeps its own
}

int CloseJoinsTheWaitingThreads() {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, finished = 0;
  for (int i = 0; i < 3; ++i)
    if (!RunOnSpareThread([&] {
          std::unique_lock<std::mutex> lock(mu);
          ++started;
          cv.notify_all();
          cv.wait_for(lock, 10s, [&] { return started == 3; });
          ++finished;
          cv.notify_all();
        }))
      return 1;
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, 10s, [&] { return finished == 3; })) return 2;
  }
  if (!WaitFor([] { return SpareThreadsWaiting() == 3; })) return 3;
  CloseSpareThreads();
  if (SpareThreadsWaiting() != 0) return 4;
  // Jobs still run after Close, on threads that do not stay.
  RunAndWait();
  RunAndWait();
  std::this_thread::sleep_for(20ms);
  if (SpareThreadsWaiting() != 0) return 5;
  return 0;
}

TEST(SpareThreads, CloseJoinsTheWaitingThreadsAndLaterJobsStillRun) {
  // In a child, so that this process keeps its spare threads.
  EXPECT_EQ(InChild(&CloseJoinsTheWaitingThreads), 0);
}

size_t ThreadsOfThisProcess() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

int CloseJoinsAThreadWhoseJobIsEnding() {
  // The job ends while Close runs, as a large message's hashing may end just
  // before `exit`: Close waits for the thread and joins it, so that none is
  // left running when the process ends (valgrind reports one as a leak).
  if (!RunOnSpareThread([] { std::this_thread::sleep_for(100ms); })) return 1;
  CloseSpareThreads();
  if (ThreadsOfThisProcess() != 1) return 2;
  return 0;
}

TEST(SpareThreads, CloseJoinsAThreadWhoseJobIsEnding) { EXPECT_EQ(InChild(&CloseJoinsAThreadWhoseJobIsEnding), 0); }

// Records what reaches it, on the worker.
class Recorder final : public ByteSink {
 public:
  void Write(const char* data, size_t len) override {
    seen.append(data, len);
    threads.insert(std::this_thread::get_id());
  }
  std::string seen;
  std::set<std::thread::id> threads;
};

TEST(BackgroundSink, SinkAfterSinkDeliversEveryByteInOrderOnOneSpareThread) {
  std::string data;
  for (size_t i = 0; data.size() < 3 * BackgroundSink::kBlockSize + 123; ++i) data += std::to_string(i) + ",";
  std::set<std::thread::id> workers;
  const size_t waiting = WaitingBetweenJobs();
  for (int round = 0; round < 30; ++round) {
    Recorder out;
    {
      BackgroundSink sink(&out);
      for (size_t at = 0; at < data.size(); at += 1000)
        sink.Write(data.data() + at, std::min<size_t>(1000, data.size() - at));
      sink.Drain();
      EXPECT_EQ(out.seen, data) << "round " << round;
      sink.Write("tail", 4);
    }  // the destructor drains too
    EXPECT_EQ(out.seen, data + "tail");
    ASSERT_EQ(out.threads.size(), 1u);
    EXPECT_NE(*out.threads.begin(), std::this_thread::get_id());
    workers.insert(*out.threads.begin());
    ASSERT_TRUE(WaitFor([&] { return SpareThreadsWaiting() == waiting; }));
  }
  EXPECT_EQ(workers.size(), 1u);  // one thread, kept, served every round
}

}  // namespace
}  // namespace mtas
