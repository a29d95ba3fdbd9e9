// The request and response types handlers see, independent of the HTTP library underneath.
//
// A handler receives a fully read Request (body already size-checked and, for
// `Content-Encoding: gzip`, inflated under the route's limit) and returns a Response:
//
//   router.Add(Method::kGet, "/api/v1/settings/{key}", Access::Read(),
//              [&](Request& req) { return Response::Json(200, Lookup(req.Param("key"))); });
//
// Errors use the JSON body {"error": "<code>", "message": "..."} everywhere (Response::Error);
// validation errors add "details": [{"path": ..., "message": ...}].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace pa::gateway {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions };
std::string_view MethodName(Method m);
std::optional<Method> ParseMethod(std::string_view name);

// Case-insensitive header list preserving order and duplicates.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every header of that name.
  void Set(std::string name, std::string value);
  // The first value of `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Clear() { items_.clear(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Who is calling, as established by the Authenticator (see authenticator.h); empty for public
// routes and before authentication.
struct Principal {
  std::string kind;                 // "user" or "token"
  std::string id;                   // user id or token id
  std::string name;                 // username or token name
  std::string role;                 // users: admin|editor|viewer
  std::vector<std::string> scopes;  // tokens: ingest|robot|read|write|admin
  std::string robot_id;             // tokens with scope robot: the robot they are bound to
  bool authenticated() const { return !kind.empty(); }
};

struct Request {
  Method method = Method::kGet;
  std::string target;        // as received: path and query
  std::string path;          // percent-decoded path, without the query
  std::string query_string;  // raw, without '?'
  Headers headers;
  std::string body;         // after Content-Encoding decoding
  std::string remote_addr;  // "ip:port" of the peer
  std::string request_id;
  std::string route;  // the matched pattern, e.g. "/api/v1/settings/{key}"
  std::vector<std::pair<std::string, std::string>> params;  // path parameters, decoded
  Principal principal;

  // A path parameter of the matched route; empty if the route has no such parameter.
  std::string_view Param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded ('+' as space); nullopt when absent.
  std::optional<std::string> Query(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string content_type = "application/json";
  std::string body;

  static Response Json(int status, const pa::Json& body);
  static Response Text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response Empty(int status);
  // {"error": error, "message": message}
  static Response Error(int status, std::string_view error, std::string_view message);
  // A Status mapped to its HTTP status and error code (see StatusToHttp).
  static Response FromStatus(const Status& status);
};

// invalid_argument→400, unauthenticated→401, permission_denied→403, not_found→404,
// already_exists/failed_precondition/aborted→409, resource_exhausted→429, unimplemented→501,
// unavailable→503, deadline_exceeded→504, everything else→500.
int StatusToHttp(StatusCode code);

// Percent-decodes a request path into `out` ('+' stays '+'). False for a malformed escape or an
// encoded NUL, which the server answers with 400.
bool PercentDecodePath(std::string_view in, std::string& out);

}  // namespace pa::gateway
