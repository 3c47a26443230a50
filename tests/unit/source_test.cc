// Message sources and ForEachChunk: every byte, once, whichever way a source
// is read, and a partly read source rewinds to the whole message.
#include "mtas/source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace mtas {
namespace {

std::string Bytes(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s.push_back(static_cast<char>('a' + i % 23));
  return s;
}

std::string ReadAll(MessageSource& src, int* calls = nullptr) {
  std::string out;
  EXPECT_TRUE(src.Rewind().ok());
  EXPECT_TRUE(ForEachChunk(src, [&](const char* p, size_t n) {
                if (calls) ++*calls;
                out.append(p, n);
              }).ok());
  return out;
}

TEST(Source, AMemorySourceIsHandedOnInOneCall) {
  const std::string data = Bytes(300 * 1024);
  MemorySource src(data);
  int calls = 0;
  EXPECT_EQ(ReadAll(src, &calls), data);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ReadAll(src), data);  // again, after a rewind
}

TEST(Source, StoppingEarlyLeavesAPipeRewindableToTheWholeMessage) {
  const std::string data = Bytes(300 * 1024);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&] {
    for (size_t at = 0; at < data.size();) {
      ssize_t n = write(fds[1], data.data() + at, data.size() - at);
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  FdSource src(fds[0], "pipe");
  std::string first;
  int calls = 0;
  ASSERT_TRUE(ForEachChunk(src, [&](const char* p, size_t n) {
                ++calls;
                first.append(p, n);
                return false;  // one chunk is enough
              }).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_LT(first.size(), data.size());
  EXPECT_EQ(ReadAll(src), data);  // the rest was drained into the spool
  EXPECT_EQ(ReadAll(src), data);
  writer.join();
  close(fds[0]);
}

}  // namespace
}  // namespace mtas
