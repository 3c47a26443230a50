// Fetch() on libcurl, loaded at first use (net/libraries.h); RAII handles.
#include "mtas/fetch.h"

#include <curl/curl.h>

#include <memory>

#include "mtas/blocking.h"
#include "net/libraries.h"

namespace mtas {
namespace {

struct Sink {
  std::string* body;
  size_t max;
  bool too_large = false;
};

size_t OnData(char* p, size_t size, size_t n, void* arg) {
  auto* sink = static_cast<Sink*>(arg);
  size_t len = size * n;
  if (sink->body->size() + len > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  sink->body->append(p, len);
  return len;
}

}  // namespace

FetchResult Fetch(const std::string& url, const FetchOptions& options) {
  FetchResult r;
  const CurlLibrary* lib = Curl(&r.why);
  if (!lib) return r;
  std::unique_ptr<CURL, decltype(lib->easy_cleanup)> curl(lib->easy_init(), lib->easy_cleanup);
  if (!curl) {
    r.why = "libcurl: cannot create a handle";
    return r;
  }
  std::unique_ptr<curl_slist, decltype(lib->slist_free_all)> connect_to(nullptr, lib->slist_free_all);
  for (const auto& c : options.connect_to) connect_to.reset(lib->slist_append(connect_to.release(), c.c_str()));
  Sink sink{&r.body, options.max_bytes};
  CURL* h = curl.get();
  lib->easy_setopt(h, CURLOPT_URL, url.c_str());
  lib->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,ftp,tftp");
  // A redirect keeps the scheme: an https key must not arrive over http.
  std::string scheme = url.substr(0, url.find(':'));
  lib->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, scheme == "http" ? "http,https" : scheme.c_str());
  lib->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  lib->easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  lib->easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  lib->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout_ms));
  lib->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  lib->easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  lib->easy_setopt(h, CURLOPT_WRITEFUNCTION, OnData);
  lib->easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  lib->easy_setopt(h, CURLOPT_USERAGENT, "mtas/0.1");
  lib->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  lib->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.tls_ca_file.empty()) lib->easy_setopt(h, CURLOPT_CAINFO, options.tls_ca_file.c_str());
  if (connect_to) lib->easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.get());

  AnnounceBlocking();
  CURLcode rc = lib->easy_perform(h);
  long status = 0;
  lib->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (char* final_url = nullptr; lib->easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &final_url) == CURLE_OK && final_url)
    r.final_url = final_url;
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    r.outcome = FetchResult::Outcome::kTooLarge;
    r.why = url + ": larger than " + std::to_string(options.max_bytes) + " bytes";
    return r;
  }
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
      r.outcome = FetchResult::Outcome::kRefused;
      r.why = url + ": " + lib->easy_strerror(rc);
      return r;
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_TFTP_NOTFOUND:
      r.outcome = FetchResult::Outcome::kNotFound;
      r.why = url + ": not found";
      return r;
    default:  // timeouts, refused connections, resets: may work later
      r.outcome = FetchResult::Outcome::kTemporary;
      r.why = url + ": " + lib->easy_strerror(rc);
      return r;
  }
  if (status >= 500 || status == 429) {  // 429: rate-limited, as key servers do
    r.outcome = FetchResult::Outcome::kTemporary;
    r.why = url + ": HTTP " + std::to_string(status);
  } else if (status >= 400) {
    r.outcome = FetchResult::Outcome::kNotFound;
    r.why = url + ": HTTP " + std::to_string(status);
  } else {
    r.outcome = FetchResult::Outcome::kOk;
  }
  return r;
}

}  // namespace mtas
