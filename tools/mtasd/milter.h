// The milter protocol (version 6, as Postfix and Sendmail speak it) on one
// connection, and the per-connection session that signs and verifies.
//
// mtasd speaks the protocol itself rather than through libmilter (whose
// definitions in <libmilter/mfdef.h> it uses): it needs TCP_NODELAY and one
// write per reply batch (no Nagle/delayed-ACK stalls), its own SIGHUP
// reload, and no thread-per-callback indirection. docs/mtasd.md has why.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "event_pool.h"
#include "runtime.h"

namespace mtasd {

// One milter packet: a command byte and its data.
struct Packet {
  char command = 0;
  std::string data;
};

class MilterStream {
 public:
  // tcp: whether to send quick ACKs (TCP_QUICKACK has no meaning on a unix socket).
  // The read buffer is borrowed from the calling thread for the stream's
  // life, so a worker does not allocate and zero one per connection.
  explicit MilterStream(int fd, bool tcp = true);
  ~MilterStream();
  MilterStream(const MilterStream&) = delete;
  MilterStream& operator=(const MilterStream&) = delete;

  enum class Received { kData, kNothing, kClosed };
  // Reads what the socket holds without waiting, in one call (Postfix sends
  // a message's packets back to back: macros, headers, body chunks).
  // kClosed on end of file or an error.
  Received Receive();
  // True if the last Receive() filled the buffer (more may be waiting).
  bool filled() const { return filled_; }

  enum class Next { kPacket, kIncomplete, kMalformed };
  // Takes the next whole packet from what was received. kMalformed: a
  // length of 0 or above the bound; the connection cannot go on.
  Next Take(Packet* packet);

  // Replies are queued and written together by Flush().
  void Queue(char command, std::string_view data = {});
  // What is queued, and taking back what was queued after such a mark (a
  // message's modifications that could not be completed: all or none).
  size_t QueuedBytes() const { return out_.size(); }
  void DropQueuedAfter(size_t mark) { out_.resize(std::min(mark, out_.size())); }
  bool Flush();
  // Before waiting: if what was read got no reply (the MTA asked for none),
  // acknowledge it at once. Otherwise the MTA's next small packet may wait
  // for that ACK (Nagle) while our kernel delays it (40 ms).
  void AcknowledgeIfOwed();

 private:
  int fd_;
  bool tcp_;
  bool unacknowledged_ = false;  // data read and nothing sent since (TCP)
  bool filled_ = false;
  std::string in_;  // read buffer, zeroed once when it grows; bytes [in_pos_, in_end_) not yet parsed
  size_t in_pos_ = 0, in_end_ = 0;
  std::string out_;
};

// Sets on a listening socket what each connection accepted from it needs:
// on TCP, TCP_NODELAY and the send timeout (Linux copies a TCP listener's
// options to the connections it accepts, which saves two system calls per
// connection); a unix socket's connections start fresh (see NewMilterSession).
void PrepareListener(int listener, bool tcp);

// The milter session for one MTA connection accepted from a PrepareListener()
// socket, for an EventPool. `runtime` is asked for the current configuration
// at every message (so SIGHUP takes effect at the next one).
std::unique_ptr<ConnectionHandler> NewMilterSession(int fd, bool tcp,
                                                    const std::function<std::shared_ptr<const Runtime>()>& runtime);

}  // namespace mtasd
