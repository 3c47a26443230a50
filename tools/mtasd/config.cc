#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "mtas/key_service.h"
#include "mtas/services.h"
#include "mtas/signature.h"

namespace mtasd {
namespace {

using mtas::Result;
using mtas::Status;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Config and table files are small: anything larger than this, or not a
// regular file (a FIFO, /dev/zero), is refused rather than read forever.
constexpr std::uintmax_t kMaxConfigFileBytes = 4u << 20;

std::string OsError(const std::string& path) { return path + ": " + std::strerror(errno); }

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // O_NONBLOCK: a FIFO must not hang the open
  if (fd < 0) return Status::IoError(OsError(path));
  struct stat st;
  std::string out;
  Status status = Status::Ok();
  if (::fstat(fd, &st) != 0)
    status = Status::IoError(OsError(path));
  else if (!S_ISREG(st.st_mode))
    status = Status::IoError(path + ": not a regular file");
  else if (static_cast<std::uintmax_t>(st.st_size) > kMaxConfigFileBytes)
    status = Status::IoError(path + ": larger than 4 MiB");
  char buf[8192];
  while (status.ok()) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError(OsError(path));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxConfigFileBytes) status = Status::IoError(path + ": larger than 4 MiB");
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

// A file the daemon will read: it must be there and readable now, or the
// first message that needs it fails (every verified message deferred for a
// missing trust anchor, say). The error names the setting and the OS reason.
Status Readable(const std::string& path, const std::string& where, const std::string& setting) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::InvalidArgument(where + ": " + setting + " " + OsError(path));
  ::close(fd);
  return Status::Ok();
}

// A private key readable or writable by others is refused, as OpenDKIM's
// RequireSafeKeys does: group read is allowed (a key group for mtasd).
Status SafeKey(const std::string& path, const std::string& where) {
  MTAS_RETURN_IF_ERROR(Readable(path, where, "key"));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::InvalidArgument(where + ": key " + OsError(path));
  if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument(where + ": key " + path + " is readable or writable by others (mode " + mode +
                                   "): chmod 600 it, or 640 with mtasd's group");
  }
  return Status::Ok();
}

// A host name as DNS has it (RFC 1123): at least two labels of letters,
// digits and inner hyphens, 1..63 bytes each, 253 in all.
bool IsHostName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string::npos) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label(name.data() + start, (dot == std::string::npos ? name.size() : dot) - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

// A port number 1..65535, digits only.
bool IsPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

// libmilter's socket forms: inet:PORT[@HOST], inet6:PORT[@HOST], unix:/PATH
// (local:/PATH). Postfix writes inet:HOST:PORT, a common slip.
Status CheckSocket(const std::string& v, const std::string& where, const std::string& setting) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(where + ": " + setting + " " + v + ": " + why);
  };
  if (v.rfind("unix:", 0) == 0 || v.rfind("local:", 0) == 0) {
    std::string path = v.substr(v.find(':') + 1);
    if (path.empty() || path[0] != '/') return bad("unix:/PATH wants an absolute path");
    if (path.size() >= 108) return bad("the path is longer than a socket address holds (107 bytes)");
    return Status::Ok();
  }
  size_t colon = v.find(':');
  std::string scheme = v.substr(0, colon);
  if (colon == std::string::npos || (scheme != "inet" && scheme != "inet6"))
    return bad("want inet:PORT@ADDRESS, inet6:PORT@ADDRESS or unix:/PATH");
  std::string rest = v.substr(colon + 1);
  size_t at = rest.find('@');
  std::string port = rest.substr(0, at);
  if (at == std::string::npos && rest.find(':') != std::string::npos) {
    size_t last = rest.rfind(':');
    return bad("that is Postfix's notation; mtasd, like OpenDKIM, wants inet:PORT@ADDRESS (here " + scheme + ":" +
               rest.substr(last + 1) + "@" + rest.substr(0, last) + ")");
  }
  if (!IsPort(port)) return bad("'" + port + "' is not a port (1..65535)");
  if (at != std::string::npos && at + 1 == rest.size()) return bad("no address after '@'");
  return Status::Ok();
}

