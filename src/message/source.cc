#include "mtas/source.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mtas {

Result<size_t> MemorySource::Read(char* buf, size_t len) {
  size_t n = std::min(len, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Status RangeSource::Rewind() {
  MTAS_RETURN_IF_ERROR(base_.Rewind());
  char skip[16 * 1024];
  for (pos_ = 0; pos_ < begin_;) {
    auto n = base_.Read(skip, static_cast<size_t>(std::min<uint64_t>(sizeof skip, begin_ - pos_)));
    if (!n.ok()) return n.status();
    if (*n == 0) break;  // the base is shorter: nothing to read
    pos_ += *n;
  }
  if (pos_ < begin_) pos_ = end_;
  return Status::Ok();
}

Result<size_t> RangeSource::Read(char* buf, size_t len) {
  if (pos_ >= end_) return size_t{0};
  auto n = base_.Read(buf, static_cast<size_t>(std::min<uint64_t>(len, end_ - pos_)));
  if (!n.ok()) return n.status();
  pos_ += *n;
  if (*n == 0) pos_ = end_;
  return *n;
}

FdSource::FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  seekable_ = lseek(fd_, 0, SEEK_CUR) >= 0;
}

FdSource::~FdSource() {
  if (spool_) std::fclose(spool_);
}

Result<size_t> FdSource::Read(char* buf, size_t len) {
  if (reading_spool_) {
    size_t n = std::fread(buf, 1, len, spool_);
    if (n == 0 && std::ferror(spool_)) return Status::IoError(name_ + ": reading spool file failed");
    return n;
  }
  for (;;) {
    ssize_t n = ::read(fd_, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(name_ + ": " + std::strerror(errno));
    if (!seekable_ && n > 0) {
      if (!spool_ && !(spool_ = std::tmpfile())) return Status::IoError("cannot create a spool file");
      if (std::fwrite(buf, 1, static_cast<size_t>(n), spool_) != static_cast<size_t>(n))
        return Status::IoError("writing spool file failed");
    }
    return static_cast<size_t>(n);
  }
}

Status FdSource::Rewind() {
  if (seekable_) {
    if (lseek(fd_, 0, SEEK_SET) < 0) return Status::IoError(name_ + ": cannot seek");
    return Status::Ok();
  }
  // Drain what has not been read yet into the spool, then read the spool.
  if (!reading_spool_) {
    char buf[65536];
    for (;;) {
      auto n = Read(buf, sizeof buf);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
    }
  }
  if (!spool_ && !(spool_ = std::tmpfile())) return Status::IoError("cannot create a spool file");
  std::fflush(spool_);
  std::rewind(spool_);
  reading_spool_ = true;
  return Status::Ok();
}

}  // namespace mtas
