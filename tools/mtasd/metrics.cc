#include "metrics.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "listen.h"

namespace mtasd {
namespace {

constexpr std::array<const char*, kDispositions> kDispositionNames = {"accepted",   "quarantined", "rejected",
                                                                      "tempfailed", "skipped",     "error"};
constexpr std::array<mtas::SigResult, 8> kResults = {
    mtas::SigResult::kPass,      mtas::SigResult::kPartial,   mtas::SigResult::kFail,
    mtas::SigResult::kTempError, mtas::SigResult::kPermError, mtas::SigResult::kNeutral,
    mtas::SigResult::kNone,      mtas::SigResult::kPass};  // the last slot is unused
constexpr std::array<mtas::PolicyDecision::Action, 5> kActions = {
    mtas::PolicyDecision::Action::kAccept, mtas::PolicyDecision::Action::kAcceptWithEdits,
    mtas::PolicyDecision::Action::kQuarantine, mtas::PolicyDecision::Action::kTempFail,
    mtas::PolicyDecision::Action::kReject};

std::string Escape(const std::string& v) {  // a label value: backslash, quote and newline escaped
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void Metrics::Message(Disposition d, double seconds) {
  ++messages_[static_cast<size_t>(d)];
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  ++latency_buckets_[i];
  latency_micros_ += static_cast<uint64_t>(seconds * 1e6);
}

void Metrics::Hop(mtas::SigResult r) {
  for (size_t i = 0; i + 1 < kResults.size(); ++i)
    if (kResults[i] == r) ++hops_[i];
}

void Metrics::Decision(mtas::PolicyDecision::Action a) { ++decisions_[static_cast<size_t>(a)]; }

void Metrics::Signed(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++signed_[key_id];
}

void Metrics::Error(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[kind];
}

void Metrics::Refused(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refused_[why];
}

std::string Metrics::Render() const {
  std::string out;
  Family(out, "mtasd_messages_total", "counter", "Messages by what became of them at the end of the milter session.");
  for (size_t i = 0; i < kDispositions; ++i)
    out += std::string("mtasd_messages_total{disposition=\"") + kDispositionNames[i] + "\"} " +
           std::to_string(messages_[i].load()) + "\n";
  Family(out, "mtasd_message_duration_seconds", "histogram",
         "Time from the end of a message to mtasd's reply (verify, policy, sign).");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i].load();
    out += "mtasd_message_duration_seconds_bucket{le=\"" + Number(kBuckets[i]) + "\"} " + std::to_string(cumulative) +
           "\n";
  }
  cumulative += latency_buckets_[kBuckets.size()].load();
  out += "mtasd_message_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += "mtasd_message_duration_seconds_sum " + Number(static_cast<double>(latency_micros_.load()) / 1e6) + "\n";
  out += "mtasd_message_duration_seconds_count " + std::to_string(cumulative) + "\n";
  Family(out, "mtasd_hops_total", "counter", "Verified hops (signatures) by result.");
  for (size_t i = 0; i + 1 < kResults.size(); ++i)
    out += std::string("mtasd_hops_total{result=\"") + std::string(mtas::ResultName(kResults[i])) + "\"} " +
           std::to_string(hops_[i].load()) + "\n";
  Family(out, "mtasd_policy_decisions_total", "counter", "Policy decisions by action (Policy yes).");
  for (size_t i = 0; i < kActions.size(); ++i)
    out += std::string("mtasd_policy_decisions_total{action=\"") + std::string(mtas::ActionName(kActions[i])) + "\"} " +
           std::to_string(decisions_[i].load()) + "\n";
  {
    std::lock_guard<std::mutex> lock(mu_);
    Family(out, "mtasd_signed_total", "counter", "Messages signed, by KeyTable key.");
    for (const auto& [key, n] : signed_)
      out += "mtasd_signed_total{key=\"" + Escape(key) + "\"} " + std::to_string(n) + "\n";
    Family(out, "mtasd_errors_total", "counter", "Messages that met an error (OnError decided), by kind.");
    for (const auto& [kind, n] : errors_)
      out += "mtasd_errors_total{kind=\"" + Escape(kind) + "\"} " + std::to_string(n) + "\n";
    Family(out, "mtasd_connections_refused_total", "counter", "MTA connections refused, by reason.");
    for (const auto& [why, n] : refused_)
      out += "mtasd_connections_refused_total{reason=\"" + Escape(why) + "\"} " + std::to_string(n) + "\n";
  }
  Family(out, "mtasd_connections", "gauge", "MTA connections open now.");
  out += "mtasd_connections " + std::to_string(connections_.load()) + "\n";
  Family(out, "mtasd_connections_total", "counter", "MTA connections accepted.");
  out += "mtasd_connections_total " + std::to_string(connections_total_.load()) + "\n";
  Family(out, "mtasd_config_reloads_total", "counter", "Configuration reloads (SIGHUP), by result.");
  out += "mtasd_config_reloads_total{result=\"ok\"} " + std::to_string(reloads_ok_.load()) + "\n";
  out += "mtasd_config_reloads_total{result=\"failed\"} " + std::to_string(reloads_failed_.load()) + "\n";
  return out;
}

std::string Metrics::Summary() const {
  std::string out = "statistics:";
  for (size_t i = 0; i < kDispositions; ++i)
    out += std::string(" ") + kDispositionNames[i] + "=" + std::to_string(messages_[i].load());
  out += " connections=" + std::to_string(connections_.load());
  return out;
}

Metrics& GlobalMetrics() {
  static Metrics metrics;
  return metrics;
}

bool StartMetricsServer(const std::string& spec, std::string* error) {
  int listener = Listen(spec, error);
  if (listener < 0) return false;
  std::thread([listener] {
    for (;;) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EINTR && errno != ECONNABORTED) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      timeval limit{2, 0};  // a client gets 2 s to send its request and take the answer
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
      std::string request;
      char buf[1024];
      while (request.size() < 8192 && request.find("\r\n\r\n") == std::string::npos &&
             request.find("\n\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::string reply;
      if (request.rfind("GET /metrics ", 0) == 0 || request.rfind("GET /metrics\r", 0) == 0) {
        std::string body = GlobalMetrics().Render();
        reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      } else {
        reply = "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n";
      }
      size_t sent = 0;
      while (sent < reply.size()) {
        ssize_t n = ::send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::close(fd);
    }
  }).detach();
  return true;
}

}  // namespace mtasd
