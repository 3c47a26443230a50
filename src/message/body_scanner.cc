// The streaming body scanner: one pass over the body bytes that
//  - feeds the canonicalizers whose digests the signature covers,
//  - walks the MIME tree (RFC 2046 §5.1) and hashes each decoded leaf part,
//  - finds the postal-data entities in the top-level epilogue (spec §2.2) and
//    takes a snapshot of every content digest where each one starts.
//
// Three stages: the line framer (message/line_framer.h) cuts the bytes into
// line segments without copying; the MIME walker here (BodyScanner::Impl)
// classifies them and routes content to the canonicalizers and the leaf
// pipelines; the postal-data entity reader (message/postal_entity_reader.h)
// reads the entities it finds in the top-level epilogue.
#include <array>
#include <cstring>
#include <system_error>

#include "common/background_sink.h"
#include "message/line_framer.h"
#include "message/postal_entity_reader.h"
#include "mtas/digest.h"
#include "mtas/limits.h"
#include "mtas/message.h"

namespace mtas {
namespace {

// A coalesced run is handed on once it is this long, so that with a second
// thread the two streams (canonical body, parts) alternate in slices and
// overlap, even when the caller writes the whole message at once.
constexpr size_t kMaxRun = 64 * 1024;
// Entities indexed: each holds a digest snapshot, so crafted input must not
// make their number unbounded. Twice the signatures a verifier examines.
constexpr size_t kMaxEntities = 2 * limits::kMaxSignatures;

class FanoutSink final : public ByteSink {
 public:
  explicit FanoutSink(std::vector<Hasher>* hashers) : hashers_(hashers) {}
  void Write(const char* p, size_t n) override {
    for (auto& h : *hashers_) h.Update(p, n);
  }

 private:
  std::vector<Hasher>* hashers_;
};

class CanonStage final : public ByteSink {
 public:
  CanonStage(BodyCanonicalizer* c, ByteSink* next) : c_(c), next_(next) {}
  void Write(const char* p, size_t n) override { c_->Update(p, n, *next_); }

