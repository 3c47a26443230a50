#include "listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mtasd {

bool IsUnixSocket(const std::string& spec) { return spec.rfind("unix:", 0) == 0 || spec.rfind("local:", 0) == 0; }

// inet:PORT@ADDRESS or unix:/PATH -> a listening socket.
int Listen(const std::string& spec, std::string* error) {
  if (IsUnixSocket(spec)) {
    std::string path = spec.substr(spec.find(':') + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
      *error = "socket path too long";
      return -1;
    }
    std::strcpy(sa.sun_path, path.c_str());
    ::unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 128) != 0) {
      *error = path + ": " + std::strerror(errno);
      return -1;
    }
    ::chmod(path.c_str(), 0660);
    return fd;
  }
  std::string rest = spec.substr(spec.find(':') + 1);
  std::string port = rest.substr(0, rest.find('@'));
  std::string host = rest.find('@') == std::string::npos ? "127.0.0.1" : rest.substr(rest.find('@') + 1);
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    *error = spec + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 128) == 0;
  freeaddrinfo(res);
  if (!ok) {
    *error = spec + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string PeerAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, host, sizeof host);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, host, sizeof host);
  std::string out = host;
  // An IPv4 client of an IPv6 socket: its IPv4 address, as PeerList has it.
  if (out.rfind("::ffff:", 0) == 0 && out.find('.') != std::string::npos) out.erase(0, 7);
  return out;
}

}  // namespace mtasd
