#include "storage/artifact_store.h"

namespace pa::storage {

Status ValidateArtifactKey(std::string_view key) {
  if (key.empty() || key.size() > 512) {
    return InvalidArgumentError("artifact key must be 1..512 bytes long");
  }
  if (key.front() == '/' || key.back() == '/') {
    return InvalidArgumentError("artifact key '" + std::string(key) +
                                "' must not start or end with '/'");
  }
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) {
      return InvalidArgumentError("artifact key '" + std::string(key) +
                                  "' may only contain A-Z a-z 0-9 . _ - /");
    }
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgumentError("artifact key '" + std::string(key) +
                                  "' has an empty, '.' or '..' segment");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace pa::storage
