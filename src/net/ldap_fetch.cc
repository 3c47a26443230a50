// Reading a signer's certificates from an LDAP directory (the seed's
// ldap:smime-keyserver): one anonymous search, bounded in time and size.
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>

#include "mtas/blocking.h"
#include "mtas/fetch.h"
#include "net/libraries.h"

namespace mtas {
namespace {

using Outcome = FetchResult::Outcome;

constexpr int kMaxEntries = 8;
constexpr size_t kMaxValues = 16;

LdapFetchResult Fail(Outcome o, std::string why) {
  LdapFetchResult r;
  r.outcome = o;
  r.why = std::move(why);
  return r;
}

// What an LDAP result code means for a key lookup: the server or the
// network failing is temporary, anything else says the entry is not there.
Outcome OutcomeOf(int rc) {
  switch (rc) {
    case LDAP_SERVER_DOWN:
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_CONNECT_ERROR:
    case LDAP_ADMINLIMIT_EXCEEDED:
    case LDAP_LOCAL_ERROR:
    case LDAP_NO_MEMORY:
      return Outcome::kTemporary;
    default:
      return Outcome::kNotFound;
  }
}

// The URI libldap connects to: HOST:PORT, or the address a connect_to
// entry ("HOST:PORT:ADDRESS:PORT2") names for it.
std::string ConnectUri(const LDAPURLDesc& url, const FetchOptions& options) {
  std::string host = url.lud_host ? url.lud_host : "";
  int port = url.lud_port;
  for (const auto& c : options.connect_to) {
    std::string prefix = host + ":" + std::to_string(port) + ":";
    if (c.rfind(prefix, 0) != 0) continue;
    std::string rest = c.substr(prefix.size());
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) continue;
    host = rest.substr(0, colon);
    port = std::atoi(rest.c_str() + colon + 1);
    break;
  }
  return std::string(url.lud_scheme) + "://" + host + ":" + std::to_string(port);
}

// The host of an LDAP URL as written: what the signer's domain is checked
// against. It must be a plain host name or address, so that libldap, which
// decodes %-escapes in it, connects to the very same host.
std::string_view PlainHost(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return {};
  std::string_view rest = url.substr(start + 3);
  std::string_view host = rest.substr(0, rest.find_first_of("/?"));
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return {};
  return host;
}

}  // namespace

