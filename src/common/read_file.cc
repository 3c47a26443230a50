#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mtas {

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // O_NONBLOCK: a FIFO must not hang the open
  if (fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
  struct stat st;
  Status status = Status::Ok();
  if (::fstat(fd, &st) != 0)
    status = Status::IoError(path + ": " + std::strerror(errno));
  else if (!S_ISREG(st.st_mode))
    status = Status::InvalidArgument(path + ": not a regular file");
  std::string out;
  char buf[16384];
  while (status.ok()) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError(path + ": " + std::strerror(errno));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes)
      status = Status::InvalidArgument(path + ": larger than " + std::to_string(max_bytes >> 10) + " KiB");
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

}  // namespace mtas