 private:
  BodyCanonicalizer* c_;
  ByteSink* next_;
};

PartInfo NewPart(std::string path, std::string content_type, bool container, std::vector<std::string> fields) {
  PartInfo p;
  p.path = std::move(path);
  p.content_type = std::move(content_type);
  p.container = container;
  p.header_fields = std::move(fields);
  return p;
}

// The closing lines of a leaf's digested content and, for k = 1..n, the
// digest of the content without its last k lines (PartInfo::closing,
// heads), from `base` (the digest of everything before `held`) and `held`
// (the last bytes of the content, or all of it). A line cut at the front of
// `held` is not whole, and with all of the content in `held` its first line
// stays out too: something must come before the closing lines.
void DescribeClosing(const Hasher& base, std::string_view held, PartInfo& part) {
  std::vector<size_t> starts;  // line starts inside `held`, after its first byte
  for (size_t i = 1; i < held.size(); ++i)
    if (held[i - 1] == '\n') starts.push_back(i);
  if (held.empty() || held.back() != '\n') return;
  size_t n = std::min<size_t>(kMaxClosingLines, starts.size());
  if (n == 0) return;
  Hasher h = base;
  size_t at = 0;
  part.heads.assign(n, "");
  for (size_t k = n; k >= 1; --k) {
    size_t cut = starts[starts.size() - k];
    h.Update(held.data() + at, cut - at);
    at = cut;
    part.heads[k - 1] = Hasher(h).Finish();
  }
  part.closing = std::string(held.substr(starts[starts.size() - n]));
}

// Where a leaf's digested bytes go: its hashers, a count, the last bytes
// (kMaxClosingBytes), and the prefix digests and appended text a verifier
// asked for. With `closing_alg` (signing a text part) the hashers lag
// kMaxClosingBytes behind, so that the digests without the closing lines
// can be finished from them at the end: still one pass over each byte.
class PartSink final : public ByteSink {
 public:
  explicit PartSink(std::vector<Hasher>* hashers) : hashers_(hashers) {}
  void AddPrefix(const PrefixRequest& r) { prefixes_.push_back({r, Hasher(r.alg), {}}); }
  void TrackClosing(DigestAlg alg) { closing_alg_ = alg; }
  // Keep the last bytes (PartInfo::last_bytes): text parts only, the only
  // ones whose closing lines are signed.
  void KeepTail() { keep_tail_ = true; }
  void Write(const char* p, size_t n) override {
    if (closing_alg_) {
      size_t total = tail_.size() + n;
      if (total > kMaxClosingBytes) {
        size_t flush = total - kMaxClosingBytes, from_tail = std::min(flush, tail_.size());
        for (auto& h : *hashers_) {
          h.Update(tail_.data(), from_tail);
          h.Update(p, flush - from_tail);
        }
        tail_.erase(0, from_tail);
        tail_.append(p + (flush - from_tail), n - (flush - from_tail));
      } else {
        tail_.append(p, n);
      }
    } else {
      for (auto& h : *hashers_) h.Update(p, n);
      if (keep_tail_ && n >= kMaxClosingBytes) {
        tail_.assign(p + n - kMaxClosingBytes, kMaxClosingBytes);
      } else if (keep_tail_) {
        tail_.append(p, n);
        if (tail_.size() > kMaxClosingBytes) tail_.erase(0, tail_.size() - kMaxClosingBytes);
      }
    }
    for (auto& x : prefixes_) {
      uint64_t in_prefix = count_ < x.request.length ? std::min<uint64_t>(n, x.request.length - count_) : 0;
      if (in_prefix) x.hasher.Update(p, static_cast<size_t>(in_prefix));
      size_t rest = n - static_cast<size_t>(in_prefix);
      size_t take = std::min(rest, kMaxAppendedShown - x.appended.size());
      x.appended.append(p + in_prefix, take);
    }
    count_ += n;
  }
  // Before the hashers finish: the closing lines, and the lagging bytes.
  void Flush(PartInfo& part) {
    if (!closing_alg_) return;
    for (auto& h : *hashers_)
      if (h.alg() == *closing_alg_) DescribeClosing(h, tail_, part);
    for (auto& h : *hashers_) h.Update(tail_.data(), tail_.size());
    closing_alg_.reset();
  }
  uint64_t count() const { return count_; }
  void Describe(PartInfo& part) {
    part.last_bytes = tail_;
    for (auto& x : prefixes_) {
      PartInfo::Prefix out{x.request.length, x.request.alg, "", std::move(x.appended), 0};
      if (count_ >= x.request.length) {
        out.digest = x.hasher.Finish();
        out.appended_length = count_ - x.request.length;
      }
      part.prefixes.push_back(std::move(out));
    }
    prefixes_.clear();
  }

