// mtasd's milter session: the input is what an MTA sends (packets, macros,
// headers, body chunks), fed to a session over a socketpair in Mode both, so
// that option negotiation, the envelope, verifying, signing and the edits
// sent back are all reached. The session must close the connection or keep
// it, never crash, hang or read out of bounds.
//   MTAS_FUZZ_KEY: a certificate pinned for fuzz.example.com (verifying)
//   MTAS_FUZZ_KEYTABLE: a KeyTable file (signing, body carrier)
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "config.h"
#include "milter.h"
#include "runtime.h"

namespace {

std::shared_ptr<const mtasd::Runtime> MakeRuntime() {
  std::string text = "Mode both\nSocket unix:/nonexistent\nAuthservID mx.example.net\nNetwork no\nSyslog mail\n";
  if (const char* cert = std::getenv("MTAS_FUZZ_KEY")) text += std::string("PinnedKey fuzz.example.com ") + cert + "\n";
  if (const char* table = std::getenv("MTAS_FUZZ_KEYTABLE"))
    text += std::string("KeyTable ") + table + "\nCarrier body\n";
  auto config = mtasd::ParseConfig(text, "fuzz.conf", "/");
  if (!config.ok()) std::abort();
  mtasd::SetupLogging(*config);  // to syslog: the fuzzer's own output stays readable
  auto runtime = mtasd::BuildRuntime(*config);
  if (!runtime.ok()) std::abort();
  return *runtime;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const mtasd::Runtime> runtime = MakeRuntime();
  static const std::function<std::shared_ptr<const mtasd::Runtime>()> provider = [] { return runtime; };
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  // The MTA's side: one thread sends the input, one reads the replies until
  // mtasd's side closes (so neither side's socket buffer can fill and stall).
  std::thread writer([&] {
    size_t off = 0;
    while (off < size) {
      ssize_t w = ::send(sv[1], data + off, size - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    ::shutdown(sv[1], SHUT_WR);
  });
  std::thread reader([&] {
    char sink[65536];
    while (::recv(sv[1], sink, sizeof sink, 0) > 0) {
    }
  });
  {
    auto session = mtasd::NewMilterSession(sv[0], false, provider);
    pollfd p{sv[0], POLLIN, 0};
    while (::poll(&p, 1, 5000) > 0 && session->OnReadable()) {
    }
  }
  ::shutdown(sv[0], SHUT_RDWR);
  writer.join();
  reader.join();
  ::close(sv[0]);
  ::close(sv[1]);
  return 0;
}
