#include "storage/s3/s3_xml.h"

#include <charconv>
#include <pugixml.hpp>

#include "base/time_format.h"

namespace pa::storage::s3 {
namespace {

bool Load(pugi::xml_document& doc, std::string_view xml) {
  return static_cast<bool>(doc.load_buffer(xml.data(), xml.size()));
}

std::string Snippet(std::string_view xml) {
  std::string s(xml.substr(0, 200));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

Result<ListPage> ParseListPage(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_node root;
  if (!Load(doc, xml) || !(root = doc.child("ListBucketResult"))) {
    return InternalError("s3: the list response is not a ListBucketResult: " + Snippet(xml));
  }
  ListPage page;
  page.truncated = std::string_view(root.child_value("IsTruncated")) == "true";
  page.next_token = root.child_value("NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return InternalError("s3: a truncated list response has no NextContinuationToken");
  }
  for (pugi::xml_node c : root.children("Contents")) {
    ObjectInfo info;
    info.key = c.child_value("Key");
    const std::string_view size = c.child_value("Size");
    auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), info.size);
    if (info.key.empty() || ec != std::errc() || ptr != size.data() + size.size()) {
      return InternalError("s3: a list entry lacks a key or a size: " + Snippet(xml));
    }
    // Unparseable dates are reported as 0 rather than failing the whole listing.
    info.modified_ms = ParseRfc3339Ms(c.child_value("LastModified")).value_or(0);
    page.objects.push_back(std::move(info));
  }
  return page;
}

S3Error ParseError(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_node root;
  if (!Load(doc, xml) || !(root = doc.child("Error"))) return {};
  return {.code = root.child_value("Code"), .message = root.child_value("Message")};
}

Result<std::string> ParseUploadId(std::string_view xml) {
  pugi::xml_document doc;
  std::string id;
  if (Load(doc, xml)) id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) {
    return InternalError("s3: the multipart upload response has no UploadId: " + Snippet(xml));
  }
  return id;
}

std::string CompleteMultipartXml(const std::vector<CompletedPart>& parts) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const CompletedPart& p : parts) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(p.number);
    part.append_child("ETag").text().set(p.etag.c_str());
  }
  struct Writer : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override {
      out.append(static_cast<const char*>(data), size);
    }
  } writer;
  doc.save(writer, "", pugi::format_raw);
  return writer.out;
}

}  // namespace pa::storage::s3