// An InternalHosts entry: an IP address or a CIDR block.
bool IsAddressOrBlock(const std::string& spec) {
  std::string net = spec;
  size_t slash = spec.find('/');
  if (slash != std::string::npos) net = spec.substr(0, slash);
  unsigned char buf[16];
  int family = net.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, net.c_str(), buf) != 1) return false;
  if (slash == std::string::npos) return true;
  std::string bits = spec.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(bits) <= (family == AF_INET ? 32 : 128);
}

// A KeyTable services string: it must parse, and name only methods mtas
// verifiers implement, or receivers find no key (neutral) for every message.
Status CheckServices(const std::string& services, const std::string& where) {
  auto parsed = mtas::ParseServices(services);
  if (!parsed.ok()) return Status::InvalidArgument(where + ": services: " + parsed.status().message());
  std::vector<std::string> implemented;
  for (const auto& m : mtas::DefaultKeyMethods(mtas::NetworkOptions{})) implemented.emplace_back(m->name());
  for (const auto& service : *parsed) {
    bool ok = false;
    for (const auto& name : implemented) ok |= name == service.method;
    if (ok) continue;
    std::string list;
    for (const auto& name : implemented) list += (list.empty() ? "" : ", ") + name;
    return Status::InvalidArgument(where + ": services: " +
                                   (service.known
                                        ? "method '" + service.method + "' is not one mtas verifiers implement"
                                        : "unknown method '" + service.method + "'") +
                                   " (they implement: " + list + ")");
  }
  return Status::Ok();
}

std::string Resolve(const std::string& base, const std::string& p) {
  return p.empty() || p[0] == '/' || base.empty() ? p : base + "/" + p;
}

// Splits a line into words; "quoted strings" keep their spaces. False when
// a quote is not closed.
bool Words(const std::string& line, std::vector<std::string>& out) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size() || line[i] == '#') break;
    std::string w;
    bool quoted = false;
    for (; i < line.size() && (quoted || !std::isspace(static_cast<unsigned char>(line[i]))); ++i) {
      if (line[i] == '"') {
        quoted = !quoted;
        continue;
      }
      w += line[i];
    }
    if (quoted) return false;
    out.push_back(w);
  }
  return true;
}

// "1500", "64K", "10M" (K = 1024). nullopt when it is not a number.
std::optional<long long> Number(const std::string& v) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end == v.data() || n < 0) return std::nullopt;  // also: too large for a long long
  std::string unit = Lower(std::string(end, v.data() + v.size()));
  long long scale = unit == "k" ? 1024 : unit == "m" ? 1024 * 1024 : unit.empty() ? 1 : 0;
  if (scale == 0 || n > (1LL << 50) / scale) return std::nullopt;  // not a unit, or absurdly large
  return n * scale;
}

Result<bool> YesNo(const std::string& v, const std::string& where) {
  std::string l = Lower(v);
  if (l == "yes" || l == "true" || l == "1") return true;
  if (l == "no" || l == "false" || l == "0") return false;
  return Status::InvalidArgument(where + ": want yes or no, got '" + v + "'");
}

// Calls fn(words, "FILE:LINE") for every non-empty line of a table file.
Status ForEachTableLine(const std::string& path,
                        const std::function<Status(const std::vector<std::string>&, const std::string&)>& fn) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::string line;
  std::vector<std::string> w;
  for (int n = 1; std::getline(in, line); ++n) {
    std::string where = path + ":" + std::to_string(n);
    if (!Words(line, w)) return Status::InvalidArgument(where + ": a quote is not closed");
    if (w.empty()) continue;
    MTAS_RETURN_IF_ERROR(fn(w, where));
  }
  return Status::Ok();
}

