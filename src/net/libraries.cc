#include "net/libraries.h"

#include "common/shared_library.h"

namespace mtas {
namespace {

struct LoadedCurl {
  CurlLibrary api{};
  std::string error;
};

LoadedCurl LoadCurl() {
  LoadedCurl out;
  SharedLibrary lib("libcurl.so.4");
  CurlLibrary& c = out.api;
  decltype(&curl_global_init) global_init = nullptr;
  lib.Bind(global_init, "curl_global_init");
  lib.Bind(c.easy_init, "curl_easy_init");
  lib.Bind(c.easy_cleanup, "curl_easy_cleanup");
  lib.Bind(c.easy_setopt, "curl_easy_setopt");
  lib.Bind(c.easy_perform, "curl_easy_perform");
  lib.Bind(c.easy_getinfo, "curl_easy_getinfo");
  lib.Bind(c.easy_strerror, "curl_easy_strerror");
  lib.Bind(c.slist_append, "curl_slist_append");
  lib.Bind(c.slist_free_all, "curl_slist_free_all");
  if (!lib.ok())
    out.error = "libcurl: " + lib.error();
  else if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    out.error = "libcurl failed to initialise";
  return out;
}

struct LoadedUnbound {
  UnboundLibrary api{};
  std::string error;
};

LoadedUnbound LoadUnbound() {
  LoadedUnbound out;
  SharedLibrary lib("libunbound.so.8");
  UnboundLibrary& u = out.api;
  lib.Bind(u.ctx_create, "ub_ctx_create");
  lib.Bind(u.ctx_delete, "ub_ctx_delete");
  lib.Bind(u.ctx_async, "ub_ctx_async");
  lib.Bind(u.ctx_resolvconf, "ub_ctx_resolvconf");
  lib.Bind(u.ctx_set_option, "ub_ctx_set_option");
  lib.Bind(u.ctx_set_fwd, "ub_ctx_set_fwd");
  lib.Bind(u.ctx_add_ta_file, "ub_ctx_add_ta_file");
  lib.Bind(u.ctx_zone_remove, "ub_ctx_zone_remove");
  lib.Bind(u.resolve_async, "ub_resolve_async");
  lib.Bind(u.resolve_free, "ub_resolve_free");
  lib.Bind(u.cancel, "ub_cancel");
  lib.Bind(u.fd, "ub_fd");
  lib.Bind(u.process, "ub_process");
  lib.Bind(u.strerror, "ub_strerror");
  if (!lib.ok()) out.error = "libunbound: " + lib.error();
  return out;
}

struct LoadedLdap {
  LdapLibrary api{};
  std::string error;
};

LoadedLdap LoadLdap() {
  LoadedLdap out;
  // OpenLDAP 2.5 (Debian 12), or 2.6 and later under the name it went back to.
  SharedLibrary lib("libldap-2.5.so.0");
  if (!lib.ok()) lib = SharedLibrary("libldap.so.2");
  LdapLibrary& l = out.api;
  lib.Bind(l.initialize, "ldap_initialize");
  lib.Bind(l.set_option, "ldap_set_option");
  lib.Bind(l.sasl_bind_s, "ldap_sasl_bind_s");
  lib.Bind(l.search_ext, "ldap_search_ext");
  lib.Bind(l.result, "ldap_result");
  lib.Bind(l.parse_result, "ldap_parse_result");
  lib.Bind(l.abandon_ext, "ldap_abandon_ext");
  lib.Bind(l.msgtype, "ldap_msgtype");
  lib.Bind(l.get_option, "ldap_get_option");
  lib.Bind(l.sockbuf_ctrl, "ber_sockbuf_ctrl");  // liblber, which libldap loads with it
  lib.Bind(l.first_entry, "ldap_first_entry");
  lib.Bind(l.next_entry, "ldap_next_entry");
  lib.Bind(l.get_values_len, "ldap_get_values_len");
  lib.Bind(l.value_free_len, "ldap_value_free_len");
  lib.Bind(l.msgfree, "ldap_msgfree");
  lib.Bind(l.unbind_ext_s, "ldap_unbind_ext_s");
  lib.Bind(l.err2string, "ldap_err2string");
  lib.Bind(l.url_parse, "ldap_url_parse");
  lib.Bind(l.free_urldesc, "ldap_free_urldesc");
  if (!lib.ok()) out.error = "libldap: " + lib.error();
  return out;
}

}  // namespace

const LdapLibrary* Ldap(std::string* error) {
  static const LoadedLdap loaded = LoadLdap();
  if (!loaded.error.empty()) {
    *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

const CurlLibrary* Curl(std::string* error) {
  static const LoadedCurl loaded = LoadCurl();  // once, thread-safe (C++11 statics)
  if (!loaded.error.empty()) {
    *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

const UnboundLibrary* Unbound(std::string* error) {
  static const LoadedUnbound loaded = LoadUnbound();
  if (!loaded.error.empty()) {
    *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace mtas