 private:
  struct Pending {
    PrefixRequest request;
    Hasher hasher;
    std::string appended;
  };
  std::vector<Hasher>* hashers_;
  std::vector<Pending> prefixes_;
  uint64_t count_ = 0;
  std::optional<DigestAlg> closing_alg_;
  bool keep_tail_ = false;
  std::string tail_;  // the last kMaxClosingBytes digested bytes (not yet hashed, with closing_alg_)
};

// Decoding and hashing of one leaf part (spec §3.1 "part digests").
class LeafPipeline {
 public:
  LeafPipeline(size_t part_index, const ContentType& ct, TransferEncoding enc, const std::vector<DigestAlg>& algs,
               const std::vector<PrefixRequest>& prefixes, const std::string& path,
               std::optional<DigestAlg> closing_alg)
      : part_index_(part_index), decoder_(MakeDecoder(enc)), sink_(&hashers_) {
    for (const auto& r : prefixes)
      if (r.path == path) sink_.AddPrefix(r);
    if (ct.type == "text") sink_.KeepTail();
    if (closing_alg && ct.type == "text") sink_.TrackClosing(*closing_alg);
    // text/* and line-oriented 7bit/8bit content: line ends become CRLF and
    // trailing empty lines go, so relays' LF/CRLF changes are not changes.
    if (ct.type == "text" || enc == TransferEncoding::kIdentity) normalizer_.emplace(Canon::kSimple);
    identity_ = enc == TransferEncoding::kIdentity || enc == TransferEncoding::kBinary;
    for (DigestAlg a : algs) hashers_.emplace_back(a);
    if (normalizer_) stage_.emplace(&*normalizer_, &sink_);
  }
  void Update(const char* p, size_t n) { decoder_->Update(p, n, Out()); }
  size_t part_index() const { return part_index_; }
  void Finish(std::vector<PartInfo>& parts) {
    decoder_->Finish(Out());
    if (normalizer_) normalizer_->Finish(sink_);
    sink_.Flush(parts[part_index_]);
    for (auto& h : hashers_) parts[part_index_].digests[static_cast<size_t>(h.alg())] = h.Finish();
  }
  // After Finish or FinishUnhashed: what the part's report needs besides digests.
  void Describe(std::vector<PartInfo>& parts) {
    parts[part_index_].trailing_empty_lines = normalizer_ ? normalizer_->dropped_empty_lines() : 0;
    parts[part_index_].lenient_decode = decoder_->lenient();
    parts[part_index_].length = sink_.count();
    sink_.Describe(parts[part_index_]);
  }
  // When nothing has been hashed yet (content passed through as it is, and
  // all of its normalized form still held): ends the part without hashing
  // into `*content`, leaving its digests to the caller. False otherwise.
  bool FinishUnhashed(std::string* content) {
    if (!identity_ || !normalizer_ || normalizer_->flushed()) return false;
    StringSink held;
    decoder_->Finish(*stage_);
    normalizer_->Finish(held);
    *content = std::move(held.out);
    return true;
  }

 private:
  ByteSink& Out() { return stage_ ? static_cast<ByteSink&>(*stage_) : sink_; }
  size_t part_index_;
  std::unique_ptr<Decoder> decoder_;
  std::optional<BodyCanonicalizer> normalizer_;
  std::vector<Hasher> hashers_;
  PartSink sink_;
  std::optional<CanonStage> stage_;
  bool identity_ = false;  // the decoder passes bytes through
};

}  // namespace

BodyScanner::Options BodyOptionsFor(const std::vector<HeaderField>& fields) {
  BodyScanner::Options o;
  o.top_ambiguity = MimeFieldAmbiguity(fields);
  bool have_ct = false, have_cte = false;
  for (const auto& f : fields) {
    if (!have_ct && f.NameIs("Content-Type")) {
      o.top = ContentType::Parse(f.value());
      have_ct = true;
    } else if (!have_cte && f.NameIs("Content-Transfer-Encoding")) {
      o.top_encoding = ParseTransferEncoding(f.value());
      have_cte = true;
    }
  }
  return o;
}

// The MIME walker: what each line segment is, and where its bytes go.
struct BodyScanner::Impl final : LineFramer::Consumer {
  enum class State {
    kSingle,         // non-multipart body: all of it is part 1
    kPreamble,       // inside frames.back(), before its first delimiter
    kPartHeader,     // header block of a child part
    kPartBody,       // body of a leaf part
    kInnerEpilogue,  // after a nested multipart closed, until the parent's next delimiter
    kTopEpilogue,    // after the top-level closing delimiter
    kEntity,         // a postal-data entity, read by `entity`
    kAfterEntity,    // after an entity's closing delimiter
  };
  struct Frame {
    std::string boundary;
    std::string path;
    int children = 0;
    bool digest = false;      // multipart/digest: children default to message/rfc822
    int last_container = -1;  // index into index.parts of its latest child, when a container
  };
  struct CanonRun {
    BodyCanonicalizer canonicalizer;
    std::vector<Hasher> hashers;
    std::vector<size_t> spec_index;  // hashers[j] computes content_specs[spec_index[j]]
  };

  // The canonical-body stream: every run's canonicalizer and hashers.
  class RunsSink final : public ByteSink {
   public:
    explicit RunsSink(std::vector<CanonRun>* runs) : runs_(runs) {}
    void Write(const char* p, size_t n) override {
      for (auto& r : *runs_) {
        FanoutSink sink(&r.hashers);
        r.canonicalizer.Update(p, n, sink);
      }
    }

