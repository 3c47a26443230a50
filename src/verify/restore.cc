#include "verify/restore.h"

#include <algorithm>
#include <limits>

#include "carrier/carrier.h"
#include "common/ascii.h"
#include "mtas/canon.h"
#include "verify/change_report.h"

namespace mtas {
namespace {

// `text` (CRLF line ends, as signed attributes hold them) with `eol`.
std::string WithEol(std::string_view text, std::string_view eol) {
  if (eol == "\r\n") return std::string(text);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += eol;
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The tag a list put before a signed Subject ("[list] "), as readers show
// both; empty when the new Subject is not the signed one with a prefix.
std::string SubjectTag(std::string_view signed_field, std::string_view current_field) {
  auto shown = [](std::string_view f) { return DecodeUnstructured(f.substr(std::min(f.size(), f.find(':') + 1))); };
  auto was = shown(signed_field), now = shown(current_field);
  if (!was || !now) return "";
  auto trim = [](std::string s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::string w = trim(*was), n = trim(*now);
  if (w.empty() || n.size() <= w.size() || n.compare(n.size() - w.size(), w.size(), w) != 0) return "";
  std::string tag = n.substr(0, n.size() - w.size());
  // Only what lists write: one to three bracketed tags ("[ops] ",
  // "[External] "), 80 bytes at most. Other text put before a Subject is a
  // changed Subject, not a tag.
  if (tag.size() > 80) return "";
  size_t i = 0, tags = 0;
  while (i < tag.size()) {
    if (tag[i] != '[') return "";
    size_t close = tag.find(']', i);
    if (close == std::string::npos || close == i + 1 || ++tags > 3) return "";
    i = close + 1;
    while (i < tag.size() && (tag[i] == ' ' || tag[i] == '\t')) ++i;
  }
  return tag;
}

Edit HeaderEdit(const HeaderReport& h) {
  Edit e;
  e.where = h.name;
  e.signed_value = h.signed_value;
  e.added = h.current_value;
  if (h.status == HeaderStatus::kAdded) {
    e.kind = EditKind::kHeaderAdded;
  } else if (h.status == HeaderStatus::kRemoved) {
    e.kind = EditKind::kHeaderRemoved;
  } else if (EqualsIgnoreCase(h.name, "From")) {
    e.kind = EditKind::kFromRewritten;
  } else if (std::string tag = SubjectTag(h.signed_value, h.current_value);
             EqualsIgnoreCase(h.name, "Subject") && !tag.empty()) {
    e.kind = EditKind::kSubjectTagged;
    e.added = tag;
  } else {
    e.kind = EditKind::kHeaderChanged;
  }
  return e;
}

// A Content-Transfer-Encoding that changed between two encodings readers
// know is a re-encoding, not an edit a reader sees.
bool IsReencoding(std::string_view name, const std::string& was, const std::string& now) {
  return EqualsIgnoreCase(name, "Content-Transfer-Encoding") && !TransferEncodingName(was).empty() &&
         !TransferEncodingName(now).empty();
}

const std::string* FindField(const std::vector<std::string>& fields, std::string_view lower_name) {
  for (const auto& f : fields)
    if (FieldNameLower(f) == lower_name) return &f;
  return nullptr;
}

// A text leaf's decoded content up to `length` bytes of its normalized form
// (what its part digest covers; see the body scanner's LeafPipeline), with
// its own line ends kept: normalizing counts every CRLF, bare LF and bare CR
// as a CRLF, and adds one to a last line without.
struct LeafText {
  std::string text;
  std::string line_end = "\r\n";  // the first one the content uses
  bool ends_with_eol = false;     // its raw content ends with a line end
};
Result<LeafText> DecodedPrefix(MessageSource& source, const ScannedMessage& now, const PartInfo& part,
                               const std::string& cte_field, uint64_t length) {
  if (part.content_end - part.content_begin > kMaxRestoredPart || length > kMaxRestoredPart)
    return Status::Unsupported("part " + part.path + " is too large to rebuild");
  RangeSource range(source, now.body_offset + part.content_begin, now.body_offset + part.content_end);
  std::string_view value = std::string_view(cte_field).substr(std::min(cte_field.size(), cte_field.find(':') + 1));
  auto decoder = MakeDecoder(ParseTransferEncoding(value));
  StringSink decoded;
  MTAS_RETURN_IF_ERROR(range.Rewind());
  char last = 0;
  MTAS_RETURN_IF_ERROR(ForEachChunk(range, [&](const char* p, size_t n) {
    decoder->Update(p, n, decoded);
    if (n) last = p[n - 1];
  }));
  decoder->Finish(decoded);
  const std::string& raw = decoded.out;
  LeafText out;
  out.ends_with_eol = last == '\n' || last == '\r';
  if (size_t e = raw.find_first_of("\r\n"); e != std::string::npos)
    out.line_end = raw.compare(e, 2, "\r\n") == 0 ? "\r\n" : raw.substr(e, 1);
  uint64_t count = 0;
  size_t i = 0;
  while (i < raw.size() && count < length) {
    size_t step = raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n' ? 2 : 1;
    count += raw[i] == '\r' || raw[i] == '\n' ? 2u : 1u;
    i += step;
  }
  out.text = raw.substr(0, i);
  if (i == raw.size() && count + 2 == length) {  // the line end normalizing added to a last line
    out.text += out.line_end;
    count += 2;
  }
  if (count != length) return Status::Unsupported("part " + part.path + " is shorter than signed");
  return out;
}

// `text` with each `from` line end written as `to`.
std::string ConvertLineEnds(const std::string& text, std::string_view from, std::string_view to) {
  if (from == to) return text;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size() - 1;
    } else {
      out += text[i];
    }
  }
  return out;
}

// `text` (line ends as `line_end`) in transfer encoding `encoding`, in a
// message whose line end is `eol`: base64 keeps the content's own line
// ends; quoted-printable writes them as hard line breaks, and the
// identity encodings as the message's lines.
Result<std::string> Encode(const std::string& text, std::string_view line_end, const std::string& encoding,
                           std::string_view eol) {
  if (encoding == "base64") return Base64Encode(text, 76, eol) + std::string(eol);
  if (encoding.empty()) return Status::Unsupported("unknown transfer encoding");
  if (encoding == "quoted-printable") return QuotedPrintableEncode(ConvertLineEnds(text, line_end, "\r\n"), eol);
  return ConvertLineEnds(text, line_end, eol);
}

class Planner {
 public:
  Planner(MessageSource& source, const ScannedMessage& now, const HopToRestore& hop)
      : source_(source), now_(now), hop_(hop), eol_(now.eol) {}

