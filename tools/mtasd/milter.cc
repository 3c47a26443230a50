#include "milter.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "metrics.h"
#include "mtas/address.h"
#include "mtas/hop.h"
#include "mtas/result_headers.h"
#include "mtas/source.h"

namespace mtasd {
namespace {

constexpr uint32_t kMaxPacket = 4u << 20;  // Postfix sends at most 64 KiB of body a packet
constexpr size_t kSpoolInMemory = 1u << 20;
// A worker keeps a message buffer this large for the next message; a larger
// one is freed (a pool grown to hundreds of sessions must not hold 1 MiB each).
constexpr size_t kSpareKept = 256u << 10;
constexpr size_t kBodyChunk = 65535 - 1;

// What mtasd asks of the MTA: no HELO, DATA or unknown commands, and no
// reply expected for anything but the end of the message.
constexpr uint32_t kWantedProtocol = SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_MAIL |
                                     SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;
constexpr uint32_t kActions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE;

uint32_t Get32(std::string_view s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return ntohl(v);
}

std::string Put32(uint32_t v) {
  v = htonl(v);
  return std::string(reinterpret_cast<const char*>(&v), 4);
}

// The message as received, kept for the verifier's and signer's reads:
// in memory up to 1 MiB, then in an unlinked temporary file.
//
// The in-memory buffer is borrowed from the thread that starts the message
// and left with the thread that ends it, so threads serving message after
// message do not allocate (and the allocator does not trim and re-grow) a
// buffer for each.
class Spool final : public mtas::MessageSource {
 public:
  Spool() {
    mem_.swap(SpareBuffer());
    mem_.clear();
  }
  ~Spool() override {
    if (file_) std::fclose(file_);
    if (mem_.capacity() <= kSpareKept) mem_.swap(SpareBuffer());
  }
  bool Append(std::string_view data) {
    size_ += data.size();
    if (!file_ && mem_.size() + data.size() <= kSpoolInMemory) {
      mem_.append(data);
      return true;
    }
    if (!file_) {
      if (!(file_ = std::tmpfile())) return false;
      if (std::fwrite(mem_.data(), 1, mem_.size(), file_) != mem_.size()) return false;
      mem_.clear();
    }
    return std::fwrite(data.data(), 1, data.size(), file_) == data.size();
  }
  mtas::Result<size_t> Read(char* buf, size_t len) override {
    if (!file_) {
      size_t n = std::min(len, mem_.size() - pos_);
      std::memcpy(buf, mem_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    size_t n = std::fread(buf, 1, len, file_);
    if (n == 0 && std::ferror(file_)) return mtas::Status::IoError("spool read failed");
    return n;
  }
  std::optional<std::string_view> TakeRest() override {
    if (file_) return std::nullopt;
    std::string_view rest = std::string_view(mem_).substr(pos_);
    pos_ = mem_.size();
    return rest;
  }
  mtas::Status Rewind() override {
    pos_ = 0;
    if (file_) {
      std::fflush(file_);
      std::rewind(file_);
    }
    return mtas::Status::Ok();
  }
  size_t size() const { return size_; }

 private:
  static std::string& SpareBuffer() {
    thread_local std::string spare;
    return spare;
  }

  std::string mem_;
  size_t pos_ = 0;
  size_t size_ = 0;
  std::FILE* file_ = nullptr;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "" : Lower(address.substr(at + 1));
}

// "<a@b>" and ESMTP arguments -> "a@b".
std::string Address(std::string_view data) {
  std::string a(data.substr(0, data.find('\0')));
  if (!a.empty() && a.front() == '<') a.erase(a.begin());
  if (!a.empty() && a.back() == '>') a.pop_back();
  return a;
}

class Session final : public ConnectionHandler {
 public:
  Session(int fd, bool tcp, const std::function<std::shared_ptr<const Runtime>()>& runtime)
      : stream_(fd, tcp), runtime_(runtime) {
    GlobalMetrics().ConnectionOpened();
  }
  ~Session() override { GlobalMetrics().ConnectionClosed(); }

  // Handles every whole packet that has arrived, then sends the replies
  // they called for in one write.
  bool OnReadable() override {
    do {
      MilterStream::Received got = stream_.Receive();
      if (got == MilterStream::Received::kClosed) return false;
      if (got == MilterStream::Received::kNothing) break;
      Packet p;
      for (;;) {
        MilterStream::Next next = stream_.Take(&p);
        if (next == MilterStream::Next::kMalformed) return false;
        if (next == MilterStream::Next::kIncomplete) break;
        if (!Handle(p)) {  // QUIT: what the packets before it called for still goes out
          stream_.Flush();
          return false;
        }
      }
      if (!stream_.Flush()) return false;
    } while (stream_.filled());
    stream_.AcknowledgeIfOwed();
    return true;
  }

 private:
  bool NeedsReply(uint32_t no_reply_flag) const { return !(protocol_ & no_reply_flag); }

  bool Handle(const Packet& p) {
    switch (p.command) {
      case SMFIC_OPTNEG: {
        if (p.data.size() < 12) return false;
        uint32_t offered_actions = Get32(p.data, 4), offered_protocol = Get32(p.data, 8);
        uint32_t actions = kActions & offered_actions;
        protocol_ = kWantedProtocol & offered_protocol;
        std::string macro_lists;
        // An MTA that takes macro lists sends the client's address and the
        // envelope sender with each RCPT, and neither the connect nor the
        // MAIL event (each a wake-up of its own) is needed. The lists
        // replace all of the MTA's own.
        if (offered_actions & SMFIF_SETSYMLIST) {
          actions |= SMFIF_SETSYMLIST;
          protocol_ |= (SMFIP_NOCONNECT | SMFIP_NOMAIL) & offered_protocol;
          macro_lists = Put32(SMFIM_ENVRCPT) + "{client_addr} {mail_addr}" + std::string(1, '\0') + Put32(SMFIM_EOM) +
                        "i" + std::string(1, '\0');
        }
        stream_.Queue(SMFIC_OPTNEG, Put32(6) + Put32(actions) + Put32(protocol_) + macro_lists);
        return true;
      }
      case SMFIC_MACRO:
        ReadMacros(p.data);
        return true;
      case SMFIC_CONNECT: {
        size_t nul = p.data.find('\0');
        if (nul != std::string::npos && nul + 4 < p.data.size() && (p.data[nul + 1] == '4' || p.data[nul + 1] == '6'))
          client_ = p.data.substr(nul + 4, p.data.find('\0', nul + 4) - (nul + 4));
        if (NeedsReply(SMFIP_NR_CONN)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      }
      case SMFIC_HELO:
      case SMFIC_DATA:
      case SMFIC_UNKNOWN:
        stream_.Queue(SMFIR_CONTINUE);
        return true;
      case SMFIC_MAIL:
        Reset();
        mail_from_ = Address(p.data);
        if (NeedsReply(SMFIP_NR_MAIL)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      case SMFIC_RCPT:
        rcpt_to_.push_back(Address(p.data));
        if (NeedsReply(SMFIP_NR_RCPT)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      case SMFIC_HEADER: {
        size_t nul = p.data.find('\0');
        if (nul == std::string::npos) return false;
        std::string name = p.data.substr(0, nul);
        std::string value = p.data.substr(nul + 1);
        if (!value.empty() && value.back() == '\0') value.pop_back();
        if (!(protocol_ & SMFIP_HDR_LEADSPC) && !value.empty()) value = " " + value;
        std::string field = name + ":";
        for (size_t i = 0; i < value.size(); ++i) {  // folded lines come with bare LF
          if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r')) field += '\r';
          field += value[i];
        }
        Append(field + "\r\n");
        if (NeedsReply(SMFIP_NR_HDR)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      }
      case SMFIC_EOH:
        Append("\r\n");
        body_offset_ = spool_ ? spool_->size() : 0;
        if (NeedsReply(SMFIP_NR_EOH)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      case SMFIC_BODY:
        Append(p.data);
        if (NeedsReply(SMFIP_NR_BODY)) stream_.Queue(SMFIR_CONTINUE);
        return true;
      case SMFIC_BODYEOB:
        Append(p.data);
        EndOfMessage();
        Reset();
        return true;
      case SMFIC_ABORT:
        Reset();
        return true;
      case SMFIC_QUIT_NC:
        Reset();
        client_.clear();
        return true;
      case SMFIC_QUIT:
        return false;
      default:  // an unknown command: answer as if nothing happened
        stream_.Queue(SMFIR_CONTINUE);
        return true;
    }
  }

  void ReadMacros(const std::string& d) {
    size_t i = 1;  // d[0]: the command the macros belong to
    while (i < d.size()) {
      size_t a = d.find('\0', i);
      if (a == std::string::npos) break;
      size_t b = d.find('\0', a + 1);
      if (b == std::string::npos) break;
      std::string name = d.substr(i, a - i);
      if (name == "i" || name == "{i}") queue_id_ = d.substr(a + 1, b - a - 1);
      if (name == "{client_addr}") client_ = d.substr(a + 1, b - a - 1);
      if (name == "{mail_addr}") mail_from_ = Address(d.substr(a + 1, b - a - 1));
      i = b + 1;
    }
  }

  void Append(std::string_view data) {
    if (!spool_) spool_ = std::make_unique<Spool>();
    if (too_large_) return;
    if (!rt_) rt_ = runtime_();  // one configuration for the whole message
    if (spool_->size() + data.size() > rt_->config.max_message_size) {
      too_large_ = true;
      return;
    }
    if (!spool_->Append(data)) spool_failed_ = true;
  }

  void Reset() {
    spool_.reset();
    rt_.reset();
    mail_from_.clear();
    rcpt_to_.clear();
    queue_id_.clear();
    body_offset_ = 0;
    too_large_ = spool_failed_ = false;
  }

  // Verify, decide, sign, and send the modifications with the final reply
  // in one write.
  void EndOfMessage() {
    auto started = std::chrono::steady_clock::now();
    if (!rt_) rt_ = runtime_();
    std::shared_ptr<const Runtime> rt = rt_;
    const Config& cfg = rt->config;
    // One line per message (qid= is Postfix's queue id, as in its own log).
    std::string log = "qid=" + (queue_id_.empty() ? std::string("-") : queue_id_) +
                      " client=" + (client_.empty() ? std::string("-") : client_);
    auto finish = [&](Disposition disposition, const std::string& outcome) {
      auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
      GlobalMetrics().Message(disposition, static_cast<double>(us) / 1e6);
      Log(LOG_INFO, log + " " + outcome + " ms=" + std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100));
    };
    auto on_error = [&](const std::string& kind, const std::string& why) {
      GlobalMetrics().Error(kind);
      if (cfg.on_error_tempfail)
        stream_.Queue(SMFIR_REPLYCODE, "451 4.7.0 mtasd: " + why + std::string(1, '\0'));
      else
        stream_.Queue(SMFIR_CONTINUE);
      finish(Disposition::kError,
             std::string("error=\"") + why + "\" action=" + (cfg.on_error_tempfail ? "tempfail" : "accept"));
    };
    if (!spool_ || too_large_) {  // nothing to do with it: pass it on untouched
      stream_.Queue(SMFIR_CONTINUE);
      finish(Disposition::kSkipped, too_large_ ? "skipped=too-large" : "skipped=empty");
      return;
    }
    if (spool_failed_) return on_error("spool", "spool write failed");

    // The hop's job (mtas/hop.h). InternalHosts: our own clients' mail is
    // signed, not judged; what arrives from elsewhere is verified (and in
    // Mode both re-signed).
    bool internal = IsInternal(cfg, client_);
    mtas::HopOptions hop;
    hop.verify = cfg.mode == Mode::kVerify || (cfg.mode == Mode::kBoth && !internal);
    hop.authserv_id = cfg.authserv_id;
    hop.verify_options = rt->verify_options;
    hop.envelope = mtas::Envelope{mail_from_, rcpt_to_};
    hop.result_eol = "\r\n";
    std::optional<mtas::DnsPolicySource> policy_source;
    if (cfg.policy) {
      policy_source.emplace(rt->dns);
      hop.policy_source = &*policy_source;
      hop.local_policy = rt->local_policy;
    }
    std::string from_domain, key_id;
    // The SigningTable is matched against the envelope sender's domain (a
    // list re-injecting as list-bounces@ signs as the list), then the first
    // From domain.
    hop.choose_signer = [&](const mtas::HopHeader& h) -> const mtas::Signer* {
      if (h.from_domains.ok()) from_domain = h.from_domains->front();
      if (cfg.mode == Mode::kVerify || !(cfg.mode == Mode::kBoth || internal)) return nullptr;
      const mtas::Signer* signer = rt->SignerFor(DomainOf(mail_from_), &key_id);
      if (!signer && !from_domain.empty()) signer = rt->SignerFor(from_domain, &key_id);
      return signer;
    };
    auto done = mtas::ProcessHop(*spool_, hop);
    if (!done.ok()) return on_error("hop", done.status().message());
    if (done->header.from_domains.ok()) from_domain = done->header.from_domains->front();
    if (done->report)
      for (const auto& s : done->report->signatures) {
        GlobalMetrics().Hop(s.result);
        log += " hop" + std::to_string(s.hop) + "=" + std::string(mtas::ResultName(s.result)) + "/" + s.msgid +
               (s.signer.empty() ? "" : "/" + s.signer);
      }
    std::string quarantine;  // this message's reason, if it is to be held
    if (done->decision) {
      GlobalMetrics().Decision(done->decision->action);
      log += " decision=" + std::string(mtas::ActionName(done->decision->action));
      if (done->refused) {  // reject or tempfail
        stream_.Queue(SMFIR_REPLYCODE, done->decision->smtp_reply + std::string(1, '\0'));
        bool reject = done->decision->action == mtas::PolicyDecision::Action::kReject;
        finish(reject ? Disposition::kRejected : Disposition::kTempFailed,
               "from=" + from_domain + " reason=\"" + done->decision->reason + "\"");
        return;
      }
      if (done->decision->action == mtas::PolicyDecision::Action::kQuarantine) quarantine = done->decision->reason;
    }
    if (!done->unsigned_reason.empty()) log += " unsigned=\"" + done->unsigned_reason + "\"";
    if (done->signed_it)
      log += " signed=" + done->msgid + "/" + std::string(mtas::CarrierName(done->carrier)) + " key=" + key_id;
    const mtas::MessageEdits& edits = done->edits;
    // A spool that cannot be read back must not leave a half-replaced
    // body: none of the modifications go, and the error action decides.
    if (mtas::Status applied = Apply(edits); !applied.ok()) return on_error("spool", applied.message());
    if (done->signed_it) GlobalMetrics().Signed(key_id);
    if (!quarantine.empty()) stream_.Queue(SMFIR_QUARANTINE, quarantine + std::string(1, '\0'));
    stream_.Queue(SMFIR_CONTINUE);
    std::string reason = done->decision ? done->decision->reason : "";  // why it was accepted or held
    finish(quarantine.empty() ? Disposition::kAccepted : Disposition::kQuarantined,
           "from=" + from_domain + (reason.empty() ? "" : " reason=\"" + reason + "\""));
  }

  mtas::Status Apply(const mtas::MessageEdits& edits) {
    size_t mark = stream_.QueuedBytes();
    for (const auto& r : edits.removed)  // an empty value deletes the field
      stream_.Queue(SMFIR_CHGHEADER,
                    Put32(static_cast<uint32_t>(r.occurrence)) + r.name + std::string(1, '\0') + std::string(1, '\0'));
    for (auto it = edits.prepend.rbegin(); it != edits.prepend.rend(); ++it) {  // each at the top: reverse order
      size_t colon = it->find(':');
      std::string name = it->substr(0, colon), value = it->substr(colon + 1);
      // With SMFIP_HDR_LEADSPC the MTA takes the value as is, leading space included.
      if (!(protocol_ & SMFIP_HDR_LEADSPC) && !value.empty() && value.front() == ' ') value.erase(value.begin());
      std::string v;  // the MTA wants folded lines with bare LF
      for (char c : value)
        if (c != '\r') v += c;
      stream_.Queue(SMFIR_INSHEADER, Put32(0) + name + std::string(1, '\0') + v + std::string(1, '\0'));
    }
    if (edits.body_prefix.empty() && edits.body_suffix.empty()) return mtas::Status::Ok();
    std::string chunk = edits.body_prefix;  // the new body: prefix + original + suffix
    auto flush = [&](bool all) {
      size_t sent = 0;  // erased once at the end: a whole in-memory body is one piece
      while (chunk.size() - sent >= kBodyChunk || (all && sent < chunk.size())) {
        size_t n = std::min(chunk.size() - sent, kBodyChunk);
        stream_.Queue(SMFIR_REPLBODY, std::string_view(chunk).substr(sent, n));
        sent += n;
      }
      chunk.erase(0, sent);
    };
    uint64_t pos = 0;
    mtas::Status st = spool_->Rewind();
    if (st.ok())
      st = mtas::ForEachChunk(*spool_, [&](const char* p, size_t n) {
        uint64_t from = std::max<uint64_t>(pos, body_offset_);
        if (from < pos + n) chunk.append(p + (from - pos), static_cast<size_t>(pos + n - from));
        pos += n;
        flush(false);
      });
    if (!st.ok()) {
      stream_.DropQueuedAfter(mark);
      return mtas::Status::IoError("reading the spool back: " + st.message());
    }
    chunk += edits.body_suffix;
    flush(true);
    return mtas::Status::Ok();
  }

  MilterStream stream_;
  const std::function<std::shared_ptr<const Runtime>()>& runtime_;
  uint32_t protocol_ = 0;
  std::string client_;
  std::string mail_from_;
  std::vector<std::string> rcpt_to_;
  std::string queue_id_;
  std::shared_ptr<const Runtime> rt_;  // the configuration this message is handled under
  std::unique_ptr<Spool> spool_;
  uint64_t body_offset_ = 0;
  bool too_large_ = false;
  bool spool_failed_ = false;
};

}  // namespace

namespace {
constexpr size_t kReadBlock = 64 * 1024;
std::string& SpareReadBuffer() {
  thread_local std::string spare;
  return spare;
}
}  // namespace

MilterStream::MilterStream(int fd, bool tcp) : fd_(fd), tcp_(tcp) { in_.swap(SpareReadBuffer()); }

MilterStream::~MilterStream() {
  if (in_.size() <= 2 * kReadBlock) in_.swap(SpareReadBuffer());  // not a rare 4 MiB packet's buffer
}

MilterStream::Received MilterStream::Receive() {
  std::memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);  // what is left, to the front
  in_end_ -= in_pos_;
  in_pos_ = 0;
  size_t want = kReadBlock;  // and room for a whole packet once its length is known
  if (in_end_ >= 4) want = std::max<size_t>(want, 4 + std::min(Get32(in_, 0), kMaxPacket));
  if (in_.size() < want) in_.resize(want);
  ssize_t r;
  do {
    r = ::recv(fd_, in_.data() + in_end_, in_.size() - in_end_, MSG_DONTWAIT);
  } while (r < 0 && errno == EINTR);
  filled_ = false;
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Received::kNothing;
  if (r <= 0) return Received::kClosed;
  filled_ = in_end_ + static_cast<size_t>(r) == in_.size();
  in_end_ += static_cast<size_t>(r);
  unacknowledged_ = tcp_;
  return Received::kData;
}

MilterStream::Next MilterStream::Take(Packet* packet) {
  if (in_end_ - in_pos_ < 4) return Next::kIncomplete;
  uint32_t len = Get32(std::string_view(in_).substr(in_pos_, 4), 0);
  if (len == 0 || len > kMaxPacket) return Next::kMalformed;
  if (in_end_ - in_pos_ < 4 + len) return Next::kIncomplete;
  packet->command = in_[in_pos_ + 4];
  packet->data.assign(in_, in_pos_ + 5, len - 1);
  in_pos_ += 4 + len;
  return Next::kPacket;
}

void MilterStream::AcknowledgeIfOwed() {
  if (!unacknowledged_) return;  // a reply carried the ACK: once or twice a message, not at every read
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  unacknowledged_ = false;
}

void MilterStream::Queue(char command, std::string_view data) {
  out_ += Put32(static_cast<uint32_t>(data.size() + 1));
  out_ += command;
  out_.append(data);
}

bool MilterStream::Flush() {
  if (out_.empty()) return true;
  unacknowledged_ = false;
  size_t off = 0;
  int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  while (off < out_.size()) {
    ssize_t w = ::send(fd_, out_.data() + off, out_.size() - off, flags);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (flags & MSG_DONTWAIT)) {
      EventPool::MayBlock();  // the MTA is not reading yet: wait (SO_SNDTIMEO bounds it)
      flags = MSG_NOSIGNAL;
      continue;
    }
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  out_.clear();
  return true;
}

namespace {
// An MTA that does not take a reply for 10 minutes is gone. (One that sends
// nothing that long is shut down by the EventPool's idle sweep.)
const timeval kSendTimeout{600, 0};
}  // namespace

void PrepareListener(int listener, bool tcp) {
  if (!tcp) return;
  int one = 1;
  setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // replies leave at once
  // A connection is reported when the MTA's first packet is in: accepting
  // it and reading its option negotiation is then one wake-up, not two.
  int seconds = 5;
  setsockopt(listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
  setsockopt(listener, SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof kSendTimeout);
}

std::unique_ptr<ConnectionHandler> NewMilterSession(int fd, bool tcp,
                                                    const std::function<std::shared_ptr<const Runtime>()>& runtime) {
  if (!tcp) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof kSendTimeout);
  return std::make_unique<Session>(fd, tcp, runtime);
}

}  // namespace mtasd