LdapFetchResult FetchLdapCertificates(const std::string& url_text, const FetchOptions& options) {
  std::string error;
  const LdapLibrary* lib = Ldap(&error);
  if (!lib) return Fail(Outcome::kNotFound, error);  // as a method this build cannot use
  std::string_view written_host = PlainHost(url_text);
  if (written_host.empty()) return Fail(Outcome::kRefused, url_text + ": the host must be a plain name");
  LDAPURLDesc* parsed = nullptr;
  if (lib->url_parse(url_text.c_str(), &parsed) != LDAP_URL_SUCCESS || !parsed)
    return Fail(Outcome::kRefused, url_text + ": not an LDAP URL");
  std::unique_ptr<LDAPURLDesc, decltype(lib->free_urldesc)> url(parsed, lib->free_urldesc);
  std::string scheme = url->lud_scheme ? url->lud_scheme : "";
  if (scheme != "ldap" && scheme != "ldaps") return Fail(Outcome::kRefused, url_text + ": not ldap:// or ldaps://");
  if (!url->lud_host || written_host != url->lud_host)
    return Fail(Outcome::kRefused, url_text + ": the host is not the one written");

  // One deadline for connecting, binding and every answer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  auto remaining = [&deadline] {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    long us = std::max<long>(static_cast<long>(left.count()), 1000);
    return timeval{us / 1000000, us % 1000000};
  };
  AnnounceBlocking();  // connecting and searching may take up to the timeout
  LDAP* raw = nullptr;
  if (int rc = lib->initialize(&raw, ConnectUri(*url, options).c_str()); rc != LDAP_SUCCESS || !raw)
    return Fail(Outcome::kRefused, url_text + ": " + lib->err2string(rc));
  auto unbind = [lib](LDAP* ld) { lib->unbind_ext_s(ld, nullptr, nullptr); };
  std::unique_ptr<LDAP, decltype(unbind)> ld(raw, unbind);
  int version = LDAP_VERSION3;
  timeval limit = remaining();
  lib->set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version);
  lib->set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &limit);
  lib->set_option(ld.get(), LDAP_OPT_TIMEOUT, &limit);
  lib->set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF);  // no other servers
  if (scheme == "ldaps") {
    int demand = LDAP_OPT_X_TLS_DEMAND, fresh = 0;
    lib->set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (!options.tls_ca_file.empty()) lib->set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, options.tls_ca_file.c_str());
    lib->set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &fresh);
  }
  berval anonymous{0, nullptr};
  if (int rc = lib->sasl_bind_s(ld.get(), nullptr, LDAP_SASL_SIMPLE, &anonymous, nullptr, nullptr, nullptr);
      rc != LDAP_SUCCESS)
    return Fail(OutcomeOf(rc), url_text + ": bind: " + lib->err2string(rc));
  // No LDAP message over the size of the certificates asked for: liblber
  // would otherwise take in whatever the server sends.
  Sockbuf* sb = nullptr;
  if (lib->get_option(ld.get(), LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb) {
    ber_len_t max_message = kMaxValues * options.max_bytes + 4096;
    lib->sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max_message);
  }

  // The answer one message at a time, at most kMaxEntries entries whatever
  // the server does with the size limit asked.
  char attribute[] = "userCertificate;binary";
  char* attrs[] = {attribute, nullptr};
  int msgid = 0;
  limit = remaining();
  int rc = lib->search_ext(
      ld.get(), url->lud_dn ? url->lud_dn : "", url->lud_scope < 0 ? LDAP_SCOPE_BASE : url->lud_scope,
      url->lud_filter ? url->lud_filter : nullptr, attrs, 0, nullptr, nullptr, &limit, kMaxEntries, &msgid);
  if (rc != LDAP_SUCCESS) return Fail(OutcomeOf(rc), url_text + ": " + lib->err2string(rc));
  LdapFetchResult r;
  int entries = 0;
  for (bool done = false; !done;) {
    limit = remaining();
    LDAPMessage* raw_msg = nullptr;
    int type = lib->result(ld.get(), msgid, LDAP_MSG_ONE, &limit, &raw_msg);
    std::unique_ptr<LDAPMessage, decltype(lib->msgfree)> msg(raw_msg, lib->msgfree);
    if (type == 0)
      return Fail(Outcome::kTemporary, url_text + ": no answer in " + std::to_string(options.timeout_ms) + " ms");
    if (type < 0) return Fail(Outcome::kTemporary, url_text + ": the connection failed");
    if (type == LDAP_RES_SEARCH_RESULT) {
      int code = LDAP_SUCCESS;
      lib->parse_result(ld.get(), msg.get(), &code, nullptr, nullptr, nullptr, nullptr, 0);
      if (code != LDAP_SUCCESS && code != LDAP_SIZELIMIT_EXCEEDED && r.values.empty())
        return Fail(OutcomeOf(code), url_text + ": " + lib->err2string(code));
      break;
    }
    if (type != LDAP_RES_SEARCH_ENTRY) continue;  // references and the like: not followed
    berval** values = lib->get_values_len(ld.get(), msg.get(), attribute);
    for (size_t i = 0; values && values[i] && r.values.size() < kMaxValues; ++i) {
      if (values[i]->bv_len > options.max_bytes) {
        size_t size = values[i]->bv_len;
        lib->value_free_len(values);
        return Fail(Outcome::kTooLarge, url_text + ": a certificate of " + std::to_string(size) + " bytes (limit " +
                                            std::to_string(options.max_bytes) + ")");
      }
      r.values.emplace_back(values[i]->bv_val, values[i]->bv_len);
    }
    if (values) lib->value_free_len(values);
    if (++entries == kMaxEntries) {
      lib->abandon_ext(ld.get(), msgid, nullptr, nullptr);
      done = true;
    }
  }
  if (r.values.empty()) return Fail(Outcome::kNotFound, url_text + ": no userCertificate;binary there");
  r.outcome = Outcome::kOk;
  return r;
}

}  // namespace mtas
