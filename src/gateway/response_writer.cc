#include "gateway/response_writer.h"

#include <charconv>
#include <chrono>
#include <ctime>

#include "base/strings.h"

namespace pa::gateway {
namespace {

bool ServerOwned(std::string_view name) {
  static constexpr std::string_view kOwned[] = {
      "content-length", "connection", "date", "server", "x-request-id", "transfer-encoding"};
  for (auto o : kOwned) {
    if (EqualsIgnoreCase(name, o)) return true;
  }
  return false;
}

bool SafeHeader(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted once per second per thread.
void AppendDate(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[40];
  thread_local size_t cached_len = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    cached_len = std::strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  out.append(cached, cached_len);
}

void AppendInt(std::string& out, size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Entity";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

void AppendResponseHead(std::string& out, const Response& r, const ResponseHead& head) {
  const int status = r.status >= 100 && r.status <= 999 ? r.status : 500;
  out += "HTTP/1.1 ";
  AppendInt(out, static_cast<size_t>(status));
  out += ' ';
  out += ReasonPhrase(status);
  out += "\r\n";
  if (!head.server.empty()) {
    out += "Server: ";
    out += head.server;
    out += "\r\n";
  }
  out += "Date: ";
  AppendDate(out);
  out += "\r\n";
  bool has_content_type = false;
  for (const auto& [name, value] : r.headers.items()) {
    if (name.empty() || ServerOwned(name) || !SafeHeader(name) || !SafeHeader(value)) continue;
    has_content_type = has_content_type || EqualsIgnoreCase(name, "content-type");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  const bool no_body = StatusHasNoBody(status);
  if (!no_body) {
    if (!has_content_type && !r.content_type.empty() && SafeHeader(r.content_type)) {
      out += "Content-Type: ";
      out += r.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    AppendInt(out, r.body.size());
    out += "\r\n";
  }
  if (!head.request_id.empty()) {
    out += "X-Request-Id: ";
    out += head.request_id;
    out += "\r\n";
  }
  out += head.extra;
  if (!head.keep_alive) {
    out += "Connection: close\r\n";
  } else if (head.http10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace pa::gateway
