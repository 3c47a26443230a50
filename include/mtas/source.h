// MessageSource: where the signer and verifier read a message from.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "mtas/status.h"

namespace mtas {

// Thread safety: a source is one reader's (it has a read position).
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Reads up to `len` bytes into `buf`; 0 means end of message.
  virtual Result<size_t> Read(char* buf, size_t len) = 0;
  // Starts again from the first byte.
  virtual Status Rewind() = 0;
  // A source whose bytes are already in memory returns the rest of them at
  // once (and is then at its end), so that readers need not copy them.
  // Others return nullopt and are left where they were.
  virtual std::optional<std::string_view> TakeRest() { return std::nullopt; }
};

class MemorySource final : public MessageSource {
 public:
  // Reads `data` where it is: it must outlive the source.
  explicit MemorySource(std::string_view data) : data_(data) {}
  explicit MemorySource(std::string&&) = delete;  // a temporary would dangle
  Result<size_t> Read(char* buf, size_t len) override;
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  std::optional<std::string_view> TakeRest() override {
    std::string_view rest = data_.substr(pos_);
    pos_ = data_.size();
    return rest;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// The bytes [begin, end) of another source, read through it (a message
// wrapped in a message/rfc822 part). Rewind rewinds the base and skips to
// `begin`. The base must outlive it and not be read meanwhile.
class RangeSource final : public MessageSource {
 public:
  RangeSource(MessageSource& base, uint64_t begin, uint64_t end) : base_(base), begin_(begin), end_(end) {}
  Result<size_t> Read(char* buf, size_t len) override;
  Status Rewind() override;

 private:
  MessageSource& base_;
  uint64_t begin_, end_, pos_ = 0;
};

// Reads a file descriptor. When it cannot seek (a pipe, a socket) the bytes
// read are spooled to an unlinked temporary file so that Rewind() works with
// constant memory.
class FdSource final : public MessageSource {
 public:
  // Does not take ownership of `fd`.
  explicit FdSource(int fd, std::string name = "input");
  ~FdSource() override;
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;
  Result<size_t> Read(char* buf, size_t len) override;
  Status Rewind() override;

 private:
  int fd_;
  std::string name_;
  bool seekable_ = false;
  std::FILE* spool_ = nullptr;
  bool reading_spool_ = false;
};

// Reads a whole source in chunks of up to 64 KiB, calling `fn(data, len)`.
// The buffer is on the stack: no allocation per message. A source already in
// memory is handed on in one call, uncopied. An `fn` that returns bool stops
// the reading by returning false (the source is then left part-read).
template <typename Fn>
Status ForEachChunk(MessageSource& src, Fn&& fn) {
  auto call = [&fn](const char* p, size_t n) {
    if constexpr (std::is_same_v<std::invoke_result_t<Fn&, const char*, size_t>, bool>)
      return fn(p, n);
    else
      return fn(p, n), true;
  };
  if (auto rest = src.TakeRest()) {
    if (!rest->empty()) call(rest->data(), rest->size());
    return Status::Ok();
  }
  char buf[64 * 1024];  // 16 KiB chunks made 1 MB verification 10-20 % slower
  for (;;) {
    auto got = src.Read(buf, sizeof buf);
    if (!got.ok()) return got.status();
    if (*got == 0 || !call(buf, *got)) return Status::Ok();
  }
}

}  // namespace mtas
