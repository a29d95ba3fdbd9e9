#include "storage/s3/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <thread>

#include "base/digest.h"
#include "base/random.h"
#include "base/url.h"
#include "storage/s3/s3_xml.h"

namespace pa::storage::s3 {
namespace {

constexpr std::string_view kUnreserved = "-_.~";

bool Retryable(int status) { return status >= 500 || status == 429; }

// Full jitter: uniform in [0, min(max, base * 2^retry)], at least 1 ms.
std::chrono::milliseconds Backoff(const Options& o, int retry) {
  const int64_t base = std::max<int64_t>(1, o.retry_base_delay.count());
  const int64_t cap = std::max<int64_t>(base, o.retry_max_delay.count());
  const int64_t ceiling = std::min<int64_t>(cap, base << std::min(retry, 20));
  return std::chrono::milliseconds(1 + static_cast<int64_t>(FastRandom() % ceiling));
}

}  // namespace

std::string EncodePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    out += PercentEncode(path.substr(start, slash - start), kUnreserved);
    if (slash == std::string_view::npos) return out;
    out += '/';
    start = slash + 1;
  }
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = PercentEncode(k, kUnreserved);
    v = PercentEncode(v, kUnreserved);
  }
  std::sort(query.begin(), query.end());  // by encoded name, then value, as SigV4 wants
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

S3Client::S3Client(Options options) : options_(std::move(options)) {}

std::string S3Client::UrlFor(std::string_view object,
                             const std::vector<std::pair<std::string, std::string>>& query) const {
  const std::string& ep = options_.endpoint;  // scheme://host[:port]
  std::string url;
  if (options_.path_style) {
    url = ep + "/" + EncodePath(options_.bucket);
    if (!object.empty()) url += "/" + EncodePath(object);
  } else {
    const size_t host = ep.find("://") + 3;
    url = ep.substr(0, host) + options_.bucket + "." + ep.substr(host) + "/" + EncodePath(object);
  }
  if (!query.empty()) url += "?" + CanonicalQuery(query);
  return url;
}

Result<HttpResponse> S3Client::Send(S3Call call) {
  HttpRequest req;
  req.method = call.method;
  req.url = UrlFor(call.object, call.query);
  req.headers = call.headers;
  req.headers.emplace_back("x-amz-content-sha256",
                           call.body_sha256.empty() ? Sha256Hex(call.body) : call.body_sha256);
  req.body = std::move(call.body);
  if (call.large) {
    req.timeout = std::chrono::milliseconds(0);
    req.stall_timeout = options_.timeout;
  } else {
    req.timeout = options_.timeout;
  }
  req.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds(10000));
  if (!options_.access_key.empty()) {
    req.sigv4 = AwsSigV4{.access_key = options_.access_key,
                         .secret_key = options_.secret_key,
                         .region = options_.region,
                         .service = "s3"};
  }
  bool delivered = false;
  if (call.sink) {
    req.body_sink = [&](std::string_view chunk) {
      delivered = true;
      return call.sink(chunk);
    };
  }

  const std::string what = call.method + " " + options_.bucket + "/" + call.object;
  for (int attempt = 0;; ++attempt) {
    Result<HttpResponse> resp = http_.Do(req);
    const bool last = attempt >= options_.max_retries || delivered;
    if (resp.ok()) {
      if (!Retryable(resp->status) || last) return resp;
    } else {
      const StatusCode code = resp.status().code();
      const bool transport =
          code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
      if (!transport) return resp;  // the sink's own error, or a malformed URL
      if (last) {
        return UnavailableError("s3 " + what + ": " + resp.status().message() + " (after " +
                                std::to_string(attempt + 1) + " attempts)");
      }
    }
    std::this_thread::sleep_for(Backoff(options_, attempt));
  }
}

Status S3Client::ErrorFor(const HttpResponse& resp, std::string_view what) const {
  if (resp.status >= 200 && resp.status < 300) return Status::Ok();
  const S3Error err = ParseError(resp.body);
  std::string msg = "s3 " + std::string(what) + ": HTTP " + std::to_string(resp.status);
  if (!err.code.empty()) msg += " " + err.code;
  if (!err.message.empty()) msg += ": " + err.message;
  if (err.code == "NoSuchBucket") {
    return FailedPreconditionError(msg + " (bucket '" + options_.bucket + "' at " +
                                   options_.endpoint + ")");
  }
  if (resp.status == 404) return NotFoundError(msg);
  if (resp.status == 401 || resp.status == 403) return PermissionDeniedError(msg);
  if (Retryable(resp.status)) return UnavailableError(msg);
  return InternalError(msg);
}

}  // namespace pa::storage::s3
