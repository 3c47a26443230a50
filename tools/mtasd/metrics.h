// mtasd's counters and the endpoint that serves them in the Prometheus text
// format (MetricsSocket in mtasd.conf(5); off unless set). Thread-safe: every
// session counts into the one process-wide Metrics.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "mtas/policy.h"
#include "mtas/verify.h"

namespace mtasd {

// What became of one message at the end of its milter session.
enum class Disposition { kAccepted, kQuarantined, kRejected, kTempFailed, kSkipped, kError };
inline constexpr size_t kDispositions = 6;

class Metrics {
 public:
  void Message(Disposition d, double seconds);
  void Hop(mtas::SigResult r);
  void Decision(mtas::PolicyDecision::Action a);
  void Signed(const std::string& key_id);
  void Error(const std::string& kind);   // spool (writing or reading it back), hop (ProcessHop failed)
  void Refused(const std::string& why);  // connections: peer-list, connection-limit
  void ConnectionOpened() { ++connections_, ++connections_total_; }
  void ConnectionClosed() { --connections_; }
  void Reload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

  // The Prometheus text exposition format, version 0.0.4.
  std::string Render() const;
  // One line for the log (SIGUSR1): messages by disposition.
  std::string Summary() const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  std::array<std::atomic<uint64_t>, kDispositions> messages_{};
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> latency_buckets_{};  // last: +Inf only
  std::atomic<uint64_t> latency_micros_{0};
  std::array<std::atomic<uint64_t>, 8> hops_{};       // by SigResult
  std::array<std::atomic<uint64_t>, 5> decisions_{};  // by Action
  std::atomic<int64_t> connections_{0};
  std::atomic<uint64_t> connections_total_{0}, reloads_ok_{0}, reloads_failed_{0};
  mutable std::mutex mu_;  // the maps below
  std::map<std::string, uint64_t> signed_, errors_, refused_;
};

Metrics& GlobalMetrics();

// Serves GET /metrics on `spec` (inet:PORT@ADDRESS or unix:/PATH) from a
// thread of its own, one short request at a time (2 s to send it). False,
// with *error, when the socket cannot be opened.
bool StartMetricsServer(const std::string& spec, std::string* error);

}  // namespace mtasd
