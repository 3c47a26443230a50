// Verification services (spec §4): where a verifier finds a signer's key.
//
// Syntax, as in the X-Certificate-Verification-Service header and the
// signed verificationServices attribute: "METHOD ARG [ARG]; METHOD ARG; …",
// optionally in double quotes. Relative names resolve against the signer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mtas/status.h"

namespace mtas {

struct Service {
  std::string method;             // e.g. "domain:key:email"
  std::vector<std::string> args;  // one or two
  bool known = false;             // a method the seed names
};

// Parses a service list. Entries are kept in order; an entry that is not
// METHOD ARG [ARG] makes the whole list kMalformed (it was signed that way).
// At most 16 entries are returned; more is kMalformed.
Result<std::vector<Service>> ParseServices(std::string_view text);

// Every method name the seed defines.
bool IsKnownMethod(std::string_view method);

// "a.b" under signer "mail.example.com" -> "a.b.mail.example.com";
// a name ending in '.' is absolute.
std::string ResolveName(std::string_view label, std::string_view signer);

}  // namespace mtas
