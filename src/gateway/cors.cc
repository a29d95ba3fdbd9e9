#include "gateway/cors.h"

namespace pa::gateway {
namespace {

// Headers a browser may send without asking when the preflight did not list any.
constexpr std::string_view kDefaultAllowHeaders =
    "Authorization, Content-Type, Content-Encoding, X-Request-Id";

bool SafeHeaderValue(std::string_view v) {
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

CorsPolicy::CorsPolicy(CorsOptions options) : options_(std::move(options)) {
  for (const auto& o : options_.allowed_origins) any_origin_ = any_origin_ || o == "*";
}

std::string_view CorsPolicy::AllowedOrigin(std::string_view origin) const {
  if (origin.empty() || !enabled() || !SafeHeaderValue(origin)) return {};
  if (any_origin_) return options_.allow_credentials ? origin : std::string_view("*");
  for (const auto& o : options_.allowed_origins) {
    if (o == origin) return origin;
  }
  return {};
}

void CorsPolicy::AppendCommon(std::string& out, std::string_view allowed) const {
  out += "Access-Control-Allow-Origin: ";
  out += allowed;
  out += "\r\n";
  if (allowed != "*") out += "Vary: Origin\r\n";
  if (options_.allow_credentials) out += "Access-Control-Allow-Credentials: true\r\n";
}

void CorsPolicy::AppendResponseHeaders(std::string& out, std::string_view origin) const {
  const std::string_view allowed = AllowedOrigin(origin);
  if (allowed.empty()) return;
  AppendCommon(out, allowed);
  out += "Access-Control-Expose-Headers: X-Request-Id\r\n";
}

void CorsPolicy::AppendPreflightHeaders(std::string& out, std::string_view origin,
                                        std::string_view methods,
                                        std::string_view request_headers) const {
  const std::string_view allowed = AllowedOrigin(origin);
  if (allowed.empty()) return;
  AppendCommon(out, allowed);
  out += "Access-Control-Allow-Methods: ";
  out += methods;
  out += "\r\nAccess-Control-Allow-Headers: ";
  out += !request_headers.empty() && SafeHeaderValue(request_headers) ? request_headers
                                                                      : kDefaultAllowHeaders;
  out += "\r\nAccess-Control-Max-Age: ";
  out += std::to_string(options_.max_age.count());
  out += "\r\n";
}

}  // namespace pa::gateway
