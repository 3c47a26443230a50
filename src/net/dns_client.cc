// DnsClient on libunbound, loaded at first use (net/libraries.h). Each query runs asynchronously and is cancelled
// at the deadline, so a stalled server costs at most the timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "mtas/blocking.h"
#include "mtas/dns.h"
#include "net/libraries.h"

namespace mtas {
namespace {

using ContextPtr = std::unique_ptr<ub_ctx, decltype(UnboundLibrary::ctx_delete)>;

struct Pending {
  bool done = false;
  int err = 0;
  ub_result* result = nullptr;
};

void OnResult(void* arg, int err, ub_result* result) {
  auto* p = static_cast<Pending*>(arg);
  p->done = true;
  p->err = err;
  p->result = result;
}

// Queries from any number of threads run at once in one libunbound context
// (its resolver works in a thread of its own). Results arrive through
// ub_process(), which runs the callbacks of every query that is ready: one
// waiting thread at a time polls the context's descriptor without holding
// the lock, the others wait on the condition until their own query is done,
// their deadline passes, or the poller's turn ends. So a name server that
// never answers costs only the queries sent to it, not everyone's.
class UnboundClient final : public DnsClient {
 public:
  UnboundClient(const UnboundLibrary& ub, ContextPtr ctx, int timeout_ms, bool validating)
      : ub_(ub), ctx_(std::move(ctx)), timeout_ms_(timeout_ms), validating_(validating) {}
  ~UnboundClient() override = default;

  bool validating() const override { return validating_; }

