// Threads kept for reuse by jobs that need a second core for a while (a
// BackgroundSink hashing a large message). Internal header.
//
// Starting and joining a thread costs about 55 µs on the machines the project
// measures on, 4 % of signing a 1 MB message; a thread that finished its job
// waits for the next one instead. At most kMaxIdle threads wait, each for at
// most kKeepIdle; then they leave.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace mtas {

constexpr size_t kMaxIdleSpareThreads = 8;
constexpr std::chrono::seconds kKeepIdleSpareThread{30};

// Runs `job` on a waiting spare thread, or on a new one. Returns false,
// without running the job, if no thread could be started. Nothing tells the
// caller when the job ends: a job that uses the caller's objects must signal
// its own end, and the caller must wait for that.
bool RunOnSpareThread(std::function<void()> job);

// How many spare threads wait for a job now (for tests).
size_t SpareThreadsWaiting();

}  // namespace mtas
