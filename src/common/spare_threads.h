// Threads kept for reuse by jobs that need a second core for a while (a
// BackgroundSink hashing a large message). Internal header.
//
// Starting and joining a thread costs about 55 µs on the machines the project
// measures on, 4 % of signing a 1 MB message; a thread that finished its job
// waits for the next one instead. At most kMaxIdleSpareThreads wait, each for
// at most kKeepIdleSpareThread; then they leave.
//
// Lifetime: at exit (an atexit handler) the waiting threads are told to
// leave and are joined, and so is one whose job ends within a second; a
// thread still busy after that leaves once its job returns. A forked child
// starts with no spare threads: the parent's do not exist in it.
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

// Tells the waiting threads to leave and joins them; later jobs get threads
// that leave as soon as their job returns. Runs at exit; tests call it too.
void CloseSpareThreads();

}  // namespace mtas
