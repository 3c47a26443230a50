#include "config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

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

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return Status::IoError(path + ": cannot open");
  if (!std::filesystem::is_regular_file(status)) return Status::IoError(path + ": not a regular file");
  if (std::filesystem::file_size(path, ec) > kMaxConfigFileBytes || ec)
    return Status::IoError(path + ": larger than 4 MiB");
  std::ifstream in(path);
  if (!in) return Status::IoError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Resolve(const std::string& base, const std::string& p) {
  return p.empty() || p[0] == '/' || base.empty() ? p : base + "/" + p;
}

// Splits a line into words; "quoted strings" keep their spaces.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
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
    out.push_back(w);
  }
  return out;
}

// "1500", "64K", "10M" (K = 1024). nullopt when it is not a number.
std::optional<long long> Number(const std::string& v) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) return std::nullopt;
  size_t end = 0;
  long long n = std::stoll(v, &end);
  std::string unit = Lower(v.substr(end));
  if (unit == "k")
    n *= 1024;
  else if (unit == "m")
    n *= 1024 * 1024;
  else if (!unit.empty())
    return std::nullopt;
  return n;
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
  for (int n = 1; std::getline(in, line); ++n) {
    auto w = Words(line);
    if (w.empty()) continue;
    MTAS_RETURN_IF_ERROR(fn(w, path + ":" + std::to_string(n)));
  }
  return Status::Ok();
}

// KeyTable: ID KEYFILE SIGNER [services="..."] [carrier=auto|body|header]
// [cert=FILE]
Status LoadKeyTable(const std::string& path, const std::string& base, Config* c) {
  return ForEachTableLine(path, [&](const std::vector<std::string>& w, const std::string& where) -> Status {
    if (w.size() < 3)
      return Status::InvalidArgument(where + ": want ID KEYFILE SIGNER [services=…] [carrier=…] [cert=…]");
    for (const auto& other : c->keys)
      if (other.id == w[0]) return Status::InvalidArgument(where + ": key id '" + w[0] + "' appears twice");
    KeyEntry k{w[0], Resolve(base, w[1]), "", w[2], "", c->carrier};
    for (size_t i = 3; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      std::string name = Lower(w[i].substr(0, eq)), value = eq == std::string::npos ? "" : w[i].substr(eq + 1);
      if (name == "services") {
        k.services = value;
      } else if (name == "carrier") {
        auto car = mtas::ParseCarrier(Lower(value));
        if (!car.ok()) return Status::InvalidArgument(where + ": " + car.status().message());
        k.carrier = *car;
      } else if (name == "cert") {
        k.cert_file = Resolve(base, value);
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
  for (int n = 1; std::getline(in, line); ++n) {
    auto w = Words(line);
    if (w.empty()) continue;
    std::string where = name + ":" + std::to_string(n);
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
    if (key == "internalhosts") {
      if (w.size() < 2) return Status::InvalidArgument(where + ": InternalHosts needs addresses");
      c.internal_hosts = items();
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
      if (value.rfind("inet:", 0) != 0 && value.rfind("unix:", 0) != 0 && value.rfind("local:", 0) != 0)
        return Status::InvalidArgument(where + ": Socket is inet:PORT@ADDRESS or unix:/PATH");
      c.socket = value;
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
      c.policy = true;
    } else if (key == "cafile") {
      c.ca_file = Resolve(base_dir, value);
    } else if (key == "resolver") {
      c.resolver = value;
    } else if (key == "trustanchor") {
      c.trust_anchor = Resolve(base_dir, value);
    } else if (key == "timeout") {
      auto ms = Number(value);
      if (!ms || *ms <= 0 || *ms > 600000)
        return Status::InvalidArgument(where + ": Timeout is milliseconds (1..600000)");
      c.timeout_ms = static_cast<int>(*ms);
    } else if (key == "onerror") {
      std::string v = Lower(value);
      if (v != "tempfail" && v != "accept") return Status::InvalidArgument(where + ": OnError is tempfail or accept");
      c.on_error_tempfail = v == "tempfail";
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

bool IsInternal(const Config& c, const std::string& address) {
  for (const auto& spec : c.internal_hosts)
    if (AddressMatches(spec, address)) return true;
  return false;
}

}  // namespace mtasd
