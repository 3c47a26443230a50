// The `mtas` subcommands. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace mtas::cli {

// Usage errors exit with 64 (EX_USAGE), as sysexits.h names it.
inline constexpr int kUsage = 64;

int Keygen(const std::vector<std::string>& args);
// keygen --rotate ID --config FILE: the next key of a KeyTable entry and the
// steps that change to it without a gap (rotate.cc).
int KeygenRotate(const std::vector<std::string>& args);
int KeygenFromOpenPgp(const std::vector<std::string>& args);
int Sign(const std::vector<std::string>& args);
int Verify(const std::vector<std::string>& args);
int Inspect(const std::vector<std::string>& args);
int DnsRecord(const std::vector<std::string>& args);
int Trace(const std::vector<std::string>& args);

}  // namespace mtas::cli
