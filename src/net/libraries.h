// libcurl, libunbound and libldap, loaded at first use (common/shared_library.h says
// why). Internal header.
//
// Each function returns the library's entry points, loaded once per process
// (thread-safe), or nullptr with *error set to the loader's reason, so a
// missing library is one clear error on the lookups that needed it and never
// stops a run that did not.
#pragma once

#include <curl/curl.h>
#include <ldap.h>
#include <unbound.h>

#include <string>

namespace mtas {

struct CurlLibrary {
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

// Also runs curl_global_init once, on first use.
const CurlLibrary* Curl(std::string* error);

struct UnboundLibrary {
  decltype(&ub_ctx_create) ctx_create;
  decltype(&ub_ctx_delete) ctx_delete;
  decltype(&ub_ctx_async) ctx_async;
  decltype(&ub_ctx_resolvconf) ctx_resolvconf;
  decltype(&ub_ctx_set_option) ctx_set_option;
  decltype(&ub_ctx_set_fwd) ctx_set_fwd;
  decltype(&ub_ctx_add_ta_file) ctx_add_ta_file;
  decltype(&ub_ctx_zone_remove) ctx_zone_remove;
  decltype(&ub_resolve_async) resolve_async;
  decltype(&ub_resolve_free) resolve_free;
  decltype(&ub_cancel) cancel;
  decltype(&ub_fd) fd;
  decltype(&ub_process) process;
  decltype(&ub_strerror) strerror;
};

const UnboundLibrary* Unbound(std::string* error);

struct LdapLibrary {
  decltype(&ldap_initialize) initialize;
  decltype(&ldap_set_option) set_option;
  decltype(&ldap_sasl_bind_s) sasl_bind_s;
  decltype(&ldap_search_ext) search_ext;
  decltype(&ldap_result) result;
  decltype(&ldap_parse_result) parse_result;
  decltype(&ldap_abandon_ext) abandon_ext;
  decltype(&ldap_msgtype) msgtype;
  decltype(&ldap_get_option) get_option;
  decltype(&ber_sockbuf_ctrl) sockbuf_ctrl;
  decltype(&ldap_first_entry) first_entry;
  decltype(&ldap_next_entry) next_entry;
  decltype(&ldap_get_values_len) get_values_len;
  decltype(&ldap_value_free_len) value_free_len;
  decltype(&ldap_msgfree) msgfree;
  decltype(&ldap_unbind_ext_s) unbind_ext_s;
  decltype(&ldap_err2string) err2string;
  decltype(&ldap_url_parse) url_parse;
  decltype(&ldap_free_urldesc) free_urldesc;
};

const LdapLibrary* Ldap(std::string* error);

}  // namespace mtas
