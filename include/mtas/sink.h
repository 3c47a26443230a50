// ByteSink: where a streaming stage writes its output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mtas {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void Write(const char* data, size_t len) = 0;
  void Write(std::string_view s) { Write(s.data(), s.size()); }
};

// Appends everything to a string (tests, small outputs).
class StringSink final : public ByteSink {
 public:
  void Write(const char* data, size_t len) override { out.append(data, len); }
  std::string out;
};

// Discards everything.
class NullSink final : public ByteSink {
 public:
  void Write(const char*, size_t) override {}
};

}  // namespace mtas
