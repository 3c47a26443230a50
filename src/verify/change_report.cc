#include "verify/change_report.h"

#include <algorithm>
#include <cctype>

#include "common/ascii.h"

namespace mtas {
namespace {

std::string LowerName(std::string_view field) {
  std::string n(field.substr(0, field.find(':')));
  while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.pop_back();
  for (char& c : n) c = AsciiLower(c);
  return n;
}

std::string Canonical(Canon canon, std::string_view field) {
  return canon == Canon::kRelaxed ? CanonicalHeaderRelaxed(field) : NormalizeLineEnds(field);
}

}  // namespace

std::vector<HeaderReport> CompareHeaders(const std::vector<std::string>& signed_fields,
                                         const std::vector<HeaderField>& current, Canon canon) {
  std::vector<std::string> signed_names;  // of each signed field, lowercase
  std::vector<std::string> names;         // the same, once each, in order of first appearance
  for (const auto& s : signed_fields) {
    signed_names.push_back(LowerName(s));
    if (std::find(names.begin(), names.end(), signed_names.back()) == names.end()) names.push_back(signed_names.back());
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
    r.signed_value = *signed_here.front();
    r.name = std::string(r.signed_value.substr(0, r.signed_value.find(':')));
    if (current_here.empty()) {
      r.status = "removed";
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
      r.status = "same";
      out.push_back(std::move(r));
      continue;
    }
    std::vector<std::string> was, now;
    for (const std::string* s : signed_here) was.push_back(Canonical(canon, *s));
    for (const HeaderField* f : current_here) now.push_back(Canonical(canon, f->raw));
    std::sort(was.begin(), was.end());
    std::sort(now.begin(), now.end());
    if (was == now) {
      r.status = "same";
    } else {
      r.status = "changed";
      // Every signed instance still there, more now, and the one a reader
      // sees is new: a prepended field, the classic DKIM header attack.
      bool all_kept = std::includes(now.begin(), now.end(), was.begin(), was.end());
      r.added_above = all_kept && !std::binary_search(was.begin(), was.end(), Canonical(canon, r.current_value));
      // Show the signed instance the reader no longer sees.
      for (const std::string* s : signed_here)
        if (!std::binary_search(now.begin(), now.end(), Canonical(canon, *s))) {
          r.signed_value = *s;
          break;
        }
    }
    out.push_back(std::move(r));
  }
  return out;
}

void CompareParts(const std::vector<PartHash>& signed_parts, const std::vector<PartInfo>& current, DigestAlg alg,
                  std::vector<PartReport>* parts, std::vector<AddedPart>* added) {
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
  for (size_t i = 0; i < signed_parts.size(); ++i) {
    PartReport r{signed_parts[i].path, signed_parts[i].content_type, "", ""};
    if (match[i] >= 0) {
      const PartInfo& now = current[static_cast<size_t>(match[i])];
      r.status = now.path == r.path ? "same" : "moved";
      if (r.status == "moved") r.now_at = now.path;
    } else {
      bool path_exists = std::any_of(current.begin(), current.end(),
                                     [&](const PartInfo& p) { return !p.container && p.path == r.path; });
      r.status = path_exists ? "changed" : "removed";
      if (path_exists) {  // the changed part takes its place: it is not "added"
        for (size_t j = 0; j < current.size(); ++j)
          if (!used[j] && current[j].path == r.path) used[j] = true;
      }
    }
    parts->push_back(std::move(r));
  }
  for (size_t j = 0; j < current.size(); ++j)
    if (!used[j] && !current[j].container) added->push_back({current[j].path, current[j].content_type});
}

}  // namespace mtas
