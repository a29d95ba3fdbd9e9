// Helpers shared by the handlers of every role, so the API answers alike everywhere:
// JSON bodies in, validation errors out.
//
//   PA_ASSIGN_OR_RESPOND(Json body, RequireJsonBody(req));   // 415 / 400 on bad input
//   ValidationErrors errors;
//   if (!body.contains("name")) errors.Add("name", "is required");
//   if (!errors.empty()) return errors.ToResponse();          // 422 with every problem
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "gateway/http.h"

namespace pa::gateway {

// The request body as JSON. Fails (as a ready Response) with 415 when the Content-Type is present
// and not JSON, 400 when the body is empty or not valid JSON.
struct BodyOrResponse {
  std::optional<Json> body;
  Response response;
  bool ok() const { return body.has_value(); }
};
BodyOrResponse RequireJsonBody(const Request& req);

// Every problem found in one request, reported together as
// 422 {"error": "validation", "message": "...", "details": [{"path": "...", "message": "..."}]}.
class ValidationErrors {
 public:
  void Add(std::string path, std::string message) {
    items_.push_back({std::move(path), std::move(message)});
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  Response ToResponse() const;

 private:
  struct Item {
    std::string path, message;
  };
  std::vector<Item> items_;
};

// The version in an If-Match header ("3" or 3); nullopt when absent, error when malformed.
Result<std::optional<int64_t>> IfMatchVersion(const Request& req);

}  // namespace pa::gateway
