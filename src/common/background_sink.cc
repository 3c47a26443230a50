#include "common/background_sink.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/spare_threads.h"

namespace mtas {

BackgroundSink::BackgroundSink(ByteSink* downstream) : downstream_(downstream) {
  filling_.reserve(kBlockSize);
  if (!RunOnSpareThread([this] { Run(); })) throw std::system_error(EAGAIN, std::generic_category(), "no thread");
}

BackgroundSink::~BackgroundSink() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return worker_done_; });
}

void BackgroundSink::Write(const char* data, size_t len) {
  while (len) {
    size_t take = std::min(len, kBlockSize - filling_.size());
    filling_.append(data, take);
    data += take;
    len -= take;
    if (filling_.size() == kBlockSize) Push();
  }
}

void BackgroundSink::Push() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return queue_.size() < kMaxBlocks; });
  queue_.push_back(std::move(filling_));
  if (!spare_.empty()) {
    filling_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    filling_ = std::string();
    filling_.reserve(kBlockSize);
  }
  lock.unlock();
  changed_.notify_all();
}

void BackgroundSink::Drain() {
  if (!filling_.empty()) Push();
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void BackgroundSink::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {  // stop_, and nothing left
      worker_done_ = true;
      changed_.notify_all();  // under the lock: once it is released, this object may be gone
      return;
    }
    std::string block = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    changed_.notify_all();  // a slot is free
    downstream_->Write(block.data(), block.size());
    block.clear();
    lock.lock();
    busy_ = false;
    if (spare_.size() < kMaxBlocks) spare_.push_back(std::move(block));
    changed_.notify_all();  // Drain may be waiting
  }
}

}  // namespace mtas
