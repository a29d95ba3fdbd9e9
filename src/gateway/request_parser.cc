#include "gateway/request_parser.h"

#include <boost/beast/http/error.hpp>
#include <limits>

namespace pa::gateway {

namespace http = boost::beast::http;

RequestParser::RequestParser(Request& request) : request_(request) {
  header_limit(16 * 1024);
  // The per-route limit is known only after routing; until then Content-Length is not judged here
  // (the server answers 413 itself, before reading any body byte). Not boost::none: Beast 1.74
  // compares Content-Length against the optional, and every length is "greater" than none.
  body_limit(std::numeric_limits<std::uint64_t>::max());
}

void RequestParser::on_request_impl(http::verb, string_view method, string_view target, int version,
                                    error_code&) {
  const auto m = ParseMethod(std::string_view(method.data(), method.size()));
  method_known_ = m.has_value();
  request_.method = m.value_or(Method::kGet);
  method_.assign(method.data(), method.size());
  request_.target.assign(target.data(), target.size());
  version_ = version;
}

void RequestParser::on_field_impl(http::field, string_view name, string_view value, error_code&) {
  request_.headers.Add(std::string(name.data(), name.size()),
                       std::string(value.data(), value.size()));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code& ec) { return Body(body, ec); }

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return Body(body, ec);
}

std::size_t RequestParser::Body(string_view body, error_code& ec) {
  body_wire_bytes_ += static_cast<int64_t>(body.size());
  if (decoder_ == nullptr) {
    body_status_ = InternalError("request body arrived before the server accepted it");
    ec = http::error::body_limit;
    return 0;
  }
  body_status_ = decoder_->Write(std::string_view(body.data(), body.size()));
  if (!body_status_.ok()) {
    // body_limit for an oversized body (413), bad_transfer_encoding as "malformed body" (400);
    // the server reads body_status() for the details.
    ec = body_status_.code() == StatusCode::kResourceExhausted ? http::error::body_limit
                                                               : http::error::bad_transfer_encoding;
    return 0;
  }
  return body.size();
}

}  // namespace pa::gateway
