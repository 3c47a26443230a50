// The message as this library reads it (view.h), for differential tests.
#include "mtas/view.h"

#include "mtas/address.h"
#include "mtas/digest.h"
#include "mtas/report.h"

namespace mtas {

Result<MessageView> ReadView(MessageSource& source) {
  MessageView view;
  HeaderScanner headers;
  std::optional<BodyScanner> body;
  auto start_body = [&]() {
    BodyScanner::Options opt = BodyOptionsFor(headers.fields());
    opt.part_algs = {DigestAlg::kSha256};
    body.emplace(std::move(opt));
    body->Write(headers.body_start());
  };
  MTAS_RETURN_IF_ERROR(source.Rewind());
  MTAS_RETURN_IF_ERROR(ForEachChunk(source, [&](const char* p, size_t n) {
    if (!body) {
      size_t used = headers.Write(p, n);
      if (!headers.done()) return;
      start_body();
      p += used;
      n -= used;
    }
    body->Write(p, n);
  }));
  if (!body) {
    headers.Finish();
    start_body();
  }
  BodyIndex index = body->Finish();
  view.fields = headers.fields();
  view.header_ambiguity = headers.ambiguity();
  view.header_section_full = headers.section_full();
  if (auto from = FromDomains(view.fields); from.ok())
    view.from_domains = *from;
  else
    view.from_error = from.status().message();
  view.parts = std::move(index.parts);
  view.body_ambiguity = index.ambiguity;
  view.limit_hit = index.limit_hit;
  view.structure_error = index.structure_error;
  return view;
}

std::string ViewJson(const MessageView& v) {
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + JsonEscape(items[i]);
    return out + "]";
  };
  std::string out = "{\"fields\": [";
  for (size_t i = 0; i < v.fields.size(); ++i)
    out += std::string(i ? ", " : "") + "{\"name\": " + JsonEscape(v.fields[i].name()) +
           ", \"value\": " + JsonEscape(v.fields[i].value()) + "}";
  out += "], \"header_ambiguity\": " + JsonEscape(v.header_ambiguity);
  out += ", \"header_section_full\": " + std::string(v.header_section_full ? "true" : "false");
  out += ", \"from_domains\": " + list(v.from_domains) + ", \"from_error\": " + JsonEscape(v.from_error);
  out += ", \"parts\": [";
  for (size_t i = 0; i < v.parts.size(); ++i) {
    const PartInfo& p = v.parts[i];
    out += std::string(i ? ", " : "") + "{\"path\": " + JsonEscape(p.path) +
           ", \"content_type\": " + JsonEscape(p.content_type) +
           ", \"container\": " + (p.container ? "true" : "false") +
           ", \"sha256\": " + JsonEscape(ToHex(p.digests[static_cast<size_t>(DigestAlg::kSha256)])) +
           ", \"fields\": " + list(p.header_fields) + "}";
  }
  out += "], \"body_ambiguity\": " + JsonEscape(v.body_ambiguity) + ", \"limit_hit\": " + JsonEscape(v.limit_hit) +
         ", \"structure_error\": " + JsonEscape(v.structure_error) + "}";
  return out;
}

}  // namespace mtas
