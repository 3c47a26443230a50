// Lookups from many threads through one DnsClient while a name server never
// answers some of them: do the others keep going? Prints what it measured,
// one "key value" per line; tests/integration/dns_concurrency.sh checks it.
//   dns_load RESOLVER GOOD_ZONE DEAD_ZONE GOOD_THREADS DEAD_THREADS SECONDS TIMEOUT_MS
// Every query asks a new name (q<N>.ZONE, answered by a wildcard), so no
// answer comes from the cache.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mtas/dns.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Counts {
  std::atomic<long> answered{0}, failed{0}, timed_out{0};
  std::atomic<long> waited{0};  // dead lookups that took 100 ms or more, however they ended
  // Good answers that arrived while a dead query was waiting, before the
  // first dead query reached its deadline.
  std::atomic<long> good_before_first_timeout{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: dns_load RESOLVER GOOD_ZONE DEAD_ZONE GOOD_THREADS DEAD_THREADS SECONDS TIMEOUT_MS\n");
    return 64;
  }
  mtas::DnsOptions options;
  options.server = argv[1];
  options.timeout_ms = std::atoi(argv[7]);
  auto client = mtas::DnsClient::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "dns_load: %s\n", client.status().message().c_str());
    return 1;
  }
  std::shared_ptr<mtas::DnsClient> dns = std::move(*client);
  std::string good_zone = argv[2], dead_zone = argv[3];
  int good_threads = std::atoi(argv[4]), dead_threads = std::atoi(argv[5]);
  auto seconds = std::chrono::seconds(std::atoi(argv[6]));
  std::atomic<long> serial{0};
  std::atomic<bool> first_timeout_seen{false};
  std::atomic<int> dead_waiting{0};

  auto run = [&](bool with_dead, Counts& good, Counts& dead) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < good_threads; ++t)
      threads.emplace_back([&] {
        while (!stop) {
          std::string name = "q" + std::to_string(serial++) + "." + good_zone;
          mtas::DnsAnswer a = dns->Query(name, mtas::kDnsTypeTxt);
          if (a.outcome == mtas::DnsAnswer::Outcome::kOk) {
            ++good.answered;
            if (dead_waiting > 0 && !first_timeout_seen) ++good.good_before_first_timeout;
          } else {
            ++good.failed;
          }
        }
      });
    if (with_dead)
      for (int t = 0; t < dead_threads; ++t)
        threads.emplace_back([&] {
          while (!stop) {
            std::string name = "q" + std::to_string(serial++) + "." + dead_zone;
            ++dead_waiting;
            auto asked = Clock::now();
            mtas::DnsAnswer a = dns->Query(name, mtas::kDnsTypeTxt);
            if (Clock::now() - asked >= std::chrono::milliseconds(100)) ++dead.waited;
            --dead_waiting;
            if (a.outcome == mtas::DnsAnswer::Outcome::kTimeout) {
              first_timeout_seen = true;
              ++dead.timed_out;
            } else if (a.outcome == mtas::DnsAnswer::Outcome::kOk) {
              ++dead.answered;
            } else {
              ++dead.failed;
            }
          }
        });
    auto start = Clock::now();
    std::this_thread::sleep_for(seconds);
    stop = true;
    for (auto& t : threads) t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  Counts base_good, base_dead, good, dead;
  double base_s = run(false, base_good, base_dead);
  double load_s = run(true, good, dead);
  std::printf("baseline_good_per_s %.1f\n", static_cast<double>(base_good.answered) / base_s);
  std::printf("baseline_good_failed %ld\n", base_good.failed.load());
  std::printf("with_dead_good_per_s %.1f\n", static_cast<double>(good.answered) / load_s);
  std::printf("with_dead_good_failed %ld\n", good.failed.load());
  std::printf("good_before_first_dead_timeout %ld\n", good.good_before_first_timeout.load());
  std::printf("dead_timed_out %ld\n", dead.timed_out.load());
  std::printf("dead_answered %ld\n", dead.answered.load());
  std::printf("dead_failed %ld\n", dead.failed.load());
  std::printf("dead_waited %ld\n", dead.waited.load());
  return 0;
}
