// BodyDecoder: collects a request body into a string under a byte limit, inflating
// `Content-Encoding: gzip` / `deflate` on the way.
//
// The server feeds the body in the pieces it reads from the socket; every piece is decoded at once
// into the output through a small fixed buffer, so memory never exceeds the limit however far the
// body would inflate (a gzip bomb costs at most `limit` bytes, then fails with kResourceExhausted).
//
//   BodyDecoder d;
//   d.Reset(BodyDecoder::Encoding::kGzip, 1 << 20, &request.body);
//   PA_RETURN_IF_ERROR(d.Write(piece));   // for each piece
//   PA_RETURN_IF_ERROR(d.Finish());
//
// Thread-safety: one decoder per connection; not shared.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa::gateway {

class BodyDecoder {
 public:
  enum class Encoding { kIdentity, kGzip, kDeflate };

  // The encoding named by a Content-Encoding header value (case-insensitive, "x-gzip" too);
  // nullopt for anything else, including lists such as "gzip, br" (the server answers 415).
  static std::optional<Encoding> ParseEncoding(std::string_view header_value);

  BodyDecoder() = default;
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Starts a body: decoded bytes are appended to `*out` (cleared first), at most `limit` of them.
  // `size_hint` (e.g. Content-Length of an identity body, at most `limit`) reserves memory once.
  void Reset(Encoding encoding, int64_t limit, std::string* out, int64_t size_hint = 0);

  // Decodes one piece of the body. kResourceExhausted once the decoded body would pass the limit;
  // kInvalidArgument for corrupt compressed data. After an error the decoder must be Reset().
  Status Write(std::string_view piece);

  // The body ended: kInvalidArgument when a compressed stream is truncated.
  Status Finish();

  int64_t limit() const { return limit_; }

 private:
  Status Append(const char* data, size_t n);
  Status Inflate(std::string_view piece);

  Encoding encoding_ = Encoding::kIdentity;
  int64_t limit_ = 0;
  std::string* out_ = nullptr;
  z_stream zs_{};
  bool zs_init_ = false;
  bool stream_end_ = false;  // the compressed stream's end marker was seen
  bool saw_input_ = false;
};

}  // namespace pa::gateway