  DnsAnswer Query(const std::string& name, int type) override {
    AnnounceBlocking();  // the answer may take a while
    using Clock = std::chrono::steady_clock;
    DnsAnswer answer;
    Pending pending;
    int id = 0;
    std::unique_lock<std::mutex> lock(mu_);
    if (int rc = ub_.resolve_async(ctx_.get(), name.c_str(), type, 1 /* IN */, &pending, OnResult, &id); rc != 0) {
      answer.why = ub_.strerror(rc);
      return answer;
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    while (!pending.done) {
      auto now = Clock::now();
      if (now >= deadline) {
        ub_.cancel(ctx_.get(), id);  // under the lock: its callback cannot run any more
        answer.outcome = DnsAnswer::Outcome::kTimeout;
        answer.why = "no answer for " + name + " within " + std::to_string(timeout_ms_) + " ms";
        return answer;
      }
      // A turn polls for at most kTurn, so a waiter whose query is ready
      // or whose deadline passes is never held up longer than that.
      auto turn_end = std::min(deadline, now + kTurn);
      if (polling_) {
        cv_.wait_until(lock, turn_end);
        continue;
      }
      polling_ = true;
      lock.unlock();
      pollfd pfd{ub_.fd(ctx_.get()), POLLIN, 0};
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(turn_end - now).count();
      bool readable = poll(&pfd, 1, static_cast<int>(std::max<long long>(wait, 1))) > 0;
      lock.lock();
      if (readable) ub_.process(ctx_.get());  // callbacks run here, under the lock
      polling_ = false;
      cv_.notify_all();
    }
    lock.unlock();
    std::unique_ptr<ub_result, decltype(ub_.resolve_free)> result(pending.result, ub_.resolve_free);
    if (pending.err != 0 || !result) {
      answer.why = ub_.strerror(pending.err);
      return answer;
    }
    answer.secure = result->secure;
    answer.ttl = result->ttl > 0 ? static_cast<uint32_t>(result->ttl) : 0;
    if (result->bogus) {
      answer.outcome = DnsAnswer::Outcome::kBogus;
      answer.why = result->why_bogus ? result->why_bogus : "DNSSEC validation failed";
      return answer;
    }
    if (result->rcode == 3 /* NXDOMAIN */ || result->nxdomain) {
      answer.outcome = DnsAnswer::Outcome::kNxDomain;
      return answer;
    }
    if (result->rcode != 0) {
      answer.outcome = DnsAnswer::Outcome::kServFail;
      answer.why = "DNS rcode " + std::to_string(result->rcode) + " for " + name;
      return answer;
    }
    if (!result->havedata) {
      answer.outcome = DnsAnswer::Outcome::kNoData;
      return answer;
    }
    for (int i = 0; result->data[i]; ++i)
      answer.rdata.emplace_back(result->data[i], static_cast<size_t>(result->len[i]));
    answer.outcome = DnsAnswer::Outcome::kOk;
    return answer;
  }

 private:
  static constexpr std::chrono::milliseconds kTurn{50};
  std::mutex mu_;  // the context's callbacks, the Pending records, polling_
  std::condition_variable cv_;
  bool polling_ = false;  // a waiter is polling the descriptor (without mu_)
  const UnboundLibrary& ub_;
  ContextPtr ctx_;
  int timeout_ms_;
  bool validating_;
};

}  // namespace

Status CheckResolverAddress(const std::string& server) {
  std::string host = server, port;
  if (size_t at = server.find('@'); at != std::string::npos) {
    host = server.substr(0, at);
    port = server.substr(at + 1);
  } else if (size_t colon = server.find(':'); colon != std::string::npos && server.rfind(':') == colon) {
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) != 1 && inet_pton(AF_INET6, host.c_str(), buf) != 1)
    return Status::InvalidArgument("'" + server + "' is not an IP address (optionally with :PORT or @PORT)");
  if (server.size() > host.size()) {
    bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
      return Status::InvalidArgument("'" + server + "': the port is not 1..65535");
  }
  return Status::Ok();
}

Result<std::unique_ptr<DnsClient>> DnsClient::Create(const DnsOptions& options) {
  if (!options.server.empty()) {
    if (Status st = CheckResolverAddress(options.server); !st.ok())
      return Status::InvalidArgument("resolver " + st.message());
  }
  // libunbound reads the trust anchor only at the first query: a missing
  // file would turn every lookup into an error, so it is checked here.
  if (!options.trust_anchor_file.empty()) {
    int fd = ::open(options.trust_anchor_file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return Status::InvalidArgument("trust anchor " + options.trust_anchor_file + ": " + std::strerror(errno));
    ::close(fd);
  }
  std::string why;
  const UnboundLibrary* ub = Unbound(&why);
  if (!ub) return Status::IoError(why);
  ContextPtr ctx(ub->ctx_create(), ub->ctx_delete);
  if (!ctx) return Status::IoError("cannot create a DNS resolver context");
  ub->ctx_async(ctx.get(), 1);  // background work in a thread, not a forked process
  if (options.server.empty()) {
    if (int rc = ub->ctx_resolvconf(ctx.get(), nullptr); rc != 0)
      return Status::IoError(std::string("reading resolv.conf: ") + ub->strerror(rc));
  } else {
    std::string server = options.server;
    size_t colon = server.rfind(':');
    if (colon != std::string::npos && server.find(':') == colon) server[colon] = '@';  // HOST:PORT -> HOST@PORT
    ub->ctx_set_option(ctx.get(), "do-not-query-localhost:", "no");
    if (int rc = ub->ctx_set_fwd(ctx.get(), server.c_str()); rc != 0)
      return Status::InvalidArgument("resolver '" + options.server + "': " + ub->strerror(rc));
  }
  bool validating = !options.trust_anchor_file.empty();
  if (validating) {
    if (int rc = ub->ctx_add_ta_file(ctx.get(), options.trust_anchor_file.c_str()); rc != 0)
      return Status::InvalidArgument("trust anchor " + options.trust_anchor_file + ": " + ub->strerror(rc));
  }
  // unbound answers the special-use name test. (RFC 6761) itself; with an
  // explicit server, ask that server instead (test zones live there). This
  // finalizes the context, so it comes last.
  if (!options.server.empty()) ub->ctx_zone_remove(ctx.get(), "test.");
  std::unique_ptr<DnsClient> client = std::make_unique<UnboundClient>(
      *ub, std::move(ctx), options.timeout_ms > 0 ? options.timeout_ms : 5000, validating);
  return client;
}

}  // namespace mtas
