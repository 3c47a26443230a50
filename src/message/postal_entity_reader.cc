#include "message/postal_entity_reader.h"

#include "message/line_framer.h"
#include "mtas/limits.h"

namespace mtas {
namespace {

constexpr size_t kMaxEntityHeader = 16 * 1024;
constexpr size_t kMaxSignatureText = limits::kMaxSignatureBlob / 3 * 4 + limits::kMaxSignatureBlob / 38 + 64;

bool Delimiter(std::string_view line, const std::string& b, bool* closing) {
  if (b.empty() || line.size() < b.size() + 2 || line.substr(0, 2) != "--" || line.substr(2, b.size()) != b)
    return false;
  std::string_view tail = line.substr(2 + b.size());
  *closing = tail.substr(0, 2) == "--";
  if (*closing) tail.remove_prefix(2);
  return IsBlank(tail);
}

std::vector<HeaderField> Fields(const std::string& block) {
  HeaderScanner hs;
  hs.Write(block.data(), block.size());
  hs.Finish();
  return hs.fields();
}

}  // namespace

bool PostalEntityReader::Opens(std::string_view line) {
  static constexpr std::string_view kField = "content-type:";
  if (!StartsWithIgnoreCase(line, kField)) return false;
  line.remove_prefix(kField.size());
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return StartsWithIgnoreCase(line, "multipart/x-postal-data");
}

void PostalEntityReader::Begin(PostalEntity* entity) {
  entity_ = entity;
  header_.clear();
  boundary_.clear();
  parts_ = 0;
  state_ = State::kHeader;
}

void PostalEntityReader::Error(std::string e) {
  if (entity_->error.empty()) entity_->error = std::move(e);
}

void PostalEntityReader::Line(std::string_view segment, std::string_view line, bool starts, bool ends,
                              uint64_t end_offset) {
  bool blank_line = starts && ends && line.empty();
  if (state_ == State::kHeader) {
    if (blank_line)
      StartBody();
    else if (header_.size() + segment.size() <= kMaxEntityHeader)
      header_.append(segment);
    else
      Error("postal-data entity header too long");
    return;
  }
  bool closing = false;
  if (starts && Delimiter(line, boundary_, &closing)) {
    if (closing) {
      entity_->complete = true;
      entity_->end_offset = end_offset;
      state_ = State::kIdle;
    } else {
      ++parts_;
      header_.clear();
      state_ = State::kPartHeader;
    }
    return;
  }
  if (state_ == State::kPartHeader) {
    if (blank_line) {
      if (parts_ == 1) ReadSignaturePartHeader();
      state_ = State::kPartBody;
    } else if (header_.size() + segment.size() <= kMaxEntityHeader) {
      header_.append(segment);
    } else {
      Error("postal-data part header too long");
    }
  } else if (state_ == State::kPartBody && parts_ == 1) {
    std::string& text = entity_->signature_base64;
    if (text.size() + line.size() > kMaxSignatureText)
      Error("signature exceeds " + std::to_string(limits::kMaxSignatureBlob) + " bytes");
    else
      text.append(line);
  }
}

void PostalEntityReader::StartBody() {
  for (const auto& f : Fields(header_)) {
    if (!f.NameIs("Content-Type")) continue;
    ContentType ct = ContentType::Parse(f.value());
    entity_->msgid = ct.Param("msgid");
    boundary_ = ct.Param("boundary");
    break;
  }
  if (boundary_.empty()) Error("postal-data entity has no boundary");
  if (entity_->msgid.empty()) Error("postal-data entity has no msgid");
  state_ = State::kBody;
}

void PostalEntityReader::ReadSignaturePartHeader() {
  for (const auto& f : Fields(header_)) {
    if (f.NameIs("Content-Type")) {
      ContentType ct = ContentType::Parse(f.value());
      entity_->label = ct.MimeType();
      entity_->micalg = ct.Param("micalg");
    } else if (f.NameIs("X-Certificate-Verification-Service")) {
      std::string v;
      for (char c : f.value())
        if (c != '\r' && c != '\n') v.push_back(c);
      size_t a = v.find_first_not_of(" \t");
      size_t b = v.find_last_not_of(" \t");
      v = a == std::string::npos ? "" : v.substr(a, b - a + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      entity_->services = v;
    }
  }
}

void PostalEntityReader::Finish() {
  if (reading()) Error("postal-data entity is not closed");
  state_ = State::kIdle;
}

}  // namespace mtas
