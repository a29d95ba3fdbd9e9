#include "robot/http_step.h"

#include <curl/curl.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <memory>
#include <variant>

#include "base/strings.h"
#include "fmt/format.h"
#include "robot/response_checks.h"
#include "robot/step_recorder.h"
#include "robot/tls_util.h"

namespace pa::robot {
namespace {

using Clock = std::chrono::steady_clock;

bool GlobalInit() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

struct Transfer {
  ReceivedResponse response;
  bool keep_body = true;
  int64_t body_bytes = 0;
  int64_t max_body_bytes = 0;
  bool too_large = false;
  std::optional<int> tls_days_left;
};

// The transfer whose TLS handshake is running on this thread: curl calls the verify callback
// from inside curl_easy_perform on the calling thread.
thread_local Transfer* t_transfer = nullptr;

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response: a redirect's or a 100 Continue's successor
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    t->response.headers.emplace_back(line.substr(0, colon), value);
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  t->body_bytes += static_cast<int64_t>(len);
  if (t->body_bytes > t->max_body_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (t->keep_body) t->response.body.append(data, len);
  return len;
}

int OnVerify(int preverify_ok, X509_STORE_CTX* store) {
  if (t_transfer != nullptr) {
    if (const X509* leaf = X509_STORE_CTX_get0_cert(store))
      t_transfer->tls_days_left = DaysLeft(leaf);
  }
  return preverify_ok;
}

CURLcode OnSslContext(CURL*, void* ssl_ctx, void*) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), &OnVerify);
  return CURLE_OK;
}

bool NeedsBody(const synth::HttpStep& step) {
  for (const synth::HttpAssertion& a : step.asserts) {
    if (!std::holds_alternative<synth::StatusAssertion>(a) &&
        !std::holds_alternative<synth::HeaderAssertion>(a) &&
        !std::holds_alternative<synth::MaxDurationAssertion>(a)) {
      return true;
    }
  }
  return std::any_of(step.extracts.begin(), step.extracts.end(), [](const synth::Extraction& x) {
    return x.from != synth::ExtractFrom::kHeader;
  });
}

bool HasHeader(const std::map<std::string, std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

void SetMethod(CURL* h, const std::string& method, const std::optional<std::string>& body) {
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "GET" && !body) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body ? body->size() : 0));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body->c_str() : "");
    if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

StepErrorType Classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return StepErrorType::kTimeout;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_FILESIZE_EXCEEDED:
      return StepErrorType::kHttp;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return StepErrorType::kScript;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
    case CURLE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
      return StepErrorType::kNetwork;
    default:
      return StepErrorType::kOther;
  }
}

// Curl's cumulative timers (µs since the start of each hop, summed over hops) as phases.
void FillTimings(CURL* h, synth::StepTimings& t, bool completed) {
  curl_off_t dns = 0, connect = 0, tls = 0, start = 0, total = 0;
  curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
  curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &tls);
  curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &start);
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
  auto ms = [](curl_off_t from, curl_off_t to) {
    return static_cast<double>(std::max<curl_off_t>(0, to - from)) / 1000.0;
  };
  if (dns > 0) t.dns_ms = ms(0, dns);
  if (connect > 0) t.connect_ms = ms(dns, connect);
  if (tls > 0) t.tls_ms = ms(connect, tls);
  if (start > 0) {
    t.ttfb_ms = ms(std::max(connect, tls), start);
    if (completed) t.download_ms = ms(start, total);
  }
}

void FillDetails(CURL* h, const Transfer& transfer, Json& details) {
  details = Json::object();
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  switch (version) {
    case CURL_HTTP_VERSION_1_0:
      details["http_version"] = "1.0";
      break;
    case CURL_HTTP_VERSION_1_1:
      details["http_version"] = "1.1";
      break;
    case CURL_HTTP_VERSION_2_0:
      details["http_version"] = "2";
      break;
    case CURL_HTTP_VERSION_3:
      details["http_version"] = "3";
      break;
    default:
      break;
  }
  const char* ip = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr && *ip) {
    details["remote_ip"] = ip;
  }
  long redirects = 0;
  curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
  if (redirects > 0) details["redirects"] = redirects;
  if (transfer.tls_days_left) details["tls_days_left"] = *transfer.tls_days_left;
  if (details.empty()) details = Json();
}

// The substituted request, or the step's failure recorded in `rec`.
struct PreparedRequest {
  std::string url;
  std::optional<std::string> body;
  Slist headers;
};

