// Streaming body canonicalization, spec §3.2 (= RFC 6376 §3.4.3 / §3.4.4).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__) && !defined(MTAS_PORTABLE_SCAN)
#include <emmintrin.h>
#endif

#include "mtas/canon.h"

namespace mtas {
namespace {

constexpr size_t kFlushAt = 32 * 1024;

// Bytes that interrupt a run of ordinary content.
struct SpecialTable {
  std::array<bool, 256> simple{};
  std::array<bool, 256> relaxed{};
  constexpr SpecialTable() {
    simple['\r'] = simple['\n'] = true;
    relaxed['\r'] = relaxed['\n'] = relaxed[' '] = relaxed['\t'] = true;
  }
};
constexpr SpecialTable kSpecial;

// How many of the kStep bytes at p stay in the current run. Needs p[kStep].
// Simple: all but CR and LF. Relaxed: also not HTAB, and an SP only when
// the byte after it is content (its predecessor is, being in the run).
#if defined(__SSE2__) && !defined(MTAS_PORTABLE_SCAN)
// SSE2 (every x86-64 CPU): sixteen bytes per step.
constexpr size_t kStep = 16;
inline __m128i Eq(__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); }
inline size_t RunBytes(const char* p, bool relaxed) {
  __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i stop = _mm_or_si128(Eq(here, '\r'), Eq(here, '\n'));
  if (relaxed) {
    __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    __m128i next_special =
        _mm_or_si128(_mm_or_si128(Eq(next, '\r'), Eq(next, '\n')), _mm_or_si128(Eq(next, ' '), Eq(next, '\t')));
    stop = _mm_or_si128(stop, _mm_or_si128(Eq(here, '\t'), _mm_and_si128(Eq(here, ' '), next_special)));
  }
  unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
  return mask ? static_cast<size_t>(__builtin_ctz(mask)) : kStep;
}
#else
// SWAR ("SIMD within a register"): eight bytes tested per step. Each mask
// has 0x80 set in exactly the bytes that equal the byte asked for (no
// false positives from carries, unlike the shorter has-zero trick).
constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline uint64_t ZeroBytes(uint64_t x) { return ~(((x & kLow7) + kLow7) | x | kLow7); }
inline uint64_t BytesEqual(uint64_t x, unsigned char c) { return ZeroBytes(x ^ (kOnes * c)); }
inline uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;  // little-endian: p[0] is the lowest byte
}
inline uint64_t LineEnds(uint64_t x) { return BytesEqual(x, '\r') | BytesEqual(x, '\n'); }
inline uint64_t Whitespace(uint64_t x) { return BytesEqual(x, ' ') | BytesEqual(x, '\t'); }

constexpr size_t kStep = 8;
inline size_t RunBytes(const char* p, bool relaxed) {
  uint64_t here = Load8(p);
  uint64_t stop = LineEnds(here);
  if (relaxed) {
    uint64_t next = Load8(p + 1);
    stop |= BytesEqual(here, '\t') | (BytesEqual(here, ' ') & (LineEnds(next) | Whitespace(next)));
  }
  return stop ? static_cast<size_t>(__builtin_ctzll(stop)) / 8 : kStep;
}
#endif

}  // namespace

std::string_view CanonName(Canon c) { return c == Canon::kSimple ? "simple" : "relaxed"; }

Result<Canon> ParseCanon(std::string_view name) {
  if (name == "simple") return Canon::kSimple;
  if (name == "relaxed") return Canon::kRelaxed;
  return Status::InvalidArgument("unknown canonicalization '" + std::string(name) + "'");
}

BodyCanonicalizer::BodyCanonicalizer(Canon canon) : canon_(canon) { buf_.reserve(kFlushAt + 1024); }

void BodyCanonicalizer::EndLine() {
  if (line_has_content_) {
    buf_.append("\r\n", 2);
    line_has_content_ = false;
  } else {
    ++empty_lines_;
  }
  pending_wsp_ = false;
}

void BodyCanonicalizer::Emit(const char* p, size_t n, ByteSink& out) {
  if (!line_has_content_) {
    for (; empty_lines_ > 0; --empty_lines_) {
      buf_.append("\r\n", 2);
      MaybeFlush(out);
    }
    line_has_content_ = true;
    any_output_ = true;
  }
  if (pending_wsp_) {
    buf_.push_back(' ');
    pending_wsp_ = false;
  }
  buf_.append(p, n);
  MaybeFlush(out);
}

void BodyCanonicalizer::MaybeFlush(ByteSink& out) {
  if (buf_.size() >= kFlushAt) {
    out.Write(buf_.data(), buf_.size());
    buf_.clear();
    flushed_ = true;
  }
}

void BodyCanonicalizer::Update(const char* p, size_t n, ByteSink& out) {
  const char* end = p + n;
  const auto& special = canon_ == Canon::kRelaxed ? kSpecial.relaxed : kSpecial.simple;
  while (p < end) {
    if (pending_cr_) {
      pending_cr_ = false;
      EndLine();  // CR LF, or a bare CR: both end the line
      if (*p == '\n') {
        ++p;
        continue;
      }
    }
    // A run of content; in relaxed mode a single SP between two content
    // bytes is content too (it stays one SP), so prose is one run per line
    // rather than one per word.
    const char* run = p;
    const bool relaxed = canon_ == Canon::kRelaxed;
    while (p < end) {
      if (p > run && end - p > static_cast<ptrdiff_t>(kStep)) {  // kStep at a time while kStep + 1 can be read
        size_t run_length = RunBytes(p, relaxed);
        p += run_length;
        if (run_length == kStep) continue;
      }
      if (!special[static_cast<unsigned char>(*p)]) {
        ++p;
      } else if (relaxed && *p == ' ' && p > run && p + 1 < end && !special[static_cast<unsigned char>(p[1])]) {
        p += 2;
      } else {
        break;
      }
    }
    if (p > run) Emit(run, static_cast<size_t>(p - run), out);
    if (p == end) break;
    switch (*p++) {
      case '\r':
        pending_cr_ = true;
        break;
      case '\n':
        EndLine();
        break;
      default:  // SP or HTAB in relaxed mode
        pending_wsp_ = true;
        break;
    }
  }
  MaybeFlush(out);
}

void BodyCanonicalizer::Finish(ByteSink& out) {
  if (pending_cr_) {
    pending_cr_ = false;
    EndLine();
  }
  if (line_has_content_) EndLine();  // unterminated last line gets its CRLF
  // RFC 6376: an empty simple body is one CRLF; an empty relaxed body is empty.
  if (!any_output_ && canon_ == Canon::kSimple) buf_.append("\r\n", 2);
  dropped_empty_lines_ = empty_lines_;
  empty_lines_ = 0;
  if (!buf_.empty()) out.Write(buf_.data(), buf_.size());
  buf_.clear();
  flushed_ = true;
}

std::string BodyCanonicalizer::Apply(Canon canon, std::string_view body) {
  BodyCanonicalizer c(canon);
  StringSink sink;
  c.Update(body, sink);
  c.Finish(sink);
  return std::move(sink.out);
}

}  // namespace mtas