   private:
    std::vector<CanonRun>* runs_;
  };

  Options opt;
  BodyIndex index;
  std::vector<CanonRun> runs;
  RunsSink runs_sink{&runs};
  // Set once the body passes opt.parallel_from bytes: then only the worker
  // touches `runs`, until Drain.
  std::optional<BackgroundSink> background;

  // Framing.
  LineFramer framer{this};
  uint64_t offset = 0;
  char last_byte = '\n';
  size_t prev_eol_len = 0;  // the line end of the line before the current one
  // Where the part a delimiter opens begins: the line end before the
  // delimiter (it belongs to the delimiter), and the first header byte.
  uint64_t opening_delimiter_at = 0, opening_header_at = 0;

  // Coalesced byte runs (valid only within one Write call).
  const char* canon_ptr = nullptr;
  size_t canon_len = 0;
  const char* leaf_ptr = nullptr;
  size_t leaf_len = 0;
  size_t leaf_held = 0;     // line end at the end of the leaf run, held back
  std::string pending_eol;  // held line end of a flushed leaf run

  // Bare CR tracking (TrackBareCr).
  bool cr_active = false;
  bool cr_overflow = false;
  std::string cr_line;
  uint64_t cr_line_at = 0;  // body offset where the line began

  // MIME state.
  State state = State::kSingle;
  std::vector<Frame> frames;
  std::string part_header;
  std::string part_path;
  std::optional<LeafPipeline> leaf;

  PostalEntityReader entity;

  explicit Impl(Options o) : opt(std::move(o)) {
    for (size_t i = 0; i < opt.content_specs.size(); ++i) {
      const auto& spec = opt.content_specs[i];
      CanonRun* run = nullptr;
      for (auto& r : runs)
        if (r.canonicalizer.canon() == spec.canon) run = &r;
      if (!run) run = &runs.emplace_back(CanonRun{BodyCanonicalizer(spec.canon), {}, {}});
      run->hashers.emplace_back(spec.alg);
      run->spec_index.push_back(i);
    }
    const ContentType& top = opt.top;
    index.ambiguity = opt.top_ambiguity;
    std::string boundary = top.Param("boundary");
    if (top.IsMultipart() && !boundary.empty() && boundary.size() <= 200) {
      index.multipart = true;
      frames.push_back(Frame{boundary, "", 0, top.subtype == "digest"});
      state = State::kPreamble;
    } else {
      if (top.IsMultipart()) index.structure_error = "top-level multipart has no usable boundary";
      index.parts.push_back(NewPart("1", top.MimeType(), false, {}));
      leaf.emplace(0, top, opt.top_encoding, opt.part_algs, opt.prefixes, "1", opt.closing_alg);
    }
  }

  void Error(std::string e) {
    if (index.structure_error.empty()) index.structure_error = std::move(e);
  }
  // A limit that leaves structure readers show unindexed.
  void LimitHit(std::string e) {
    if (index.limit_hit.empty()) index.limit_hit = e;
    Error(std::move(e));
  }
  void Ambiguous(std::string e) {
    if (index.ambiguity.empty()) index.ambiguity = std::move(e);
  }

