// RequestParser: Beast's HTTP/1.1 request parser writing straight into a gateway Request.
//
// Deriving from beast::http::basic_parser instead of using request_parser<Body> keeps the same
// parsing engine and limits (header_limit, body_limit) but skips Beast's field container, which
// allocates one node per header; fields go once into Request::headers. The body goes through a
// BodyDecoder (size limit, gzip), set up by the server after it has seen the head.
//
// Internal to the gateway (includes Beast); one parser per request, owned by its connection.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstdint>
#include <string_view>

#include "gateway/body_decoder.h"
#include "gateway/http.h"

namespace pa::gateway {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // Fills `request` (method, target, headers); the body goes to `decoder` once attached.
  explicit RequestParser(Request& request);

  // Starts decoding the body with `decoder` (already Reset() by the caller).
  void AttachDecoder(BodyDecoder* decoder) { decoder_ = decoder; }

  // The method as received (also for methods outside Method, e.g. "PROPFIND").
  std::string_view method_string() const { return method_; }
  bool method_known() const { return method_known_; }
  int version() const { return version_; }
  // Bytes of body received on the wire (before decoding).
  int64_t body_wire_bytes() const { return body_wire_bytes_; }
  // Why the decoder refused the body (set when put() fails inside the body).
  const Status& body_status() const { return body_status_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  std::size_t Body(string_view body, error_code& ec);

  Request& request_;
  BodyDecoder* decoder_ = nullptr;
  std::string method_;
  bool method_known_ = false;
  int version_ = 11;
  int64_t body_wire_bytes_ = 0;
  Status body_status_;
};

}  // namespace pa::gateway
