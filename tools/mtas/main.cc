// mtas: sign and verify MTA Signatures (MTAS/1.0) from the command line.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "mtas/version.h"

namespace {

// One entry per command: `mtas COMMAND --help` prints its own.
struct CommandUsage {
  const char* name;
  const char* text;
};
constexpr CommandUsage kCommands[] = {
    {"keygen",
     "  keygen  --algorithm ed25519|ecdsa-p256|rsa2048|rsa3072 --signer FQDN --selector LABEL --out DIR\n"
     "          [--days N] [--https]   (--https: you will also serve the certificate over https)\n"
     "  keygen  --rotate KEY-ID --config /etc/mtas/mtasd.conf --selector LABEL --out DIR\n"
     "          [--algorithm A] [--days N] [--https]   (the next key of a KeyTable entry, and the steps)\n"
     "  keygen  --from-openpgp SECRET-KEY-FILE --keyserver URL --signer FQDN --selector LABEL --out DIR\n"
     "          [--fingerprint FPR]   (a gpg key as the PEM key mtas signs with, found on an HKP server)\n"},
    {"sign",
     "  sign    --key KEY.pem [--key KEY2.pem]... [--cert CERT.pem]... [--embed-cert] --signer FQDN\n"
     "          [--services \"...\"]   (several keys: one signature with a SignerInfo for each)\n"
     "          [--carrier auto|body|header] [--canonicalization relaxed|simple]\n"
     "          [--digest sha256|sha384|sha512|sha1] [--allow-sha1] [--headers From,To,...]\n"
     "          [--verification-info TEXT] [--envelope-from ADDR] [--envelope-to ADDR]...\n"
     "          [--resign AUTHSERV-ID [verify's key and policy options]] [--pass-unsigned]\n"
     "          [INPUT [OUTPUT]]   (--pass-unsigned: what cannot be signed goes out as it came)\n"},
    {"verify",
     "  verify  [--key-file FQDN=PATH]... [--ca-file CA.pem] [--allow-sha1] [--json]\n"
     "          [--add-header AUTHSERV-ID | --result-fields AUTHSERV-ID] [--policy]\n"
     "          [--policy-file FILE] [--max-age DAYS]\n"
     "          [--envelope-from ADDR] [--envelope-to ADDR]... [--no-network] [NETWORK]\n"
     "          [--restore HOP OUTPUT] [INPUT]\n"},
    {"trace", "  trace   [--format text|json|html] [--output FILE] [verify's key and policy options] INPUT\n"},
    {"inspect", "  inspect [--json] INPUT | --view INPUT | --cms N INPUT | --content N INPUT\n"},
    {"dns-record",
     "  dns-record --check --signer FQDN --services \"...\" --key-file KEY|CERT... [NETWORK]\n"
     "  dns-record --check --config /etc/mtas/mtasd.conf [NETWORK]   (every KeyTable key)\n"
     "  dns-record --signer FQDN --selector LABEL --cert CERT.pem    (print zone records)\n"},
};

constexpr const char* kNetworkText =
    "  NETWORK: [--resolver HOST[:PORT]] [--trust-anchor FILE] [--timeout MS]\n"
    "           [--tls-ca-file CA.pem] [--connect-to HOST:PORT:HOST2:PORT2]...\n";
constexpr const char* kExitText =
    "verify exit status: 0 pass, 1 fail, 2 no signature, 3 temperror, 4 permerror,\n"
    "5 partial, 6 neutral (no key), 64 usage error.\n";

std::string UsageText(const std::string& only = "") {
  std::string out = "usage: mtas <command> [options]   (mtas --version; mtas COMMAND --help)\n\n";
  for (const auto& c : kCommands)
    if (only.empty() || only == c.name) out += c.text;
  bool network = only.empty() || only == "verify" || only == "trace" || only == "sign" || only == "dns-record";
  if (network) out += std::string("\n") + kNetworkText;
  if (only.empty() || only == "verify") out += std::string("\n") + kExitText;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(UsageText().c_str(), stderr);
    return mtas::cli::kUsage;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(UsageText(args.empty() ? "" : args[0]).c_str(), stdout);
    return 0;
  }
  if (cmd == "-V" || cmd == "--version" || cmd == "version") {
    std::printf("mtas %s (%s)\n", mtas::Version(), mtas::kProtocolProfile);
    return 0;
  }
  bool known = false;
  for (const auto& c : kCommands) known |= cmd == c.name;
  if (!known) {
    std::fprintf(stderr, "mtas: unknown command '%s'\n%s", cmd.c_str(), UsageText().c_str());
    return mtas::cli::kUsage;
  }
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(UsageText(cmd).c_str(), stdout);
      return 0;
    }
  if (cmd == "keygen") return mtas::cli::Keygen(args);
  if (cmd == "sign") return mtas::cli::Sign(args);
  if (cmd == "verify") return mtas::cli::Verify(args);
  if (cmd == "inspect") return mtas::cli::Inspect(args);
  if (cmd == "dns-record") return mtas::cli::DnsRecord(args);
  return mtas::cli::Trace(args);
}