  // ---- coalesced runs ----
  void FeedCanon(const char* p, size_t n) {
    if (runs.empty()) return;
    if (canon_len && canon_ptr + canon_len == p) {
      canon_len += n;
    } else {
      FlushCanon();
      canon_ptr = p;
      canon_len = n;
    }
    if (canon_len >= kMaxRun) FlushCanon();
  }
  void FlushCanon() {
    if (!canon_len) return;
    if (!background && opt.parallel_from && offset >= opt.parallel_from) {
      try {
        background.emplace(&runs_sink);
      } catch (const std::system_error&) {
        opt.parallel_from = 0;  // no thread to be had: stay on this one
      }
    }
    if (background)
      background->Write(canon_ptr, canon_len);
    else
      runs_sink.Write(canon_ptr, canon_len);
    canon_len = 0;
  }
  void FeedLeaf(const char* p, size_t n, size_t eol_len) {
    if (!leaf) return;
    if (leaf_len && leaf_ptr + leaf_len == p) {
      leaf_len += n;
    } else {
      FlushLeaf();
      leaf_ptr = p;
      leaf_len = n;
    }
    leaf_held = eol_len;
    if (leaf_len >= kMaxRun) FlushLeaf();
  }
  void FlushLeaf() {
    if (!leaf_len) return;
    if (!pending_eol.empty()) leaf->Update(pending_eol.data(), pending_eol.size());
    leaf->Update(leaf_ptr, leaf_len - leaf_held);
    pending_eol.assign(leaf_ptr + leaf_len - leaf_held, leaf_held);
    leaf_len = 0;
  }
  // Ends the current leaf part. With `unhashed`, a part whose content is
  // still wholly held is left unhashed: its content goes to *unhashed and
  // the result is true (FinalDigests then computes its digests).
  bool EndLeaf(bool keep_last_eol, std::string* unhashed = nullptr) {
    if (!leaf) return false;
    FlushLeaf();
    if (keep_last_eol && !pending_eol.empty()) leaf->Update(pending_eol.data(), pending_eol.size());
    pending_eol.clear();
    bool held = unhashed && leaf->FinishUnhashed(unhashed);
    if (!held) leaf->Finish(index.parts);
    leaf->Describe(index.parts);
    leaf.reset();
    return held;
  }
  void FlushRuns() {
    FlushCanon();
    FlushLeaf();
  }

  std::vector<std::string> SnapshotDigests() {
    FlushCanon();
    if (background) background->Drain();
    std::vector<std::string> out(opt.content_specs.size());
    for (auto& r : runs) {
      BodyCanonicalizer c = r.canonicalizer;
      std::vector<Hasher> hs = r.hashers;
      FanoutSink sink(&hs);
      c.Finish(sink);
      for (size_t j = 0; j < hs.size(); ++j) out[r.spec_index[j]] = hs[j].Finish();
    }
    return out;
  }

  // The canonical-body digests at the end of the body, the canonicalizers
  // finished in place. A single-part body's part digest covers its simple
  // canonical form, which is the canonical body itself under simple and
  // under relaxed whenever there was no white space to fold: with `single`
  // (that content, unhashed) each such digest is computed once and is both.
  std::vector<std::string> FinalDigests(const std::string* single) {
    FlushCanon();
    if (background) background->Drain();
    std::vector<std::string> out(opt.content_specs.size());
    std::array<std::string, kDigestAlgCount> of_single;
    for (auto& r : runs) {
      // Held whole (nothing hashed yet) only while below the canonicalizer's flush size.
      bool held_whole = single && !r.canonicalizer.flushed();
      StringSink held;
      FanoutSink hash(&r.hashers);
      r.canonicalizer.Finish(held_whole ? static_cast<ByteSink&>(held) : hash);
      bool same = held_whole && held.out == *single;
      for (size_t j = 0; j < r.hashers.size(); ++j) {
        Hasher& h = r.hashers[j];
        std::string& digest = out[r.spec_index[j]];
        std::string& once = of_single[static_cast<size_t>(h.alg())];
        if (same && !once.empty()) {
          digest = once;
          continue;
        }
        if (held_whole) h.Update(held.out);
        digest = h.Finish();
        if (same) once = digest;
      }
    }
    if (single) {
      for (DigestAlg a : opt.part_algs) {
        std::string& once = of_single[static_cast<size_t>(a)];
        if (once.empty()) once = HashBytes(a, *single);
        index.parts[0].digests[static_cast<size_t>(a)] = once;
      }
    }
    return out;
  }

  // ---- framing (LineFramer::Consumer) ----
  void Write(const char* p, size_t n) { framer.Write(p, n); }
  void Release() override { FlushRuns(); }

