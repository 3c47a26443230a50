// Fetch() on libcurl (RAII handle, no global state beyond curl_global_init).
#include "mtas/fetch.h"

#include <curl/curl.h>

#include <memory>

#include "mtas/blocking.h"

namespace mtas {
namespace {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

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

const bool kCurlReady = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;

}  // namespace

FetchResult Fetch(const std::string& url, const FetchOptions& options) {
  FetchResult r;
  if (!kCurlReady) {
    r.why = "libcurl failed to initialise";
    return r;
  }
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  std::unique_ptr<curl_slist, SlistFree> connect_to;
  for (const auto& c : options.connect_to) connect_to.reset(curl_slist_append(connect_to.release(), c.c_str()));
  Sink sink{&r.body, options.max_bytes};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,ftp,tftp");
  // A redirect keeps the scheme: an https key must not arrive over http.
  std::string scheme = url.substr(0, url.find(':'));
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, scheme == "http" ? "http,https" : scheme.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "mtas/0.1");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.tls_ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.tls_ca_file.c_str());
  if (connect_to) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.get());

  AnnounceBlocking();
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
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
      r.why = url + ": " + curl_easy_strerror(rc);
      return r;
    case CURLE_REMOTE_FILE_NOT_FOUND:
    case CURLE_TFTP_NOTFOUND:
      r.outcome = FetchResult::Outcome::kNotFound;
      r.why = url + ": not found";
      return r;
    default:  // timeouts, refused connections, resets: may work later
      r.outcome = FetchResult::Outcome::kTemporary;
      r.why = url + ": " + curl_easy_strerror(rc);
      return r;
  }
  if (status >= 500) {
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
