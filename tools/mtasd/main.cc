// mtasd: the MTAS milter daemon for Postfix and Sendmail (mtasd(8)).
#include <arpa/inet.h>
#include <grp.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "config.h"
#include "event_pool.h"
#include "listen.h"
#include "metrics.h"
#include "milter.h"
#include "mtas/blocking.h"
#include "mtas/version.h"
#include "runtime.h"

namespace {

using namespace mtasd;

constexpr const char* kUsage =
    "usage: mtasd [-c FILE] [-n] [-f] [-V] [-h]\n"
    "  -c FILE  configuration (default /etc/mtas/mtasd.conf)\n"
    "  -n       check the configuration and the keys, then exit\n"
    "  -f       stay in the foreground, log to stderr\n"
    "  -V       print the version and exit\n"
    "  -h       print this help and exit\n";

std::mutex runtime_mu;
std::shared_ptr<const Runtime> current;

std::shared_ptr<const Runtime> CurrentRuntime() {
  std::lock_guard<std::mutex> lock(runtime_mu);
  return current;
}

bool DropPrivileges(const std::string& user, std::string* error) {
  if (user.empty() || getuid() != 0) return true;
  passwd* pw = getpwnam(user.c_str());
  if (!pw) {
    *error = "UserID: no user " + user;
    return false;
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
    *error = "UserID: cannot become " + user + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "/etc/mtas/mtasd.conf";
  bool check_only = false, foreground = false;
  for (int opt; (opt = getopt(argc, argv, "c:nfhV")) != -1;) {
    switch (opt) {
      case 'c':
        config_path = optarg;
        break;
      case 'n':
        check_only = true;
        break;
      case 'f':
        foreground = true;
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      case 'V':
        std::printf("mtasd %s (%s, milter protocol 6)\n", mtas::Version(), mtas::kProtocolProfile);
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 64;
    }
  }
  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "mtasd: %s\n", config.status().message().c_str());
    return 78;  // EX_CONFIG
  }
  if (foreground) config->foreground = true;
  auto runtime = BuildRuntime(*config);
  if (!runtime.ok()) {
    std::fprintf(stderr, "mtasd: %s\n", runtime.status().message().c_str());
    return 78;
  }
  if (check_only) {
    std::printf("mtasd: %s is valid: %zu signing key(s), mode %s, socket %s\n", config_path.c_str(),
                config->keys.size(),
                config->mode == Mode::kSign     ? "sign"
                : config->mode == Mode::kVerify ? "verify"
                                                : "both",
                config->socket.c_str());
    return 0;
  }
  current = *runtime;

  std::string error;
  int listener = Listen(config->socket, &error);
  if (listener < 0) {
    std::fprintf(stderr, "mtasd: cannot listen on %s\n", error.c_str());
    return 71;  // EX_OSERR
  }
  if (!config->user_id.empty() && IsUnixSocket(config->socket)) {
    if (passwd* pw = getpwnam(config->user_id.c_str()))  // the socket belongs to the user mtasd runs as
      if (::chown(config->socket.substr(config->socket.find(':') + 1).c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        std::fprintf(stderr, "mtasd: cannot hand the socket to %s\n", config->user_id.c_str());
        return 71;
      }
  }
  if (!config->foreground && daemon(0, 0) != 0) return 71;
  if (!config->pid_file.empty()) std::ofstream(config->pid_file) << getpid() << "\n";
  if (!DropPrivileges(config->user_id, &error)) {
    std::fprintf(stderr, "mtasd: %s\n", error.c_str());
    return 77;
  }
  SetupLogging(*config);

  // Signals go to one thread: SIGHUP reloads, SIGTERM/SIGINT drain and stop.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);  // logs the statistics (it used to end the daemon)
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Fixed allocator thresholds: by default glibc hands the top of each
  // worker's heap back to the kernel whenever it passes 128 KiB free and
  // takes it again for the next message (madvise, page faults and TLB
  // shootdowns across CPUs on every few messages).
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  std::function<std::shared_ptr<const Runtime>()> provider = CurrentRuntime;
  const bool tcp = !IsUnixSocket(config->socket);
  PrepareListener(listener, tcp);
  mtas::SetBlockingHook(&EventPool::MayBlock);  // DNS and downloads: another thread takes the events
  EventPool::Options pool_options;
  pool_options.max_connections = config->max_connections;
  if (tcp && !config->peer_list.empty())
    pool_options.admit = [peers = config->peer_list](int fd) {
      std::string peer = PeerAddress(fd);
      if (AddressInList(peers, peer)) return true;
      Log(LOG_WARNING, "refused a connection from " + (peer.empty() ? std::string("?") : peer) + ": not in PeerList");
      return false;
    };
  pool_options.refused = [max = config->max_connections](const char* why) {
    GlobalMetrics().Refused(why);
    if (std::string_view(why) == "connection-limit")
      Log(LOG_WARNING, "refused a connection: MaxConnections " + std::to_string(max) + " are open");
  };
  EventPool pool(
      listener, [&provider, tcp](int fd) { return NewMilterSession(fd, tcp, provider); }, pool_options);
  if (!config->metrics_socket.empty()) {
    if (!StartMetricsServer(config->metrics_socket, &error)) {
      Log(LOG_ERR, "cannot serve metrics: " + error);
      return 71;
    }
    Log(LOG_INFO, "metrics on " + config->metrics_socket);
  }
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread([&, set]() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        Log(LOG_INFO, GlobalMetrics().Summary());
        continue;
      }
      if (sig == SIGHUP) {
        auto cfg = LoadConfig(config_path);
        if (cfg.ok() && foreground) cfg->foreground = true;
        auto rt = cfg.ok() ? BuildRuntime(*cfg) : mtas::Result<std::shared_ptr<const Runtime>>(cfg.status());
        GlobalMetrics().Reload(rt.ok());
        if (!rt.ok()) {
          Log(LOG_ERR, "reload failed, keeping the running configuration: " + rt.status().message());
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(runtime_mu);
          current = *rt;
        }
        Log(LOG_INFO, "configuration reloaded from " + config_path);
        continue;
      }
      pool.Stop();  // accepts no more connections
      std::lock_guard<std::mutex> lock(stop_mu);
      stopping = true;
      stop_cv.notify_all();
      return;
    }
  }).detach();

  Log(LOG_INFO, "listening on " + config->socket);
  if (!pool.Start(&error)) {
    Log(LOG_ERR, "cannot serve: " + error);
    return 71;
  }
  {
    std::unique_lock<std::mutex> lock(stop_mu);
    stop_cv.wait(lock, [&] { return stopping; });
  }
  ::close(listener);
  // Drain: sessions finish their message (MTAs close idle connections).
  pool.WaitDrained(std::chrono::seconds(30));
  Log(LOG_INFO, "stopped");
  if (!config->pid_file.empty()) ::unlink(config->pid_file.c_str());
  if (IsUnixSocket(config->socket)) ::unlink(config->socket.substr(config->socket.find(':') + 1).c_str());
  // Workers may still be in a session: leave without running destructors under them.
  std::fflush(stderr);
  std::_Exit(0);
}