  // ---- bare CRs ----
  // Readers that split lines at a bare CR (Python's email) read the bytes
  // between it and the next CR or the line end as a line of their own: one
  // that is a delimiter to them is not to this scanner. Tracked byte by
  // byte across segments, so that the finding does not depend on chunking.
  void TrackBareCr(std::string_view bytes, bool starts, bool ends, uint64_t at) {
    if (starts) {
      cr_active = false;
      cr_line_at = at;
    }
    if (cr_active || bytes.find('\r') != std::string_view::npos) {
      for (char c : bytes) {
        if (c == '\r') {
          CheckCrLine();
          cr_active = true;
          cr_line.clear();
          cr_overflow = false;
        } else if (cr_active && cr_line.size() < limits::kMaxBoundaryLine) {
          cr_line.push_back(c);
        } else if (cr_active) {
          cr_overflow = true;
        }
      }
    }
    if (ends) {
      CheckCrLine();
      cr_active = false;
    }
  }
  void CheckCrLine() {
    bool closing = false;
    if (cr_active && !cr_overflow && index.ambiguity.empty() && MatchBoundary(cr_line, &closing) >= 0)
      Ambiguous("a delimiter line after a bare CR in the line at body byte " + std::to_string(cr_line_at));
  }

  // ---- line classification ----
  int MatchBoundary(std::string_view line, bool* closing) const {
    if (line.size() < 3 || line[0] != '-' || line[1] != '-' || line.size() > limits::kMaxBoundaryLine) return -1;
    std::string_view rest = line.substr(2);
    for (int k = static_cast<int>(frames.size()) - 1; k >= 0; --k) {
      const std::string& b = frames[static_cast<size_t>(k)].boundary;
      if (rest.substr(0, b.size()) != b) continue;
      std::string_view tail = rest.substr(b.size());
      bool close = tail.substr(0, 2) == "--";
      if (close) tail.remove_prefix(2);
      if (IsBlank(tail)) {
        *closing = close;
        return k;
      }
    }
    return -1;
  }

  // Whole lines from `p` (at a line start) that nothing classifies: inside a
  // leaf part, lines that cannot be delimiters (those not starting with '-');
  // in a single-part body, any. Returns their length (0: none), at most
  // about kMaxRun. Base64 has no '-', so an attachment passes in long spans
  // instead of line by line.
  size_t PlainLines(const char* p, const char* end) const override {
    if (state != State::kSingle && state != State::kPartBody) return 0;
    const char* stop = p + std::min(static_cast<size_t>(end - p), kMaxRun);
    if (state == State::kPartBody) {
      for (const char* q = p; q < stop; ++q) {
        q = static_cast<const char*>(std::memchr(q, '-', static_cast<size_t>(stop - q)));
        if (!q) break;
        if (q == p || q[-1] == '\n' || q[-1] == '\r') {  // after a bare CR: Segment checks the line
          stop = q;
          break;
        }
      }
    }
    if (stop == p) return 0;
    const void* last_nl = memrchr(p, '\n', static_cast<size_t>(stop - p));
    return last_nl ? static_cast<size_t>(static_cast<const char*>(last_nl) - p) + 1 : 0;
  }
  // What Segment does to each of those lines, for all of them at once.
  void PassPlainLines(const char* p, size_t n) override {
    offset += n;
    last_byte = '\n';
    prev_eol_len = n >= 2 && p[n - 2] == '\r' ? 2 : 1;
    FeedCanon(p, n);
    size_t eol_len = 0;  // a single-part body holds no line end back
    if (state == State::kPartBody) eol_len = n >= 2 && p[n - 2] == '\r' ? 2 : 1;
    FeedLeaf(p, n, eol_len);
  }

