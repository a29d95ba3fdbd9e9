#include "gateway/api.h"

#include <charconv>

namespace pa::gateway {

BodyOrResponse RequireJsonBody(const Request& req) {
  BodyOrResponse out;
  if (auto ct = req.Header("Content-Type")) {
    const std::string_view type = ct->substr(0, ct->find(';'));
    if (type != "application/json" && !type.ends_with("+json")) {
      out.response = Response::Error(
          415, "unsupported_media_type",
          "expected Content-Type: application/json, got '" + std::string(type) + "'");
      return out;
    }
  }
  if (req.body.empty()) {
    out.response = Response::Error(400, "bad_request", "the request body is empty");
    return out;
  }
  std::string error;
  out.body = ParseJson(req.body, &error);
  if (!out.body)
    out.response = Response::Error(400, "bad_request", "body is not valid JSON: " + error);
  return out;
}

Response ValidationErrors::ToResponse() const {
  Json details = Json::array();
  for (const auto& i : items_) details.push_back({{"path", i.path}, {"message", i.message}});
  std::string message =
      items_.empty() ? "invalid request" : items_.front().path + ": " + items_.front().message;
  if (items_.size() > 1) message += " (and " + std::to_string(items_.size() - 1) + " more)";
  return Response::Json(422, {{"error", "validation"}, {"message", message}, {"details", details}});
}

Result<std::optional<int64_t>> IfMatchVersion(const Request& req) {
  auto header = req.Header("If-Match");
  if (!header) return std::optional<int64_t>();
  std::string_view v = *header;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t version = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (ec != std::errc() || ptr != v.data() + v.size() || version < 0) {
    return InvalidArgumentError("If-Match must be a version number such as \"3\"");
  }
  return std::optional<int64_t>(version);
}

}  // namespace pa::gateway
