// What the `mtas` commands share: their argument reader, their error
// lines, and making a new key pair (keygen and keygen --rotate).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "mtas/status.h"

namespace mtas::cli {

// --name value / --name=value options, repeated ones kept, and positionals.
class Args {
 public:
  // `flags` take no value; every other --option takes one.
  Args(const std::vector<std::string>& args, std::set<std::string> flags, std::set<std::string> options) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a.rfind("--", 0) != 0 || a == "-") {
        positional_.push_back(a);
        continue;
      }
      std::string name = a.substr(2), value;
      size_t eq = name.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      if (flags.count(name)) {
        if (inline_value) Fail("option --" + name + " takes no value");
        values_[name].push_back("1");
      } else if (options.count(name)) {
        if (!inline_value) {
          if (i + 1 >= args.size()) Fail("option --" + name + " needs a value");
          value = args[++i];
        }
        values_[name].push_back(value);
      } else {
        Fail("unknown option --" + name);
      }
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool Has(const std::string& n) const { return values_.count(n) > 0; }
  std::string Get(const std::string& n, const std::string& def = "") const {
    auto it = values_.find(n);
    return it == values_.end() ? def : it->second.back();
  }
  std::vector<std::string> All(const std::string& n) const {
    auto it = values_.find(n);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  void Fail(const std::string& e) {
    if (error_.empty()) error_ = e;
  }
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

inline int Usage(const std::string& cmd, const std::string& msg) {
  std::fprintf(stderr, "mtas %s: %s (see mtas --help)\n", cmd.c_str(), msg.c_str());
  return kUsage;
}

inline int Error(const std::string& cmd, const std::string& msg, int status = 1) {
  std::fprintf(stderr, "mtas %s: %s\n", cmd.c_str(), msg.c_str());
  return status;
}

// Writes `data` to `path` with `mode` (created or truncated).
Status WriteFile(const std::string& path, const std::string& data, mode_t mode);

// A key pair made by keygen: SELECTOR.key.pem (0600), SELECTOR.crt.pem and
// .crt.der (self-signed), SELECTOR.zone (the records to publish), each
// announced on standard output.
struct NewKey {
  std::string key_path, cert_path, zone_path;
  std::string services;  // the verification services that find it
};
Result<NewKey> WriteNewKey(const std::string& algorithm, const std::string& signer, const std::string& selector,
                           const std::string& out_dir, int days, bool https);
Result<int> ParseDays(const std::string& text);  // --days: 1..36500

}  // namespace mtas::cli