// KeyTable: ID KEYFILE SIGNER [services="..."] [carrier=auto|body|header]
// [key=KEYFILE]... [cert=FILE]...
Status LoadKeyTable(const std::string& path, const std::string& base, Config* c) {
  return ForEachTableLine(path, [&](const std::vector<std::string>& w, const std::string& where) -> Status {
    if (w.size() < 3)
      return Status::InvalidArgument(where + ": want ID KEYFILE SIGNER [services=…] [carrier=…] [key=…] [cert=…]");
    for (const auto& other : c->keys)
      if (other.id == w[0]) return Status::InvalidArgument(where + ": key id '" + w[0] + "' appears twice");
    KeyEntry k;
    k.id = w[0];
    k.signer = w[2];
    k.carrier = c->carrier;
    if (!IsHostName(k.signer))
      return Status::InvalidArgument(where + ": signer '" + k.signer +
                                     "' is not a host name (the FQDN verifiers look its key up under)");
    auto add_key = [&](const std::string& file) -> Status {
      bool in_token = file.rfind("pkcs11:", 0) == 0;  // a PKCS#11 URI: the key stays in its token
      k.key_files.push_back(in_token ? file : Resolve(base, file));
      if (std::count(k.key_files.begin(), k.key_files.end(), k.key_files.back()) > 1)
        return Status::InvalidArgument(where + ": key " + file + " is named twice");
      if (k.key_files.size() > mtas::kMaxSignerInfos)
        return Status::InvalidArgument(where + ": at most " + std::to_string(mtas::kMaxSignerInfos) +
                                       " keys sign together");
      return in_token ? Status::Ok() : SafeKey(k.key_files.back(), where);
    };
    MTAS_RETURN_IF_ERROR(add_key(w[1]));
    for (size_t i = 3; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      std::string name = Lower(w[i].substr(0, eq)), value = eq == std::string::npos ? "" : w[i].substr(eq + 1);
      if (name == "services") {
        MTAS_RETURN_IF_ERROR(CheckServices(value, where));
        k.services = value;
      } else if (name == "carrier") {
        auto car = mtas::ParseCarrier(Lower(value));
        if (!car.ok()) return Status::InvalidArgument(where + ": " + car.status().message());
        k.carrier = *car;
      } else if (name == "key") {
        MTAS_RETURN_IF_ERROR(add_key(value));
      } else if (name == "cert") {
        k.cert_files.push_back(Resolve(base, value));
        MTAS_RETURN_IF_ERROR(Readable(k.cert_files.back(), where, "cert"));
      } else {
        return Status::InvalidArgument(where + ": unknown key option '" + name + "'");
      }
    }
    c->keys.push_back(std::move(k));
    return Status::Ok();
  });
}

Status LoadSigningTable(const std::string& path, Config* c) {
  return ForEachTableLine(path, [&](const std::vector<std::string>& w, const std::string& where) -> Status {
    if (w.size() != 2) return Status::InvalidArgument(where + ": want PATTERN KEY-ID");
    c->signing.push_back({Lower(w[0]), w[1]});
    return Status::Ok();
  });
}