std::optional<PreparedRequest> Prepare(const synth::HttpRequest& req, const RunContext& ctx,
                                       const StepOptions& options, StepRecorder& rec) {
  PreparedRequest out;
  auto fail = [&](const Status& s) {
    rec.Fail(StepErrorType::kScript, s.message());
    return std::nullopt;
  };
  Result<std::string> url = ctx.Substitute(req.url);
  rec.result().http = synth::StepHttp{.method = req.method, .url = url.value_or(req.url)};
  if (!url.ok()) return fail(url.status());
  out.url = std::move(*url);
  if (req.body) {
    Result<std::string> body = ctx.Substitute(*req.body);
    if (!body.ok()) return fail(body.status());
    if (static_cast<int64_t>(body->size()) > options.max_request_bytes) {
      return fail(
          InvalidArgumentError(fmt::format("request body of {} bytes exceeds the limit of {}",
                                           body->size(), options.max_request_bytes)));
    }
    out.body = std::move(*body);
  }
  curl_slist* list = nullptr;
  for (const auto& [name, value_template] : req.headers) {
    Result<std::string> value = ctx.Substitute(value_template);
    if (!value.ok()) {
      curl_slist_free_all(list);
      return fail(value.status());
    }
    // "Name;" is curl's way to send a header with an empty value.
    const std::string line = value->empty() ? name + ";" : name + ": " + *value;
    list = curl_slist_append(list, line.c_str());
  }
  // No 100-continue round trip on larger bodies: it would add up to a second to the timings.
  if (!HasHeader(req.headers, "Expect")) list = curl_slist_append(list, "Expect:");
  out.headers.reset(list);
  return out;
}

}  // namespace

HttpStepRunner::HttpStepRunner() : handle_(nullptr) {}

HttpStepRunner::~HttpStepRunner() {
  if (handle_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(handle_));
}

StepRun HttpStepRunner::Run(const synth::Step& step, int64_t index, RunContext& ctx,
                            const StepOptions& options) {
  StepRecorder rec(step, index, options);
  const auto* http = std::get_if<synth::HttpStep>(&step.kind);
  assert(http != nullptr && "RunHttpStep needs an http step");
  if (http == nullptr) {
    rec.Fail(StepErrorType::kOther, "not an http step");
    return rec.Finish(ctx);
  }
  if (handle_ == nullptr && GlobalInit()) handle_ = curl_easy_init();
  auto* h = static_cast<CURL*>(handle_);
  if (h == nullptr) {
    rec.Fail(StepErrorType::kOther, "cannot initialise libcurl");
    return rec.Finish(ctx);
  }
  std::optional<PreparedRequest> req = Prepare(http->request, ctx, options, rec);
  if (!req) return rec.Finish(ctx);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      StepDeadline(step, options) - Clock::now());
  if (left.count() <= 0) {
    rec.Fail(StepErrorType::kTimeout, "the run's deadline passed before the step started");
    return rec.Finish(ctx);
  }

  Transfer transfer;
  transfer.keep_body = NeedsBody(*http);
  transfer.max_body_bytes = options.max_response_bytes;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, req->url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "primoart-robot");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(left.count()));
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, http->request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, options.max_redirects);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, http->request.tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, http->request.tls_verify ? 2L : 0L);
  if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
  // The CA bundle file alone, without the hashed directory libcurl also defaults to: only then
  // does libcurl cache the parsed store (per handle) instead of parsing it for every check.
  curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, &OnSslContext);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_response_bytes));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers.get());
  SetMethod(h, http->request.method, req->body);

  t_transfer = &transfer;
  const CURLcode code = curl_easy_perform(h);
  t_transfer = nullptr;
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);

  synth::ResultStep& result = rec.result();
  FillTimings(h, result.timings, code == CURLE_OK);
  FillDetails(h, transfer, result.details);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 100 && status <= 599) result.http->status_code = static_cast<int>(status);
  result.http->response_bytes = transfer.body_bytes;

  if (code != CURLE_OK) {
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      rec.Fail(StepErrorType::kHttp, fmt::format("response body exceeds the limit of {} bytes",
                                                 options.max_response_bytes));
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      rec.Fail(StepErrorType::kTimeout, fmt::format("timed out after {} ms ({})", left.count(),
                                                    *errbuf ? errbuf : curl_easy_strerror(code)));
    } else {
      rec.Fail(Classify(code), *errbuf ? errbuf : curl_easy_strerror(code));
    }
    return rec.Finish(ctx);
  }
  curl_off_t total_us = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
  transfer.response.status_code = static_cast<int>(status);
  transfer.response.duration_ms = static_cast<double>(total_us) / 1000.0;
  CheckResponse(*http, transfer.response, ctx, rec);
  return rec.Finish(ctx);
}

StepRun RunHttpStep(const synth::Step& step, int64_t index, RunContext& ctx,
                    const StepOptions& options) {
  HttpStepRunner runner;
  return runner.Run(step, index, ctx, options);
}

}  // namespace pa::robot
