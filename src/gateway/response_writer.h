// Serialises a Response's status line and headers for the wire. The gateway writes heads itself
// rather than through Beast's serializer: one append-only pass into a reused buffer, with the Date
// header cached per thread for the current second.
//
// Internal to the gateway. Thread-safety: free functions; the Date cache is per thread.
#pragma once

#include <string>
#include <string_view>

#include "gateway/http.h"

namespace pa::gateway {

struct ResponseHead {
  std::string_view request_id;
  std::string_view server;  // Server header; empty: none
  bool keep_alive = true;
  bool http10 = false;     // the request was HTTP/1.0 (keep-alive must then be explicit)
  bool head_only = false;  // a HEAD request: Content-Length of the body, but no body
  std::string_view extra;  // further header lines, each ending in "\r\n" (CORS, Allow)
};

// Appends "HTTP/1.1 <status> <reason>\r\n", the headers and the blank line. Handler headers with
// CR or LF in them are dropped (they would split the response); Content-Length, Connection, Date,
// Server and X-Request-Id are the server's.
void AppendResponseHead(std::string& out, const Response& response, const ResponseHead& head);

// The reason phrase of a status ("Not Found"); "Unknown" for unusual codes.
std::string_view ReasonPhrase(int status);

// Whether a response with this status carries no body (1xx, 204, 304).
inline bool StatusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace pa::gateway