// Matches an address against "a.b.c.d", "a.b.c.d/n", "::1" or "x::/n".
bool AddressMatches(const std::string& spec, const std::string& address) {
  std::string net = spec;
  int bits = -1;
  if (size_t slash = spec.find('/'); slash != std::string::npos) {
    net = spec.substr(0, slash);
    bits = std::atoi(spec.c_str() + slash + 1);
  }
  unsigned char a[16], b[16];
  int family = net.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, net.c_str(), a) != 1 || inet_pton(family, address.c_str(), b) != 1) return spec == address;
  int len = family == AF_INET ? 32 : 128;
  if (bits < 0 || bits > len) bits = len;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1)) return false;
  }
  return true;
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& name, const std::string& base_dir) {
  Config c;
  c.path = name;
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  c.authserv_id = host;
  std::string key_table, signing_table;
  std::istringstream in{std::string(text)};
  std::string line;
  std::vector<std::string> w;
  for (int n = 1; std::getline(in, line); ++n) {
    std::string where = name + ":" + std::to_string(n);
    if (!Words(line, w)) return Status::InvalidArgument(where + ": a quote is not closed");
    if (w.empty()) continue;
    std::string key = Lower(w[0]);
    std::string value = w.size() > 1 ? w[1] : "";
    auto need = [&](size_t count) -> Status {
      if (w.size() != count + 1)
        return Status::InvalidArgument(where + ": " + w[0] + " takes " + std::to_string(count) + " value(s)");
      return Status::Ok();
    };
    if (key == "pinnedkey") {
      MTAS_RETURN_IF_ERROR(need(2));
      c.pinned_keys.emplace_back(w[1], Resolve(base_dir, w[2]));
      MTAS_RETURN_IF_ERROR(Readable(c.pinned_keys.back().second, where, "PinnedKey"));
      continue;
    }
    // Lists: the words after the name, each split at commas.
    auto items = [&w]() {
      std::vector<std::string> out;
      for (size_t i = 1; i < w.size(); ++i)
        for (size_t start = 0; start < w[i].size();) {
          size_t comma = w[i].find(',', start);
          std::string item = w[i].substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (!item.empty()) out.push_back(item);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      return out;
    };
    if (key == "internalhosts" || key == "peerlist") {  // address lists
      std::vector<std::string>& list = key == "peerlist" ? c.peer_list : c.internal_hosts;
      if (w.size() < 2) return Status::InvalidArgument(where + ": " + w[0] + " needs addresses");
      list = items();
      for (const auto& h : list)
        if (!IsAddressOrBlock(h))
          return Status::InvalidArgument(where + ": " + w[0] + ": '" + h +
                                         "' is not an IP address or CIDR block (prefix 0..32, IPv6 0..128)");
      continue;
    }
    if (key == "trustedforwarders") {
      if (w.size() < 2) return Status::InvalidArgument(where + ": TrustedForwarders needs domains");
      for (std::string d : items()) {
        d = Lower(d);
        if (d.find_first_of("*@/") != std::string::npos)
          return Status::InvalidArgument(where + ": TrustedForwarders is a list of domains");
        c.trusted_forwarders.push_back(d);
      }
      continue;
    }
    MTAS_RETURN_IF_ERROR(need(1));
    if (key == "mode") {
      std::string m = Lower(value);
      if (m == "sign" || m == "s")
        c.mode = Mode::kSign;
      else if (m == "verify" || m == "v")
        c.mode = Mode::kVerify;
      else if (m == "both" || m == "sv" || m == "vs")
        c.mode = Mode::kBoth;
      else
        return Status::InvalidArgument(where + ": Mode is sign, verify or both");
    } else if (key == "socket") {
      MTAS_RETURN_IF_ERROR(CheckSocket(value, where, "Socket"));
      c.socket = value;
    } else if (key == "metricssocket") {
      MTAS_RETURN_IF_ERROR(CheckSocket(value, where, "MetricsSocket"));
      c.metrics_socket = value;
    } else if (key == "maxconnections") {
      auto limit = Number(value);
      if (!limit || *limit < 1 || *limit > 100000)
        return Status::InvalidArgument(where + ": MaxConnections is 1..100000");
      c.max_connections = static_cast<int>(*limit);
    } else if (key == "authservid") {
      c.authserv_id = value;
    } else if (key == "keytable") {
      key_table = Resolve(base_dir, value);
    } else if (key == "signingtable") {
      signing_table = Resolve(base_dir, value);
    } else if (key == "carrier") {
      auto car = mtas::ParseCarrier(Lower(value));
      if (!car.ok()) return Status::InvalidArgument(where + ": " + car.status().message());
      c.carrier = *car;
    } else if (key == "policy") {
      auto b = YesNo(value, where);
      if (!b.ok()) return b.status();
      c.policy = *b;
    } else if (key == "policyfile") {
      c.policy_file = Resolve(base_dir, value);
      MTAS_RETURN_IF_ERROR(Readable(c.policy_file, where, "PolicyFile"));
      c.policy = true;
    } else if (key == "cafile") {
      c.ca_file = Resolve(base_dir, value);
      MTAS_RETURN_IF_ERROR(Readable(c.ca_file, where, "CAFile"));
    } else if (key == "resolver") {
      if (Status st = mtas::CheckResolverAddress(value); !st.ok())  // the library's own rule
        return Status::InvalidArgument(where + ": Resolver: " + st.message());
      c.resolver = value;
    } else if (key == "trustanchor") {
      c.trust_anchor = Resolve(base_dir, value);
      MTAS_RETURN_IF_ERROR(Readable(c.trust_anchor, where, "TrustAnchor"));
    } else if (key == "timeout") {
      auto ms = Number(value);
      if (!ms || *ms <= 0 || *ms > 600000)
        return Status::InvalidArgument(where + ": Timeout is milliseconds (1..600000)");
      c.timeout_ms = static_cast<int>(*ms);
    } else if (key == "onerror") {
      std::string v = Lower(value);
      if (v != "tempfail" && v != "accept") return Status::InvalidArgument(where + ": OnError is tempfail or accept");
      c.on_error_tempfail = v == "tempfail";
    } else if (key == "onpolicyerror") {
      std::string v = Lower(value);
      if (v != "tempfail" && v != "accept")
        return Status::InvalidArgument(where + ": OnPolicyError is accept or tempfail");
      c.on_policy_error = v == "accept" ? mtas::PolicyErrorAction::kAccept : mtas::PolicyErrorAction::kTempFail;
    } else if (key == "maxmessagesize") {
      auto v = Number(value);
      if (!v || *v <= 0)
        return Status::InvalidArgument(where + ": MaxMessageSize is a number of bytes, optionally with K or M");
      c.max_message_size = static_cast<size_t>(*v);
    } else if (key == "syslog") {
      c.syslog_facility = Lower(value);
    } else if (key == "pidfile") {
      c.pid_file = value;
    } else if (key == "userid") {
      c.user_id = value;
    } else if (key == "foreground") {
      auto b = YesNo(value, where);
      if (!b.ok()) return b.status();
      c.foreground = *b;
    } else if (key == "network") {
      auto b = YesNo(value, where);
      if (!b.ok()) return b.status();
      c.network = *b;
    } else {
      return Status::InvalidArgument(where + ": unknown setting '" + w[0] + "'");
    }
  }
  if (!key_table.empty()) MTAS_RETURN_IF_ERROR(LoadKeyTable(key_table, base_dir, &c));
  if (!signing_table.empty()) MTAS_RETURN_IF_ERROR(LoadSigningTable(signing_table, &c));
  for (const auto& rule : c.signing) {
    bool known = false;
    for (const auto& k : c.keys) known |= k.id == rule.key_id;
    if (!known)
      return Status::InvalidArgument(name + ": SigningTable names key '" + rule.key_id + "' that KeyTable lacks");
  }
  if (c.mode != Mode::kVerify && c.keys.empty())
    return Status::InvalidArgument(name + ": Mode signs but KeyTable has no key");
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  size_t slash = path.rfind('/');
  return ParseConfig(*text, path, slash == std::string::npos ? "." : path.substr(0, slash));
}

const KeyEntry* KeyFor(const Config& c, const std::string& sender_domain) {
  std::string d = Lower(sender_domain);
  for (const auto& rule : c.signing) {
    const std::string& p = rule.pattern;
    bool match = p == "*" || p == d ||
                 (p.rfind("*.", 0) == 0 && d.size() > p.size() - 1 &&
                  d.compare(d.size() - (p.size() - 1), p.size() - 1, p.substr(1)) == 0);
    if (!match) continue;
    for (const auto& k : c.keys)
      if (k.id == rule.key_id) return &k;
  }
  if (c.signing.empty() && !c.keys.empty() && !d.empty()) return &c.keys.front();  // no table: one key signs all
  return nullptr;
}

bool AddressInList(const std::vector<std::string>& specs, const std::string& address) {
  for (const auto& spec : specs)
    if (AddressMatches(spec, address)) return true;
  return false;
}

bool IsInternal(const Config& c, const std::string& address) { return AddressInList(c.internal_hosts, address); }

}  // namespace mtasd
