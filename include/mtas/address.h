// RFC 5322 address lists (§3.4, with the obsolete forms of §4.4) and the
// From domains mail readers display, which policy looks up.
//
// The parser is strict on purpose: an attacker wants policy to look up a
// domain other than the one a reader shows, so anything a lenient parser
// would have to guess at is refused, and the verifier turns a refused From
// into a policy failure, never into "no policy".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mtas/message.h"
#include "mtas/status.h"

namespace mtas {

// More mailboxes than this in one address list is kMalformed.
inline constexpr size_t kMaxAddressListMailboxes = 1000;

// Comments nested deeper than this are kMalformed.
inline constexpr int kMaxCommentDepth = 64;

// One mailbox of an address list.
struct Mailbox {
  // The phrase before the angle-addr; "" when there is none. Words are joined
  // by one space where CFWS separated them; quotes dropped, quoted-pairs
  // decoded, comments dropped, folding removed; encoded-words left as is.
  std::string display_name;
  // As written, quotes and CFWS removed, quoted-pairs decoded: `"a b"@x`
  // gives `a b`, `john . doe@x` gives `john.doe`.
  std::string local_part;
  // Lowercased. A domain literal is kept with its brackets (white space
  // inside dropped, quoted-pairs kept as written). A trailing dot is not
  // RFC 5322 syntax and is refused, so there is never one to remove.
  std::string domain;
};

// Parses an RFC 5322 address-list / mailbox-list field value (what follows
// "From:"), folding included: display names (atoms, quoted strings,
// obs-phrase with dots), angle-addr, addr-spec, CFWS (nested comments with
// quoted-pairs) anywhere including around '@' and '.', groups
// ("Team: a@b.example, c@d.example;"; an empty group yields no mailbox),
// obs-route ("<@route1,@route2:user@example.com>", route dropped),
// obs-local-part / obs-domain (CFWS between dot-separated words), empty list
// elements (obs-addr-list, obs-mbox-list, obs-group-list).
//
// Mailboxes come in the order written, groups flattened. kMalformed, with a
// one-line reason naming the byte offset, for anything that is not RFC 5322
// syntax: unbalanced quotes, comments, angle or square brackets; an
// addr-spec without '@' or with two; an empty domain or local part; a
// trailing '.'; 8-bit or control bytes (NUL, DEL, bare CR, a line break not
// followed by white space); obs-qp and obs-NO-WS-CTL; a group inside a
// group; trailing garbage; an empty list. Refused too, though RFC 5322
// allows them, because readers decode RFC 2047 words across token bounds:
// a display-name atom that starts with "=?" but is not exactly one
// encoded-word, a "=?" inside a quoted string that does not start an
// encoded-word ending inside it, an atom of an addr-spec or route domain
// that starts with "=?"; and, because Python's email package fails on the
// whole field there, a display name ending in '.' right before '<' or ':'
// and CFWS right after an empty group written "name:;".
//
// Linear time in the input size; no recursion.
Result<std::vector<Mailbox>> ParseAddressList(std::string_view value);

// The From domains readers display: the domain of every mailbox of every
// From field in `fields`, in order, duplicates removed. kMalformed when there
// is no From field, when a From field was truncated, fails to parse or yields
// no mailbox, or when a domain is a domain literal or not a DNS name
// (LDH labels of 1..63 characters, not starting or ending with '-', at most
// 253 characters in all, the last label not all digits; A-labels are fine,
// non-ASCII is not).
Result<std::vector<std::string>> FromDomains(const std::vector<HeaderField>& fields);

}  // namespace mtas
