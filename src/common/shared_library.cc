#include "common/shared_library.h"

#include <dlfcn.h>

namespace mtas {

SharedLibrary::SharedLibrary(const char* soname) {
  handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* why = dlerror();
    error_ = why ? why : std::string("cannot load ") + soname;
  }
}

void* SharedLibrary::Find(const char* symbol) {
  if (!handle_) return nullptr;
  dlerror();  // clears a stale message
  void* address = dlsym(handle_, symbol);
  if (!address && error_.empty()) {
    const char* why = dlerror();
    error_ = why ? why : std::string("missing symbol ") + symbol;
  }
  return address;
}

}  // namespace mtas
