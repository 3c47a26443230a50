// Reading a signer's certificates from an LDAP directory (the seed's
// ldap:smime-keyserver): one anonymous search, bounded in time and size.
#include <sys/time.h>

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

}  // namespace

LdapFetchResult FetchLdapCertificates(const std::string& url_text, const FetchOptions& options) {
  std::string error;
  const LdapLibrary* lib = Ldap(&error);
  if (!lib) return Fail(Outcome::kTemporary, error);
  LDAPURLDesc* parsed = nullptr;
  if (lib->url_parse(url_text.c_str(), &parsed) != LDAP_URL_SUCCESS || !parsed)
    return Fail(Outcome::kRefused, url_text + ": not an LDAP URL");
  std::unique_ptr<LDAPURLDesc, decltype(lib->free_urldesc)> url(parsed, lib->free_urldesc);
  std::string scheme = url->lud_scheme ? url->lud_scheme : "";
  if (scheme != "ldap" && scheme != "ldaps") return Fail(Outcome::kRefused, url_text + ": not ldap:// or ldaps://");
  if (!url->lud_host || !*url->lud_host) return Fail(Outcome::kRefused, url_text + ": no host");

  AnnounceBlocking();  // connecting and searching may take up to the timeout
  LDAP* raw = nullptr;
  if (int rc = lib->initialize(&raw, ConnectUri(*url, options).c_str()); rc != LDAP_SUCCESS || !raw)
    return Fail(Outcome::kRefused, url_text + ": " + lib->err2string(rc));
  auto unbind = [lib](LDAP* ld) { lib->unbind_ext_s(ld, nullptr, nullptr); };
  std::unique_ptr<LDAP, decltype(unbind)> ld(raw, unbind);
  int version = LDAP_VERSION3;
  timeval limit{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
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
    return Fail(rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ? Outcome::kTemporary : Outcome::kNotFound,
                url_text + ": bind: " + lib->err2string(rc));

  char attribute[] = "userCertificate;binary";
  char* attrs[] = {attribute, nullptr};
  LDAPMessage* found = nullptr;
  int rc = lib->search_ext_s(
      ld.get(), url->lud_dn ? url->lud_dn : "", url->lud_scope < 0 ? LDAP_SCOPE_BASE : url->lud_scope,
      url->lud_filter ? url->lud_filter : nullptr, attrs, 0, nullptr, nullptr, &limit, kMaxEntries, &found);
  std::unique_ptr<LDAPMessage, decltype(lib->msgfree)> answer(found, lib->msgfree);
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED)
    return Fail(OutcomeOf(rc), url_text + ": " + lib->err2string(rc));

  LdapFetchResult r;
  for (LDAPMessage* e = lib->first_entry(ld.get(), answer.get()); e; e = lib->next_entry(ld.get(), e)) {
    berval** values = lib->get_values_len(ld.get(), e, attribute);
    if (!values) continue;
    for (size_t i = 0; values[i] && r.values.size() < kMaxValues; ++i) {
      if (values[i]->bv_len > options.max_bytes) {
        lib->value_free_len(values);
        return Fail(Outcome::kTooLarge, url_text + ": a certificate of " + std::to_string(values[i]->bv_len) +
                                            " bytes (limit " + std::to_string(options.max_bytes) + ")");
      }
      r.values.emplace_back(values[i]->bv_val, values[i]->bv_len);
    }
    lib->value_free_len(values);
  }
  if (r.values.empty()) return Fail(Outcome::kNotFound, url_text + ": no userCertificate;binary there");
  r.outcome = Outcome::kOk;
  return r;
}

}  // namespace mtas
