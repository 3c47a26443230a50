// The policy parsers: the SPF `mtas=` modifier, the local policy file and
// the organisational-domain rule that both feed.
#include <cstdint>
#include <string_view>

#include "mtas/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mtas::ParseSpfPolicy(in);
  (void)mtas::ParsePolicyName(in);
  (void)mtas::LocalPolicy::Parse(in);
  (void)mtas::OrganizationalDomain(in);
  return 0;
}
