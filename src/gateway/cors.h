// CorsPolicy: which browser origins may call the API, from ServerOptions::cors.
//
// Preflights (OPTIONS with Origin and Access-Control-Request-Method) for a known path are answered
// by the server itself with 204; for allowed origins they carry Access-Control-Allow-Origin,
// -Methods, -Headers and -Max-Age, for others no CORS headers (the browser then refuses). Other
// responses to an allowed origin get Access-Control-Allow-Origin and Vary: Origin. With
// allow_credentials the origin is echoed, never "*".
//
// Internal to the gateway. Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>

#include "gateway/server.h"

namespace pa::gateway {

class CorsPolicy {
 public:
  explicit CorsPolicy(CorsOptions options);

  bool enabled() const { return !options_.allowed_origins.empty(); }

  // Appends the header lines ("Name: value\r\n") for an ordinary response to a request from
  // `origin` (empty: no Origin header); nothing for disallowed origins.
  void AppendResponseHeaders(std::string& out, std::string_view origin) const;

  // Appends the header lines of a preflight answer. `methods` is the path's methods
  // ("GET, POST"); `request_headers` the Access-Control-Request-Headers value, if any.
  void AppendPreflightHeaders(std::string& out, std::string_view origin, std::string_view methods,
                              std::string_view request_headers) const;

 private:
  // "*", the origin itself, or empty when not allowed.
  std::string_view AllowedOrigin(std::string_view origin) const;
  void AppendCommon(std::string& out, std::string_view allowed) const;

  CorsOptions options_;
  bool any_origin_ = false;
};

}  // namespace pa::gateway