  void Segment(const char* p, size_t n, bool starts, bool ends) override {
    std::string_view seg(p, n);
    std::string_view line = StripEol(seg);
    size_t eol_len = ends ? n - line.size() : 0;
    if (!ends) line = seg;  // classification sees the whole (partial) line
    if (!ends && starts && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    uint64_t seg_offset = offset;
    offset += n;
    last_byte = seg.back();
    size_t eol_before = prev_eol_len;
    if (ends) prev_eol_len = eol_len;

    bool in_tree = state == State::kPreamble || state == State::kPartHeader || state == State::kPartBody ||
                   state == State::kInnerEpilogue;
    if (starts && in_tree) {
      bool closing = false;
      int k = MatchBoundary(line, &closing);
      if (k >= 0) {
        FeedCanon(p, n);
        opening_delimiter_at = seg_offset - std::min<uint64_t>(seg_offset, starts ? eol_before : 0);
        opening_header_at = offset;
        OnDelimiter(static_cast<size_t>(k), closing, seg_offset);
        return;
      }
    }
    if (in_tree) TrackBareCr(ends ? StripEol(seg) : seg, starts, ends, seg_offset);
    if (starts && (state == State::kTopEpilogue || state == State::kAfterEntity) && PostalEntityReader::Opens(line)) {
      if (index.entities.size() >= kMaxEntities) {
        LimitHit("more than " + std::to_string(kMaxEntities) + " postal-data entities; later ones are not indexed");
      } else {
        PostalEntity& e = index.entities.emplace_back();
        e.offset = seg_offset;
        e.content_digests = SnapshotDigests();
        index.unsigned_after_entities = 0;
        entity.Begin(&e);
        state = State::kEntity;
      }
    }
    FeedCanon(p, n);

    switch (state) {
      case State::kSingle:
        FeedLeaf(p, n, 0);
        break;
      case State::kPartBody:
        FeedLeaf(p, n, eol_len);
        break;
      case State::kPartHeader:
        if (starts && ends && line.empty()) {
          StartPart();
        } else if (part_header.size() + n <= limits::kMaxPartHeader) {
          part_header.append(seg);
        } else {
          LimitHit("part " + part_path + " header exceeds " + std::to_string(limits::kMaxPartHeader) + " bytes");
        }
        break;
      case State::kPreamble:
      case State::kInnerEpilogue:
      case State::kTopEpilogue:
        break;
      case State::kAfterEntity:
        if (!IsBlank(seg)) index.unsigned_after_entities += n;
        break;
      case State::kEntity:
        entity.Line(seg, line, starts, ends, offset);
        if (!entity.reading()) state = State::kAfterEntity;
        break;
    }
  }

  void OnDelimiter(size_t k, bool closing, uint64_t line_at) {
    if (k < frames.size() && frames[k].last_container >= 0) {  // a child container ends before this delimiter
      PartInfo& c = index.parts[static_cast<size_t>(frames[k].last_container)];
      c.content_end = std::max(c.content_begin, opening_delimiter_at);
      frames[k].last_container = -1;
    }
    if (leaf) {  // its content ends before the line end that belongs to the delimiter
      PartInfo& p = index.parts[leaf->part_index()];
      uint64_t held = leaf_len ? leaf_held : pending_eol.size();  // the line end not yet given to the leaf
      p.content_end = std::max(p.content_begin, line_at - std::min<uint64_t>(line_at, held));
    }
    EndLeaf(false);  // the line end before a delimiter belongs to it (RFC 2046 §5.1.1)
    if (state == State::kPartHeader) Error("part " + part_path + " ends inside its header");
    if (k + 1 < frames.size()) {
      Error("multipart " + frames.back().path + " is not closed");
      frames.resize(k + 1);
    }
    Frame& f = frames[k];
    if (closing) {
      if (k == 0) {
        state = State::kTopEpilogue;
        index.top_closed = true;
      } else {
        frames.pop_back();
        state = State::kInnerEpilogue;
      }
      return;
    }
    ++f.children;
    part_path = f.path.empty() ? std::to_string(f.children) : f.path + "." + std::to_string(f.children);
    part_header.clear();
    state = State::kPartHeader;
  }

  void StartPart() {
    HeaderScanner hs;
    hs.Write(part_header.data(), part_header.size());
    hs.Finish();
    if (!hs.ambiguity().empty()) Ambiguous("part " + part_path + " header: " + hs.ambiguity());
    Options part = BodyOptionsFor(hs.fields());
    if (!part.top_ambiguity.empty()) Ambiguous("part " + part_path + ": " + part.top_ambiguity);
    std::vector<std::string> rendering;
    for (const auto& f : hs.fields()) rendering.push_back(NormalizeLineEnds(f.raw));
    bool has_ct = false;
    for (const auto& f : hs.fields()) has_ct |= f.NameIs("Content-Type");
    if (!has_ct && frames.back().digest) part.top = ContentType::Parse("message/rfc822");
    state = State::kPartBody;
    if (index.parts.size() >= limits::kMaxParts) {
      LimitHit("more than " + std::to_string(limits::kMaxParts) + " MIME parts; later parts are not indexed");
      return;  // no leaf: bytes still flow through the canonicalizers
    }
    if (part.top.IsMultipart()) {
      std::string boundary = part.top.Param("boundary");
      if (frames.size() >= limits::kMaxMimeDepth) {
        LimitHit("MIME nesting deeper than " + std::to_string(limits::kMaxMimeDepth));
      } else if (boundary.size() > 200) {
        LimitHit("multipart part " + part_path + " has a boundary over 200 bytes");
      } else if (boundary.empty()) {
        Error("multipart part " + part_path + " has no usable boundary");
      } else {
        index.parts.push_back(NewPart(part_path, part.top.MimeType(), true, std::move(rendering)));
        PartInfo& c = index.parts.back();
        c.content_begin = c.content_end = offset;
        c.delimiter_begin = opening_delimiter_at;
        c.header_begin = opening_header_at;
        frames.back().last_container = static_cast<int>(index.parts.size()) - 1;
        frames.push_back(Frame{boundary, part_path, 0, part.top.subtype == "digest"});
        state = State::kPreamble;
        return;
      }
    }
    index.parts.push_back(NewPart(part_path, part.top.MimeType(), false, std::move(rendering)));
    index.parts.back().content_begin = index.parts.back().content_end = offset;
    index.parts.back().delimiter_begin = opening_delimiter_at;
    index.parts.back().header_begin = opening_header_at;
    leaf.emplace(index.parts.size() - 1, part.top, part.top_encoding, opt.part_algs, opt.prefixes, part_path,
                 opt.closing_alg);
  }

  BodyIndex Finish() {
    framer.Finish();
    FlushRuns();
    if (leaf) index.parts[leaf->part_index()].content_end = offset;
    std::string single;  // part 1's content, unhashed (see FinalDigests)
    bool single_unhashed = state == State::kSingle && !background && EndLeaf(true, &single);
    EndLeaf(state == State::kSingle);  // a leaf still open (the line above ends a single part)
    entity.Finish();
    if (index.multipart && !index.top_closed) Error("top-level multipart has no closing delimiter");
    index.final_digests = FinalDigests(single_unhashed ? &single : nullptr);
    if (single_unhashed) {  // part 1 was held whole, not streamed through its sink
      PartInfo& p = index.parts[0];
      p.length = single.size();
      p.last_bytes = single.substr(single.size() - std::min(single.size(), kMaxClosingBytes));
      if (opt.closing_alg && opt.top.type == "text") {
        std::string_view held(p.last_bytes);
        DescribeClosing(
            [&] {
              Hasher h(*opt.closing_alg);
              h.Update(std::string_view(single).substr(0, single.size() - held.size()));
              return h;
            }(),
            held, p);
      }
      p.prefixes.clear();
      for (const auto& r : opt.prefixes) {
        if (r.path != "1") continue;
        PartInfo::Prefix x{r.length, r.alg, "", "", 0};
        if (single.size() >= r.length) {
          x.digest = HashBytes(r.alg, std::string_view(single).substr(0, static_cast<size_t>(r.length)));
          x.appended = single.substr(static_cast<size_t>(r.length), kMaxAppendedShown);
          x.appended_length = single.size() - r.length;
        } else {
          x.appended = "";
        }
        p.prefixes.push_back(std::move(x));
      }
    }
    index.body_length = offset;
    index.ends_with_eol = offset == 0 || last_byte == '\n' || last_byte == '\r';
    return std::move(index);
  }
};

BodyScanner::BodyScanner(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
BodyScanner::~BodyScanner() = default;
void BodyScanner::Write(const char* data, size_t len) {
  if (len) impl_->Write(data, len);
}
BodyIndex BodyScanner::Finish() { return impl_->Finish(); }

}  // namespace mtas