  Result<RestorePlan> Run() {
    // A re-encoded single part too large to rebuild keeps its encoding,
    // and so its Content-Transfer-Encoding field.
    if (!now_.body.multipart && !now_.body.parts.empty())
      for (const PartReport& p : hop_.report.parts)
        if (p.path == "1" && p.status == PartStatus::kReencoded && TooLarge(now_.body.parts[0]))
          keep_top_encoding_ = true;
    wrap_ = FindWrap();
    MTAS_RETURN_IF_ERROR(PlanHeader());
    MTAS_RETURN_IF_ERROR(PlanCarriers());
    if (wrap_) {
      MTAS_RETURN_IF_ERROR(PlanUnwrap());
    } else {
      for (const PartReport& p : hop_.report.parts) MTAS_RETURN_IF_ERROR(PlanPart(p));
      for (const AddedPart& a : hop_.report.added_parts) MTAS_RETURN_IF_ERROR(PlanAddedPart(a));
    }
    std::stable_sort(plan_.replacements.begin(), plan_.replacements.end(),
                     [](const Replacement& a, const Replacement& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < plan_.replacements.size(); ++i)
      if (plan_.replacements[i].begin < plan_.replacements[i - 1].end)
        return Status::Unsupported("edits overlap; the original cannot be rebuilt");
    return std::move(plan_);
  }

 private:
  static bool TooLarge(const PartInfo& p) { return p.content_end - p.content_begin > kMaxRestoredPart; }

  // Fields put above this hop's tracking field came later (every hop
  // prepends). Each signed name whose instances are not byte for byte the
  // signed ones gets the signed instances back, in the place of the first
  // current one (or at the end of the header when none is left).
  Status PlanHeader() {
    if (hop_.tracking && hop_.tracking->offset > 0) {
      header_from_ = hop_.tracking->offset;
      plan_.replacements.push_back({0, header_from_, ""});
    }
    uint64_t header_end = 0;
    for (const auto& f : now_.fields) header_end = std::max(header_end, f.offset + f.length);
    for (const HeaderReport& h : hop_.report.headers) {
      std::string lower = FieldNameLower(h.name);
      if (keep_top_encoding_ && lower == "content-transfer-encoding") continue;
      std::vector<const std::string*> was;
      std::vector<const HeaderField*> now;
      for (const auto& s : hop_.sig.attrs.headers)
        if (FieldNameLower(s) == lower) was.push_back(&s);
      for (const auto& f : now_.fields)
        if (f.offset >= header_from_ && f.NameIs(lower)) now.push_back(&f);
      bool bytes_same = was.size() == now.size();
      for (size_t k = 0; bytes_same && k < was.size(); ++k)
        bytes_same = HeaderFieldsEqual(Canon::kSimple, *was[k], now[k]->raw);
      if (bytes_same) continue;
      std::string signed_text;
      for (const std::string* s : was) signed_text += WithEol(*s, eol_) + std::string(eol_);
      for (size_t k = 0; k < now.size(); ++k) {
        if (now[k]->truncated) return Status::Unsupported(h.name + " is longer than this verifier keeps");
        plan_.replacements.push_back({now[k]->offset, now[k]->offset + now[k]->length, k == 0 ? signed_text : ""});
      }
      if (now.empty()) plan_.replacements.push_back({header_end, header_end, signed_text});
      // Unwrapping moves the rendering fields back from part 1: no edit.
      bool moved_by_wrap = wrap_ && (IsRenderingField(lower) || lower == "mime-version");
      if (h.status != HeaderStatus::kSame && h.status != HeaderStatus::kReencoded &&
          !IsReencoding(h.name, h.signed_value, h.current_value) && !moved_by_wrap)
        plan_.edits.push_back(HeaderEdit(h));
    }
    return Status::Ok();
  }

  // Later hops' tracking fields and carriers go: they were not there when
  // this hop signed.
  Status PlanCarriers() {
    auto later = [&](const std::string& msgid) {
      return std::find(hop_.later_msgids.begin(), hop_.later_msgids.end(), msgid) != hop_.later_msgids.end();
    };
    for (const auto& f : now_.fields) {
      if (f.offset < header_from_) continue;
      std::string msgid;
      if (f.NameIs(kTrackingName)) {
        if (auto t = ParseTracking(f.value()); t.ok()) msgid = t->msgid;
      } else if (f.NameIs(kSignatureFieldName)) {
        msgid = SignatureFieldMsgid(f.value());
      }
      if (!msgid.empty() && later(msgid)) plan_.replacements.push_back({f.offset, f.offset + f.length, ""});
    }
    for (const auto& e : now_.body.entities)
      if (later(e.msgid))
        plan_.replacements.push_back({now_.body_offset + e.offset, now_.body_offset + e.end_offset, ""});
    return Status::Ok();
  }

  static bool IsRenderingField(const std::string& lower) {
    return lower == "content-type" || lower == "content-transfer-encoding" || lower == "content-disposition";
  }

  // The signed message put whole inside a new multipart as its part 1,
  // other parts after it (a list's footer around an HTML or
  // multipart/alternative message): part 1 now is the signed top-level
  // body (the signed leaf, or a container stating the signed Content-Type
  // with every signed part below it). nullptr when it is not so.
  const PartInfo* FindWrap() const {
    if (!now_.body.multipart) return nullptr;
    const PartInfo* one = Current("1");
    const std::string* signed_ct = FindField(hop_.sig.attrs.headers, "content-type");
    if (!one || one->content_end <= one->content_begin) return nullptr;
    bool signed_multipart = signed_ct && ContentType::Parse(signed_ct->substr(signed_ct->find(':') + 1)).IsMultipart();
    if (!signed_multipart) {
      if (one->container) return nullptr;
      for (const PartReport& p : hop_.report.parts)
        if (p.path == "1" && p.content_intact && hop_.sig.attrs.part_fields.size() == 1) return one;
      return nullptr;
    }
    if (!one->container) return nullptr;
    const std::string* ct = FindField(one->header_fields, "content-type");
    if (!ct || !RenderingFieldsEqual(hop_.report.canon, *ct, *signed_ct)) return nullptr;
    for (const auto& f : hop_.sig.attrs.part_fields)
      if (!Current("1." + f.path)) return nullptr;
    return one;
  }

  // The body becomes part 1's content again (the wrapper's preamble, its
  // other parts and its epilogue go); parts added inside it go too.
  Status PlanUnwrap() {
    const PartInfo& one = *wrap_;
    uint64_t body_end = now_.body_offset + now_.body.body_length;
    plan_.replacements.push_back({now_.body_offset, now_.body_offset + one.content_begin, ""});
    std::string tail;
    if (!one.container) {  // a single body ends with its line end; before a delimiter, the leaf did not
      RangeSource last(source_, now_.body_offset + one.content_end - 1, now_.body_offset + one.content_end);
      char c = 0;
      MTAS_RETURN_IF_ERROR(last.Rewind());
      auto n = last.Read(&c, 1);
      if (!n.ok()) return n.status();
      if (c != '\n') tail = eol_;
    }
    plan_.replacements.push_back({now_.body_offset + one.content_end, body_end, tail});
    plan_.edits.push_back({EditKind::kWrapped, "1", one.content_type, ""});
    for (const AddedPart& a : hop_.report.added_parts) {
      if (a.path.rfind("1.", 0) == 0) {
        MTAS_RETURN_IF_ERROR(PlanAddedPart(a));
      } else {
        plan_.edits.push_back({EditKind::kPartAdded, a.path, a.content_type, ""});
      }
    }
    return Status::Ok();
  }

  const PartInfo* Current(const std::string& path) const {
    for (const auto& p : now_.body.parts)
      if (p.path == path) return &p;
    return nullptr;
  }

  const PartFields* SignedFields(const std::string& path) const {
    for (const auto& p : hop_.sig.attrs.part_fields)
      if (p.path == path) return &p;
    return nullptr;
  }

  // One signed leaf: its fields as signed (bytes), its text without what
  // was appended, its content in the signed transfer encoding.
  Status PlanPart(const PartReport& p) {
    if (p.status == PartStatus::kMoved) return Status::Ok();  // the rebuilt tree decides
    if (p.status == PartStatus::kRemoved) return Status::Unsupported("part " + p.path + " was removed");
    const PartInfo* now = Current(p.path);
    bool grew = p.appended_length > 0 || p.status == PartStatus::kAppended || p.status == PartStatus::kInserted;
    bool reencoded = !p.reencoded.empty();
    if (!now || now->container || (!grew && !p.content_intact))
      return Status::Unsupported("part " + p.path + " changed: its signed content is not in the message");
    const PartFields* signed_fields = SignedFields(p.path);
    if (!signed_fields) return Status::Unsupported("part " + p.path + " has no signed fields");
    bool single = !now_.body.multipart;
    bool keep_encoding = reencoded && !grew && TooLarge(*now);
    if (!single && !keep_encoding) {  // a single part's fields are the message's (PlanHeader)
      bool fields_same = signed_fields->fields.size() == now->header_fields.size();
      for (size_t k = 0; fields_same && k < now->header_fields.size(); ++k)
        fields_same = HeaderFieldsEqual(Canon::kSimple, signed_fields->fields[k], now->header_fields[k]);
      if (!fields_same) {
        std::string block;
        for (const auto& f : signed_fields->fields) block += WithEol(f, eol_) + std::string(eol_);
        block += eol_;
        plan_.replacements.push_back(
            {now_.body_offset + now->header_begin, now_.body_offset + now->content_begin, std::move(block)});
      }
      for (const auto& c : p.changed_fields)
        if (!IsReencoding(c.name, c.signed_value, c.current_value))
          plan_.edits.push_back({EditKind::kPartFieldsChanged, p.path + " " + c.name, c.current_value, c.signed_value});
    }
    if ((!grew && !reencoded) || keep_encoding) return Status::Ok();
    // The signed content back: the first signed-length bytes of the decoded
    // text, in the transfer encoding the part was signed in.
    const std::vector<std::string>& now_fields = single ? top_fields() : now->header_fields;
    const std::vector<std::string>& was_fields = single ? hop_.sig.attrs.headers : signed_fields->fields;
    const std::string* current_cte = FindField(now_fields, "content-transfer-encoding");
    const std::string* signed_cte = FindField(was_fields, "content-transfer-encoding");
    // Inserted text: the signed content up to its closing lines, then them.
    uint64_t keep = static_cast<uint64_t>(signed_fields->length) - p.inserted_before.size();
    auto text = DecodedPrefix(source_, now_, *now, current_cte ? *current_cte : "", keep);
    if (!text.ok()) return text.status();
    text->text += WithEol(p.inserted_before, text->line_end);
    for (int64_t i = 0; i < signed_fields->trailing_empty_lines && i < 1000; ++i) text->text += text->line_end;
    auto encoded = Encode(text->text, text->line_end, TransferEncodingName(signed_cte ? *signed_cte : ""), eol_);
    if (!encoded.ok()) return Status::Unsupported("part " + p.path + ": " + encoded.status().message());
    // A multipart leaf's last line end belongs to the delimiter after it;
    // whether the text had one of its own before it, its digest does not
    // say: the leaf keeps what it has now.
    if (!single && !text->ends_with_eol && encoded->size() >= eol_.size() &&
        encoded->compare(encoded->size() - eol_.size(), eol_.size(), eol_) == 0)
      encoded->resize(encoded->size() - eol_.size());
    plan_.replacements.push_back(
        {now_.body_offset + now->content_begin, now_.body_offset + now->content_end, std::move(*encoded)});
    if (grew)
      plan_.edits.push_back(
          {p.inserted_before.empty() ? EditKind::kTextAppended : EditKind::kTextInserted, p.path, p.appended, ""});
    return Status::Ok();
  }

  // The message's own fields below this hop's tracking field, raw.
  const std::vector<std::string>& top_fields() {
    if (top_fields_.empty())
      for (const auto& f : now_.fields)
        if (f.offset >= header_from_) top_fields_.push_back(f.raw);
    return top_fields_;
  }

  Status PlanAddedPart(const AddedPart& a) {
    const PartInfo* now = Current(a.path);
    if (!now || !now_.body.multipart || now->container)
      return Status::Unsupported("part " + a.path + " was added where it cannot be taken out");
    plan_.replacements.push_back({now_.body_offset + now->delimiter_begin, now_.body_offset + now->content_end, ""});
    plan_.edits.push_back({EditKind::kPartAdded, a.path, a.content_type, ""});
    return Status::Ok();
  }

  MessageSource& source_;
  const ScannedMessage& now_;
  const HopToRestore& hop_;
  std::string_view eol_;
  uint64_t header_from_ = 0;
  const PartInfo* wrap_ = nullptr;  // part 1, when it holds the signed body (FindWrap)
  bool keep_top_encoding_ = false;
  std::vector<std::string> top_fields_;
  RestorePlan plan_;
};

}  // namespace

std::string_view EditName(EditKind k) {
  switch (k) {
    case EditKind::kTextAppended:
      return "text-appended";
    case EditKind::kTextInserted:
      return "text-inserted";
    case EditKind::kPartAdded:
      return "part-added";
    case EditKind::kSubjectTagged:
      return "subject-tagged";
    case EditKind::kFromRewritten:
      return "from-rewritten";
    case EditKind::kHeaderChanged:
      return "header-changed";
    case EditKind::kHeaderAdded:
      return "header-added";
    case EditKind::kHeaderRemoved:
      return "header-removed";
    case EditKind::kPartFieldsChanged:
      return "part-fields-changed";
    case EditKind::kWrapped:
      return "wrapped";
  }
  return "header-changed";
}

bool IsAddition(EditKind k) {
  return k == EditKind::kTextAppended || k == EditKind::kTextInserted || k == EditKind::kPartAdded ||
         k == EditKind::kSubjectTagged || k == EditKind::kWrapped;
}

Result<RestorePlan> PlanRestore(MessageSource& source, const ScannedMessage& now, const HopToRestore& hop) {
  return Planner(source, now, hop).Run();
}

Status RestoredSource::Rewind() {
  MTAS_RETURN_IF_ERROR(base_.Rewind());
  next_ = 0;
  base_pos_ = 0;
  literal_pos_ = 0;
  in_literal_ = false;
  return Status::Ok();
}

Result<size_t> RestoredSource::ReadBase(char* buf, size_t len) {
  auto n = base_.Read(buf, len);
  if (n.ok()) base_pos_ += *n;
  return n;
}

Result<size_t> RestoredSource::Read(char* buf, size_t len) {
  while (len > 0) {
    if (in_literal_) {
      const Replacement& r = replacements_[next_];
      if (literal_pos_ < r.bytes.size()) {
        size_t n = std::min(len, r.bytes.size() - literal_pos_);
        std::copy_n(r.bytes.data() + literal_pos_, n, buf);
        literal_pos_ += n;
        return n;
      }
      char skip[16 * 1024];  // the replaced base bytes
      while (base_pos_ < r.end) {
        auto n = ReadBase(skip, static_cast<size_t>(std::min<uint64_t>(sizeof skip, r.end - base_pos_)));
        if (!n.ok()) return n.status();
        if (*n == 0) break;
      }
      in_literal_ = false;
      ++next_;
      continue;
    }
    uint64_t target = next_ < replacements_.size() ? replacements_[next_].begin : std::numeric_limits<uint64_t>::max();
    if (base_pos_ >= target) {
      in_literal_ = true;
      literal_pos_ = 0;
      continue;
    }
    auto n = ReadBase(buf, static_cast<size_t>(std::min<uint64_t>(len, target - base_pos_)));
    if (!n.ok()) return n.status();
    if (*n > 0) return *n;
    if (next_ >= replacements_.size()) return size_t{0};
    base_pos_ = target;  // the base ended early: what remains are insertions
  }
  return size_t{0};
}

}  // namespace mtas
