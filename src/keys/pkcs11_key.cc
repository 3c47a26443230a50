#include "keys/pkcs11_key.h"

#include <openssl/engine.h>
#include <openssl/err.h>

#include <cstdlib>
#include <mutex>

#include "common/ossl.h"
#include "common/read_file.h"

namespace mtas {
namespace {

std::mutex engine_mu;  // the engine, and its PIN setting between ENGINE_ctrl and the load

// The pkcs11 engine, loaded and initialised once (call with engine_mu
// held); it stays for the life of the process, as the keys it hands out
// refer to it.
ENGINE* Pkcs11Engine(std::string* error) {
  static ENGINE* engine = nullptr;
  static std::string failure;
  if (engine || !failure.empty()) {
    *error = failure;
    return engine;
  }
  ENGINE_load_builtin_engines();
  ENGINE* e = ENGINE_by_id("pkcs11");  // ENGINESDIR/pkcs11.so
  if (!e) {
    failure = "OpenSSL has no pkcs11 engine (Debian: apt install libengine-pkcs11-openssl): " + ossl::LastError();
  } else if (const char* module = std::getenv("MTAS_PKCS11_MODULE");
             module && *module && ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1) {
    failure = std::string("pkcs11 engine: cannot use module ") + module + ": " + ossl::LastError();
    ENGINE_free(e);
  } else if (ENGINE_init(e) != 1) {
    failure = "pkcs11 engine: cannot start: " + ossl::LastError();
    ENGINE_free(e);
  } else {
    ENGINE_free(e);  // the functional reference from ENGINE_init keeps it
    engine = e;
  }
  *error = failure;
  return engine;
}

// RFC 7512's pin-source=file:PATH attribute (after ';' or '?'): the URI
// without it, and the PIN read from the file (its first line).
Status TakePinSource(std::string* uri, std::string* pin) {
  size_t at = uri->find("pin-source=");
  if (at == std::string::npos) return Status::Ok();
  size_t end = uri->find_first_of(";&", at);
  std::string source = uri->substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
  size_t cut_from = at > 0 && ((*uri)[at - 1] == ';' || (*uri)[at - 1] == '&') ? at - 1 : at;
  uri->erase(cut_from, (end == std::string::npos ? uri->size() : end) - cut_from);
  if (!uri->empty() && uri->back() == '?') uri->pop_back();
  if (source.rfind("file:", 0) != 0) return Status::InvalidArgument("pin-source wants file:PATH, got '" + source + "'");
  auto text = ReadSmallFile(source.substr(5), 1024);
  if (!text.ok()) return text.status();
  *pin = text->substr(0, text->find_first_of("\r\n"));
  return Status::Ok();
}

}  // namespace

Result<EVP_PKEY*> LoadPkcs11Key(const std::string& uri_in) {
  std::string uri = uri_in, pin;
  MTAS_RETURN_IF_ERROR(TakePinSource(&uri, &pin));
  // How messages name the key: without a PIN it may carry.
  std::string shown = uri.substr(0, uri.find("pin-value"));
  std::lock_guard<std::mutex> lock(engine_mu);
  std::string error;
  ENGINE* engine = Pkcs11Engine(&error);
  if (!engine) return Status::InvalidArgument(error);
  if (!pin.empty() && ENGINE_ctrl_cmd_string(engine, "PIN", pin.c_str(), 0) != 1)
    return Status::InvalidArgument(shown + ": the engine refused the PIN setting (" + ossl::LastError() + ")");
  EVP_PKEY* key = ENGINE_load_private_key(engine, uri.c_str(), nullptr, nullptr);
  if (!pin.empty()) ENGINE_ctrl_cmd_string(engine, "PIN", "", 0);  // not kept for the next key
  if (!key)
    return Status::InvalidArgument(shown + ": no private key there, or the PIN was refused (" + ossl::LastError() +
                                   ")");
  return key;
}

}  // namespace mtas
