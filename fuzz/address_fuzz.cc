// The RFC 5322 address-list parser and FromDomains on any bytes: no crash,
// the bounds hold, and every domain FromDomains returns is a lowercase DNS
// name that ParseAddressList also found.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mtas/address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto list = mtas::ParseAddressList(in);
  if (list.ok()) {
    if (list->size() > mtas::kMaxAddressListMailboxes) std::abort();
    for (const mtas::Mailbox& m : *list) {
      if (m.domain.empty()) std::abort();
      for (char c : m.domain)
        if (c >= 'A' && c <= 'Z') std::abort();
    }
  } else if (list.status().code() != mtas::Status::Code::kMalformed ||
             list.status().message().find('\n') != std::string::npos) {
    std::abort();
  }

  mtas::HeaderField f;
  f.raw = "From:" + std::string(in);
  f.name_len = 4;
  auto domains = mtas::FromDomains({f});
  if (domains.ok()) {
    if (!list.ok() || domains->empty() || domains->size() > list->size()) std::abort();
    for (const std::string& d : *domains) {
      if (d.empty() || d.size() > 253 || d.front() == '[') std::abort();
      bool found = false;
      for (const mtas::Mailbox& m : *list) found = found || m.domain == d;
      if (!found) std::abort();
    }
  }
  return 0;
}
