#include "gateway/body_decoder.h"

#include <algorithm>

#include "base/strings.h"

namespace pa::gateway {
namespace {

constexpr size_t kInflateChunk = 16 * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<BodyDecoder::Encoding> BodyDecoder::ParseEncoding(std::string_view value) {
  value = Trim(value);
  if (value.empty() || EqualsIgnoreCase(value, "identity")) return Encoding::kIdentity;
  if (EqualsIgnoreCase(value, "gzip") || EqualsIgnoreCase(value, "x-gzip")) return Encoding::kGzip;
  if (EqualsIgnoreCase(value, "deflate")) return Encoding::kDeflate;
  return std::nullopt;
}

BodyDecoder::~BodyDecoder() {
  if (zs_init_) inflateEnd(&zs_);
}

void BodyDecoder::Reset(Encoding encoding, int64_t limit, std::string* out, int64_t size_hint) {
  encoding_ = encoding;
  limit_ = limit;
  out_ = out;
  out_->clear();
  stream_end_ = false;
  saw_input_ = false;
  if (size_hint > 0) out_->reserve(static_cast<size_t>(std::min(size_hint, limit)));
  if (encoding == Encoding::kIdentity) return;
  // gzip: 16 + MAX_WBITS selects the gzip wrapper; "deflate" in HTTP is the zlib format.
  const int window_bits = encoding == Encoding::kGzip ? 16 + MAX_WBITS : MAX_WBITS;
  if (zs_init_) {
    inflateEnd(&zs_);
    zs_init_ = false;
  }
  zs_ = z_stream{};
  zs_init_ = inflateInit2(&zs_, window_bits) == Z_OK;
}

Status BodyDecoder::Append(const char* data, size_t n) {
  const size_t size = out_->size();
  if (static_cast<int64_t>(size + n) > limit_) {
    return ResourceExhaustedError("request body is larger than the limit of " +
                                  std::to_string(limit_) + " bytes");
  }
  if (size + n > out_->capacity()) {
    // std::string grows geometrically (and reserve() may double as well); a buffer that would grow
    // past the limit gets exactly the limit instead, so a body never costs more than that.
    const size_t limit = static_cast<size_t>(limit_);
    if (2 * out_->capacity() >= limit) {
      std::string exact;
      exact.reserve(limit);
      exact.append(*out_);
      out_->swap(exact);
    } else {
      out_->reserve(std::max(size + n, 2 * out_->capacity()));
    }
  }
  out_->append(data, n);
  return Status::Ok();
}

Status BodyDecoder::Write(std::string_view piece) {
  if (piece.empty()) return Status::Ok();
  saw_input_ = true;
  if (encoding_ == Encoding::kIdentity) return Append(piece.data(), piece.size());
  return Inflate(piece);
}

Status BodyDecoder::Inflate(std::string_view piece) {
  if (!zs_init_) return InternalError("zlib could not be initialised");
  char chunk[kInflateChunk];
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
  zs_.avail_in = static_cast<uInt>(piece.size());
  while (zs_.avail_in > 0) {
    if (stream_end_) {
      // Concatenated gzip members are one valid body; anything else after the end is garbage.
      if (encoding_ != Encoding::kGzip || inflateReset(&zs_) != Z_OK) {
        return InvalidArgumentError("request body: data after the end of the compressed stream");
      }
      stream_end_ = false;
    }
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return InvalidArgumentError(std::string("request body: corrupt ") +
                                  (encoding_ == Encoding::kGzip ? "gzip" : "deflate") + " data (" +
                                  (zs_.msg ? zs_.msg : "zlib error") + ")");
    }
    PA_RETURN_IF_ERROR(Append(chunk, sizeof(chunk) - zs_.avail_out));
    if (rc == Z_STREAM_END) stream_end_ = true;
    if (rc == Z_BUF_ERROR) break;  // no progress possible: needs more input
  }
  // inflate may still hold output when the input is used up and the chunk was filled exactly.
  while (!stream_end_ && zs_.avail_out == 0) {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof(chunk);
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return InvalidArgumentError("request body: corrupt compressed data");
    }
    PA_RETURN_IF_ERROR(Append(chunk, sizeof(chunk) - zs_.avail_out));
    if (rc == Z_STREAM_END) stream_end_ = true;
    if (rc == Z_BUF_ERROR) break;
  }
  return Status::Ok();
}

Status BodyDecoder::Finish() {
  if (encoding_ == Encoding::kIdentity || !saw_input_ || stream_end_) return Status::Ok();
  return InvalidArgumentError(std::string("request body: truncated ") +
                              (encoding_ == Encoding::kGzip ? "gzip" : "deflate") + " data");
}

}  // namespace pa::gateway
