// BackgroundSink: a ByteSink whose bytes another thread consumes.
// Internal header.
//
// Write copies the bytes into fixed blocks and returns; a worker thread (a
// spare one, kept for reuse: spare_threads.h) hands each block, in order, to
// the downstream sink. The caller keeps going while
// the worker works, so two streams over the same bytes (the canonical body
// hash and the per-part hashes of a large message) run on two cores. Memory
// is bounded: at most kMaxBlocks blocks wait, and Write blocks when they are
// all full.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "mtas/sink.h"

namespace mtas {

class BackgroundSink final : public ByteSink {
 public:
  static constexpr size_t kBlockSize = 64 * 1024;
  static constexpr size_t kMaxBlocks = 16;

  // `downstream` is written to only by the worker, until Drain returns or
  // this object is destroyed; it must outlive this object.
  // Throws std::system_error if no thread can be had.
  explicit BackgroundSink(ByteSink* downstream);
  ~BackgroundSink() override;  // drains, then waits until the worker lets go
  BackgroundSink(const BackgroundSink&) = delete;
  BackgroundSink& operator=(const BackgroundSink&) = delete;

  void Write(const char* data, size_t len) override;
  // Returns once the downstream sink has seen every byte written so far.
  // Until the next Write the caller may touch the downstream sink's state.
  void Drain();

 private:
  void Push();  // queues `filling_`
  void Run();

  ByteSink* downstream_;
  std::string filling_;  // the block being filled, caller's side
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;  // guarded by mu_
  std::deque<std::string> spare_;  // emptied blocks for reuse, guarded by mu_
  bool busy_ = false;              // the worker holds a block; guarded by mu_
  bool stop_ = false;              // guarded by mu_
  bool worker_done_ = false;       // Run() has returned; guarded by mu_
};

}  // namespace mtas
