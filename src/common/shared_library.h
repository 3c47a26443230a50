// A shared library loaded at first use. Internal header.
//
// libmtas loads its network libraries (libcurl, libunbound) only when a run
// first needs them: together with their own dependencies they are 30 shared
// objects whose loading and relocation cost more CPU than signing a message,
// and `mtas sign`, run once per message by MTAs without milter support, never
// touches the network.
//
// Contract: a library, once loaded, stays loaded for the life of the process
// (no dlclose): the network libraries keep global state (curl_global_init),
// and function pointers taken from it stay valid.
#pragma once

#include <string>

namespace mtas {

class SharedLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL). Check ok() before Bind().
  explicit SharedLibrary(const char* soname);

  bool ok() const { return error_.empty(); }
  // Why loading or the first failed Bind() failed: the loader's message.
  const std::string& error() const { return error_; }

  // Points `fn` at `symbol`, or sets it null and records an error. The
  // caller names the type by the library's own declaration:
  //   decltype(&curl_easy_init) easy_init; lib.Bind(easy_init, "curl_easy_init");
  template <typename Fn>
  void Bind(Fn*& fn, const char* symbol) {
    fn = reinterpret_cast<Fn*>(Find(symbol));
  }

 private:
  void* Find(const char* symbol);

  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace mtas
