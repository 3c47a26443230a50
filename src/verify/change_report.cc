#include "verify/change_report.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "common/ascii.h"
#include "mtas/address.h"

namespace mtas {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool IsRenderingName(std::string_view lower_name) {
  return lower_name == "content-type" || lower_name == "content-transfer-encoding" ||
         lower_name == "content-disposition";
}

// The MIME structure a rendering field states, parameter values exact: two
// fields that relaxed canonicalization folds together (a boundary with one
// space or two) differ here, because readers split the body by the exact
// value.
std::string StructuralForm(std::string_view field) {
  std::string name = FieldNameLower(field);
  size_t colon = field.find(':');
  std::string_view value = colon == std::string_view::npos ? std::string_view() : field.substr(colon + 1);
  std::string out = name + ":";
  if (name == "content-transfer-encoding") return out + Lower(Trim(value));
  std::vector<std::pair<std::string, std::string>> params;
  if (name == "content-type") {
    ContentType ct = ContentType::Parse(value);
    out += ct.MimeType();
    params = ct.params;
  } else {
    size_t semi = value.find(';');
    out += Lower(Trim(value.substr(0, semi)));
    if (semi != std::string_view::npos) params = ParseParams(value.substr(semi + 1));
  }
  for (const auto& [n, v] : params) {
    out += ";" + n + "=";
    out += std::to_string(v.size()) + ":" + v;  // length-prefixed: no value can forge a separator
  }
  return out;
}

// The comparison key of a signed or current field: its canonical form, and
// for rendering fields also their exact MIME structure.
// Runs of white space as one space, none at the ends: relaxed
// canonicalization's rule, which these fields are compared under.
std::string Fold(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool space = c == ' ' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// What a reader shows of a Subject or an address field, RFC 2047 words
// decoded, white space folded (relaxed canonicalization only); nullopt when a reader could show it otherwise (a
// comment, which some show and some do not; anything the strict decoders refuse).
std::optional<std::string> ShownText(const std::string& name, std::string_view value) {
  // A comment (some readers show it) or a group or route (':'; the parsed
  // list keeps neither the group's name nor the route): compare the bytes.
  if (value.find_first_of("(:") != std::string_view::npos) return std::nullopt;
  auto text = [&](std::string_view v) -> std::optional<std::string> {
    auto decoded = DecodeUnstructured(v);
    if (!decoded) return std::nullopt;
    return Fold(*decoded);
  };
  if (name == "subject") return text(value);
  auto list = ParseAddressList(value);
  if (!list.ok()) return std::nullopt;
  std::string out;
  for (const Mailbox& m : *list) {
    auto display = text(m.display_name);
    if (!display) return std::nullopt;
    out += std::to_string(display->size()) + ":" + *display + "<" + m.local_part + "@" + m.domain + ">";
  }
  return out;
}

std::string Key(Canon canon, std::string_view field) {
  std::string name = FieldNameLower(field);
  if (canon == Canon::kRelaxed &&
      (name == "subject" || name == "from" || name == "sender" || name == "reply-to" || name == "to" || name == "cc")) {
    // Another, equivalent RFC 2047 encoding is what readers show alike.
    std::string_view value = field.substr(std::min(field.size(), field.find(':') + 1));
    if (auto shown = ShownText(name, value)) return "shown " + name + ":" + *shown;
  }
  if (name == "content-type" || name == "content-disposition") {
    // Strictly well-formed: what it states, quoting, name case, parameter
    // order and RFC 2231 continuations aside.
    std::string_view value = field.substr(std::min(field.size(), field.find(':') + 1));
    if (auto v = CanonicalMimeValue(value, name == "content-type")) return "strict " + name + ":" + *v;
  }
  std::string key = canon == Canon::kRelaxed ? CanonicalHeaderRelaxed(field) : NormalizeLineEnds(field);
  if (IsRenderingName(name)) key += "\n" + StructuralForm(field);
  return key;
}

}  // namespace

bool RenderingFieldsEqual(Canon canon, std::string_view a, std::string_view b) {
  return HeaderFieldsEqual(Canon::kSimple, a, b) || Key(canon, a) == Key(canon, b);
}

std::vector<HeaderReport> CompareHeaders(const std::vector<std::string>& signed_fields,
                                         const std::vector<HeaderCount>& counts,
                                         const std::vector<HeaderField>& current, Canon canon) {
  std::vector<std::string> signed_names;  // of each signed field, lowercase
  std::vector<std::string> names;         // once each: the counted names, then any other signed
  auto add_name = [&](std::string n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  };
  for (const auto& c : counts) add_name(Lower(c.name));
  for (const auto& s : signed_fields) {
    signed_names.push_back(FieldNameLower(s));
    add_name(signed_names.back());
  }
  std::vector<HeaderReport> out;
  std::vector<const std::string*> signed_here;
  std::vector<const HeaderField*> current_here;
  for (const auto& n : names) {
    signed_here.clear();
    current_here.clear();
    for (size_t i = 0; i < signed_fields.size(); ++i)
      if (signed_names[i] == n) signed_here.push_back(&signed_fields[i]);
    for (const auto& f : current)
      if (f.NameIs(n)) current_here.push_back(&f);
    HeaderReport r;
    if (signed_here.empty()) {  // counted as absent when signed
      if (current_here.empty()) continue;
      r.name = std::string(current_here.front()->name());
      r.status = HeaderStatus::kAdded;
      r.current_value = NormalizeLineEnds(current_here.front()->raw);
      out.push_back(std::move(r));
      continue;
    }
    r.signed_value = *signed_here.front();
    r.name = std::string(r.signed_value.substr(0, r.signed_value.find(':')));
    if (current_here.empty()) {
      r.status = HeaderStatus::kRemoved;
      out.push_back(std::move(r));
      continue;
    }
    r.current_value = NormalizeLineEnds(current_here.front()->raw);
    // The usual case, decided without canonicalizing: every instance as it
    // was signed, byte for byte but for line ends, in the same order.
    bool untouched = signed_here.size() == current_here.size();
    for (size_t k = 0; untouched && k < signed_here.size(); ++k)
      untouched = HeaderFieldsEqual(Canon::kSimple, *signed_here[k], current_here[k]->raw);
    if (untouched) {
      r.status = HeaderStatus::kSame;
      out.push_back(std::move(r));
      continue;
    }
    std::vector<std::string> was, now;
    for (const std::string* s : signed_here) was.push_back(Key(canon, *s));
    for (const HeaderField* f : current_here) now.push_back(Key(canon, f->raw));
    std::sort(was.begin(), was.end());
    std::sort(now.begin(), now.end());
    if (was == now) {
      r.status = HeaderStatus::kSame;
    } else {
      r.status = HeaderStatus::kChanged;
      // Every signed instance still there, more now, and the one a reader
      // sees is new: a prepended field, the classic DKIM header attack.
      bool all_kept = std::includes(now.begin(), now.end(), was.begin(), was.end());
      r.added_above = all_kept && !std::binary_search(was.begin(), was.end(), Key(canon, r.current_value));
      // Show the signed instance the reader no longer sees.
      for (const std::string* s : signed_here)
        if (!std::binary_search(now.begin(), now.end(), Key(canon, *s))) {
          r.signed_value = *s;
          break;
        }
    }
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// One part's header fields as signed against now, per field name in order
// of first appearance: rendering fields by their MIME structure, the others
// under `canon`.
std::vector<FieldChange> CompareFields(const std::vector<std::string>& was, const std::vector<std::string>& now,
                                       Canon canon) {
  std::vector<std::string> names;
  for (const auto* list : {&was, &now})
    for (const auto& f : *list)
      if (std::string n = FieldNameLower(f); std::find(names.begin(), names.end(), n) == names.end())
        names.push_back(n);
  std::vector<FieldChange> out;
  for (const std::string& name : names) {
    std::vector<const std::string*> a, b;
    for (const auto& f : was)
      if (FieldNameLower(f) == name) a.push_back(&f);
    for (const auto& f : now)
      if (FieldNameLower(f) == name) b.push_back(&f);
    auto equal = [&](const std::string& x, const std::string& y) {
      return IsRenderingName(name) ? RenderingFieldsEqual(canon, x, y) : HeaderFieldsEqual(canon, x, y);
    };
    bool same = a.size() == b.size();
    for (size_t k = 0; same && k < a.size(); ++k) same = equal(*a[k], *b[k]);
    if (same) continue;
    const std::string& any = a.empty() ? *b.front() : *a.front();
    FieldChange c{any.substr(0, any.find(':')), "", ""};
    size_t k = 0;  // the first instance that differs
    while (k < a.size() && k < b.size() && equal(*a[k], *b[k])) ++k;
    if (k < a.size()) c.signed_value = *a[k];
    if (k < b.size()) c.current_value = *b[k];
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::string FieldNameLower(std::string_view field) {
  std::string n(field.substr(0, field.find(':')));
  while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.pop_back();
  for (char& c : n) c = AsciiLower(c);
  return n;
}

std::string_view ClosingLines(std::string_view closing, size_t k) {
  size_t at = closing.size();
  for (size_t i = 0; i < k && at > 0; ++i) {
    size_t nl = at >= 2 ? closing.rfind('\n', at - 2) : std::string_view::npos;
    at = nl == std::string_view::npos ? 0 : nl + 1;
  }
  return closing.substr(at);
}

std::string TransferEncodingName(const std::string& field) {
  if (field.empty()) return "7bit";
  size_t colon = field.find(':');
  std::string v = Lower(Trim(std::string_view(field).substr(colon == std::string::npos ? field.size() : colon + 1)));
  for (const char* known : {"7bit", "8bit", "binary", "quoted-printable", "base64"})
    if (v == known) return v;
  return "";
}

void CompareParts(const std::vector<PartHash>& signed_parts, const std::vector<PartFields>* signed_fields,
                  const std::vector<PartInfo>& current, DigestAlg alg, Canon canon, std::vector<PartReport>* parts,
                  std::vector<AddedPart>* added, bool* tree_intact) {
  const size_t a = static_cast<size_t>(alg);
  std::vector<bool> used(current.size(), false);
  std::vector<int> match(signed_parts.size(), -1);
  // Same path and same content first, then same content anywhere.
  for (size_t i = 0; i < signed_parts.size(); ++i)
    for (size_t j = 0; j < current.size(); ++j)
      if (!used[j] && !current[j].container && current[j].path == signed_parts[i].path &&
          current[j].digests[a] == signed_parts[i].digest) {
        used[j] = true;
        match[i] = static_cast<int>(j);
        break;
      }
  for (size_t i = 0; i < signed_parts.size(); ++i) {
    if (match[i] >= 0) continue;
    for (size_t j = 0; j < current.size(); ++j)
      if (!used[j] && !current[j].container && current[j].digests[a] == signed_parts[i].digest) {
        used[j] = true;
        match[i] = static_cast<int>(j);
        break;
      }
  }
  // The signed rendering fields by path (MTAS/1.1).
  std::map<std::string, const PartFields*> fields_at;
  if (signed_fields)
    for (const auto& p : *signed_fields) fields_at.emplace(p.path, &p);
  auto current_at = [&](const std::string& path) -> const PartInfo* {
    for (const auto& p : current)
      if (p.path == path) return &p;
    return nullptr;
  };
  for (size_t i = 0; i < signed_parts.size(); ++i) {
    PartReport r{signed_parts[i].path, signed_parts[i].content_type, PartStatus::kSame, "", {}, "", "", 0, "",
                 match[i] >= 0};
    const PartInfo* now = nullptr;
    if (match[i] >= 0) {
      now = &current[static_cast<size_t>(match[i])];
      r.status = now->path == r.path ? PartStatus::kSame : PartStatus::kMoved;
      if (r.status == PartStatus::kMoved) r.now_at = now->path;
    } else {
      now = current_at(r.path);
      // Nothing at its path, or a container, or a leaf holding another
      // signed part's content (this one went, the later ones moved up).
      bool taken = false;
      for (size_t j = 0; now && j < current.size(); ++j)
        if (&current[j] == now) taken = used[j];
      if (now && (now->container || taken)) now = nullptr;
      r.status = now ? PartStatus::kChanged : PartStatus::kRemoved;
      if (now) {  // the changed part takes its place: it is not "added"
        for (size_t j = 0; j < current.size(); ++j)
          if (!used[j] && current[j].path == r.path) used[j] = true;
      }
    }
    if (auto it = fields_at.find(r.path); now && it != fields_at.end()) {
      r.changed_fields = CompareFields(it->second->fields, now->header_fields, canon);
      // The same decoded content under another transfer encoding, decoded
      // without guessing and ending as it did: re-encoded in transit, which
      // no reader shows.
      bool only_cte = r.changed_fields.size() == 1 &&
                      EqualsIgnoreCase(r.changed_fields[0].name, "Content-Transfer-Encoding") &&
                      !TransferEncodingName(r.changed_fields[0].signed_value).empty() &&
                      !TransferEncodingName(r.changed_fields[0].current_value).empty();
      if (only_cte && r.status == PartStatus::kSame && !now->lenient_decode &&
          static_cast<int64_t>(now->trailing_empty_lines) == it->second->trailing_empty_lines) {
        r.status = PartStatus::kReencoded;
        r.reencoded = TransferEncodingName(r.changed_fields[0].signed_value) + "->" +
                      TransferEncodingName(r.changed_fields[0].current_value);
        r.changed_fields.clear();
      } else if (!r.changed_fields.empty() ||
                 (r.status == PartStatus::kSame &&
                  static_cast<int64_t>(now->trailing_empty_lines) != it->second->trailing_empty_lines)) {
        r.status = PartStatus::kChanged;
      }
      // Longer now, and its first signed-length bytes are the signed ones:
      // the original is intact and text was appended (a list footer), maybe
      // re-encoded on the way (Python's email package writes utf-8 text it
      // changed as base64).
      if (r.status == PartStatus::kChanged && it->second->length > 0)
        for (const auto& x : now->prefixes)
          if (x.alg == alg && x.length == static_cast<uint64_t>(it->second->length) && !x.digest.empty() &&
              x.digest == signed_parts[i].digest) {
            if (only_cte && !now->lenient_decode) {
              r.reencoded = TransferEncodingName(r.changed_fields[0].signed_value) + "->" +
                            TransferEncodingName(r.changed_fields[0].current_value);
              r.changed_fields.clear();
            }
            if (r.changed_fields.empty()) r.status = PartStatus::kAppended;
            r.appended = x.appended;
            r.appended_length = x.appended_length;
          }
      // Or the signed content up to its closing lines, then new text, then
      // those lines: text inserted before them (an HTML footer before
      // </body>). The fewest closing lines kept that explain it win.
      const PartFields& sf = *it->second;
      for (size_t k = 1; r.status == PartStatus::kChanged && r.appended_length == 0 && k <= sf.heads.size(); ++k) {
        std::string_view tail = ClosingLines(sf.closing, k);
        uint64_t cut = static_cast<uint64_t>(sf.length) - tail.size();
        if (now->last_bytes.size() < tail.size() ||
            now->last_bytes.compare(now->last_bytes.size() - tail.size(), tail.size(), tail) != 0)
          continue;
        for (const auto& x : now->prefixes) {
          if (x.alg != alg || x.length != cut || x.digest.empty() || x.digest != sf.heads[k - 1]) continue;
          if (only_cte && !now->lenient_decode) {
            r.reencoded = TransferEncodingName(r.changed_fields[0].signed_value) + "->" +
                          TransferEncodingName(r.changed_fields[0].current_value);
            r.changed_fields.clear();
          }
          if (r.changed_fields.empty()) r.status = PartStatus::kInserted;
          r.appended_length = now->length - static_cast<uint64_t>(sf.length);
          r.appended =
              x.appended.substr(0, static_cast<size_t>(std::min<uint64_t>(x.appended.size(), r.appended_length)));
          r.inserted_before = std::string(tail);
          break;
        }
      }
    }
    parts->push_back(std::move(r));
  }
  for (size_t j = 0; j < current.size(); ++j)
    if (!used[j] && !current[j].container) added->push_back({current[j].path, current[j].content_type});

  // The tree: every signed path still there, as a leaf or a container as it
  // was, and no new ones; containers' own fields (the boundary) as signed.
  *tree_intact = true;
  if (!signed_fields) return;
  auto signed_leaf = [&](const std::string& path) {
    return std::any_of(signed_parts.begin(), signed_parts.end(), [&](const PartHash& p) { return p.path == path; });
  };
  for (const auto& p : *signed_fields) {
    const PartInfo* now = current_at(p.path);
    bool was_container = !signed_leaf(p.path);
    if (!now || now->container != was_container) {
      *tree_intact = false;
      continue;
    }
    if (!was_container) continue;  // leaves are reported above
    PartReport r{p.path,
                 now->content_type,
                 PartStatus::kSame,
                 "",
                 CompareFields(p.fields, now->header_fields, canon),
                 "",
                 "",
                 0,
                 "",
                 true};
    if (!r.changed_fields.empty()) {
      r.status = PartStatus::kChanged;
      parts->push_back(std::move(r));
    }
  }
  for (const auto& p : current)
    if (!fields_at.count(p.path)) *tree_intact = false;
}

}  // namespace mtas
