#include "base/http_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "base/digest.h"
#include "base/strings.h"

namespace pa {
namespace {

// Idle handles kept for reuse; each keeps its own connection cache, so this bounds the idle
// keep-alive connections too.
constexpr size_t kMaxIdleHandles = 16;

bool GlobalInit() {
  // A function-local static runs once even when many threads construct clients at once.
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The URL for error messages: without userinfo and query, which may carry secrets.
std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  const size_t at = url.substr(0, path_start).find('@', host_start);
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(url.substr(at + 1));
}

bool HasHeader(const HttpRequest& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(),
                     [&](const auto& h) { return AsciiLower(h.first) == AsciiLower(name); });
}

// State shared with libcurl's callbacks during one Do().
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  int64_t sent = 0;
  Status source_error;
  Status sink_error;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new status line (after "100 Continue" or a redirect) starts a new header block.
    t->response->headers.clear();
    const size_t sp = line.find(' ');
    t->response->status = sp == std::string_view::npos ? 0 : std::atoi(line.data() + sp + 1);
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers.emplace_back(AsciiLower(Trim(line.substr(0, colon))),
                                      std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * n);
  const int status = t->response->status;
  if (t->request->body_sink && status >= 200 && status < 300) {
    Status s = t->request->body_sink(chunk);
    if (!s.ok()) {
      t->sink_error = std::move(s);
      return 0;  // anything but size*n aborts with CURLE_WRITE_ERROR
    }
  } else {
    t->response->body.append(chunk);
  }
  return size * n;
}

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const int64_t total = t->request->body_size;
  if (t->sent >= total) return 0;
  const size_t max = static_cast<size_t>(std::min<int64_t>(size * n, total - t->sent));
  Result<size_t> got = t->request->body_source(buf, max);
  if (!got.ok()) {
    t->source_error = std::move(got).status();
    return CURL_READFUNC_ABORT;
  }
  if (*got == 0 || *got > max) {
    t->source_error = InvalidArgumentError("request body source gave " + std::to_string(*got) +
                                           " bytes at offset " + std::to_string(t->sent) +
                                           " of a body of " + std::to_string(total) + " bytes");
    return CURL_READFUNC_ABORT;
  }
  t->sent += static_cast<int64_t>(*got);
  return *got;
}

// libcurl asks to rewind when it must resend the body; a source can only be "rewound" before it
// was read from.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin == SEEK_SET && offset == 0 && t->sent == 0) return CURL_SEEKFUNC_OK;
  return CURL_SEEKFUNC_CANTSEEK;
}

Status MapCurlError(CURLcode code, const char* errbuf, const HttpRequest& request,
                    const Transfer& t) {
  if (!t.source_error.ok()) return t.source_error;
  if (!t.sink_error.ok()) return t.sink_error;
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(code);
  while (!detail.empty() && detail.back() == '\n') detail.pop_back();
  const std::string what = "HTTP " + request.method + " " + RedactUrl(request.url) + ": " + detail;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(what);
    case CURLE_OUT_OF_MEMORY:
      return ResourceExhaustedError(what);
    default:
      // connect/DNS/reset/TLS failures and truncated transfers: the peer may answer later.
      return UnavailableError(what);
  }
}

// Holds the header list for one request and frees it.
class HeaderList {
 public:
  ~HeaderList() { curl_slist_free_all(list_); }
  void Add(std::string_view name, std::string_view value) {
    // "Name;" is libcurl's way to send a header with an empty value.
    std::string line =
        value.empty() ? std::string(name) + ";" : std::string(name) + ": " + std::string(value);
    list_ = curl_slist_append(list_, line.c_str());
  }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

// Sets method, body and body-related headers on `h`.
Status SetupBody(CURL* h, const HttpRequest& request, HeaderList& headers) {
  const std::string& m = request.method;
  const bool streamed = static_cast<bool>(request.body_source);
  if (streamed && request.body_size < 0) {
    return InvalidArgumentError("HTTP " + m + " " + RedactUrl(request.url) +
                                ": a streamed body needs body_size");
  }
  if (streamed && request.sigv4 && request.sigv4->service != "s3") {
    // Only S3 accepts UNSIGNED-PAYLOAD; other services would get the hash of an empty body.
    return InvalidArgumentError("HTTP " + m + " " + RedactUrl(request.url) +
                                ": a streamed body cannot be signed for service '" +
                                request.sigv4->service + "'");
  }
  if (m == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (streamed) {
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &OnSeek);
    if (m == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
    } else {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_size));
      if (m != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    }
  } else if (!request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    if (m != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
  } else if (m == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  const bool has_body = m != "HEAD" && (streamed || !request.body.empty() || m == "POST" ||
                                        m == "PUT" || m == "PATCH");
  if (has_body && !HasHeader(request, "content-type")) {
    // Without this libcurl labels POST bodies as form data. An explicit value rather than the
    // "Content-Type:" removal form, because libcurl 7.88 would sign the removed header.
    headers.Add("Content-Type", "application/octet-stream");
  }
  if (request.sigv4 && request.sigv4->service == "s3" &&
      !HasHeader(request, "x-amz-content-sha256")) {
    // S3 requires the payload hash header. libcurl 7.88 does not send it and would sign the hash
    // of an empty body for an upload from a callback; it does sign a header given to it.
    headers.Add("x-amz-content-sha256", streamed ? std::string("UNSIGNED-PAYLOAD")
                                                 : Sha256Hex(m == "HEAD" ? "" : request.body));
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  const std::string lower = AsciiLower(name);
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return std::nullopt;
}

class HttpClient::Pool {
 public:
  ~Pool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  // A handle, preferably one that was used before (its connections are still open).
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();  // most recently used: the likeliest to hold a live connection
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

 private:
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

HttpClient::HttpClient() : pool_(std::make_unique<Pool>()) { GlobalInit(); }

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Do(const HttpRequest& request) {
  if (!GlobalInit()) return InternalError("HTTP client: curl_global_init failed");
  CURL* h = pool_->Acquire();
  if (h == nullptr) return ResourceExhaustedError("HTTP client: curl_easy_init failed");
  struct Lease {
    Pool* pool;
    CURL* h;
    ~Lease() { pool->Release(h); }
  } lease{pool_.get(), h};
  // Forget the previous request's options; the handle keeps its live connections.
  curl_easy_reset(h);

  HttpResponse response;
  Transfer t{.request = &request, .response = &response};
  char errbuf[CURL_ERROR_SIZE] = {0};
  HeaderList headers;

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "primoart");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  if (request.stall_timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>((request.stall_timeout.count() + 999) / 1000)));
  }
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(
      h, CURLOPT_INTERFACE,
      request.local_address.empty() ? nullptr : ("host!" + request.local_address).c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_READDATA, &t);
  curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);

  for (const auto& [name, value] : request.headers) headers.Add(name, value);
  PA_RETURN_IF_ERROR(SetupBody(h, request, headers));
  if (request.sigv4) {
    const std::string provider = "aws:amz:" + request.sigv4->region + ":" + request.sigv4->service;
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider.c_str());
    // USERNAME/PASSWORD rather than USERPWD: a key may contain ':'.
    curl_easy_setopt(h, CURLOPT_USERNAME, request.sigv4->access_key.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, request.sigv4->secret_key.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  const CURLcode code = curl_easy_perform(h);
  // The handle goes back to the pool; drop pointers into this frame and the secret.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_PASSWORD, nullptr);
  if (code != CURLE_OK) return MapCurlError(code, errbuf, request, t);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace pa
