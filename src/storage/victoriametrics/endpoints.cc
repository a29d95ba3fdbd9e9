#include "storage/victoriametrics/endpoints.h"

#include <charconv>
#include <set>

#include "base/units.h"
#include "base/url.h"

namespace pa::storage::victoriametrics {
namespace {

constexpr std::string_view kForm =
    "victoriametrics+http://host:8428 or "
    "victoriametrics+http://vminsert:8480?select=http://vmselect:8481&tenant=0";

// "scheme://host[:port][/path]" without a trailing '/'.
Result<std::string> NormalizeBase(std::string_view what, const std::string& text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("VictoriaMetrics " + std::string(what) + " URL '" + text + "' " +
                                std::string(why));
  };
  if (text.empty()) return bad("is empty");
  Result<Url> parsed = ParseUrl(text);
  if (!parsed.ok()) return bad("is not a URL: " + parsed.status().message());
  const Url& url = *parsed;
  if (url.scheme != "http" && url.scheme != "https") return bad("must use http or https");
  if (url.host.empty()) return bad("has no host");
  if (!url.user.empty() || url.has_password) return bad("must not carry credentials");
  if (!url.query.empty()) return bad("must not have a query");
  std::string out = url.scheme + "://";
  out += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != 0) out += ":" + std::to_string(url.port);
  std::string_view path = url.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty() && path.front() != '/') return bad("has a malformed path");
  out += PercentEncode(path, "-_.~/");
  return out;
}

bool IsUint32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

Status ValidateTenant(const std::string& tenant) {
  const size_t colon = tenant.find(':');
  const std::string_view account = std::string_view(tenant).substr(0, colon);
  const std::string_view project =
      colon == std::string::npos ? "0" : std::string_view(tenant).substr(colon + 1);
  if (!IsUint32(account) || !IsUint32(project)) {
    return InvalidArgumentError("VictoriaMetrics tenant '" + tenant +
                                "' must be accountID or accountID:projectID (numbers)");
  }
  return Status::Ok();
}

}  // namespace

Result<Endpoints> MakeEndpoints(const Options& options) {
  PA_ASSIGN_OR_RETURN(std::string insert, NormalizeBase("insert", options.insert_url));
  PA_ASSIGN_OR_RETURN(std::string select,
                      NormalizeBase("select", options.select_url.empty() ? options.insert_url
                                                                         : options.select_url));
  Endpoints e;
  e.cluster = !options.tenant.empty();
  if (e.cluster) {
    PA_RETURN_IF_ERROR(ValidateTenant(options.tenant));
    e.write = insert + "/insert/" + options.tenant + "/prometheus/api/v1/write";
    e.api = select + "/select/" + options.tenant + "/prometheus/api/v1";
  } else {
    e.write = insert + "/api/v1/write";
    e.api = select + "/api/v1";
  }
  e.health.push_back(insert + "/health");
  if (select != insert) e.health.push_back(select + "/health");
  for (const auto& f : options.flush_urls) {
    PA_ASSIGN_OR_RETURN(std::string base, NormalizeBase("flush", f));
    e.flush.push_back(base + "/internal/force_flush");
  }
  if (e.flush.empty() && !e.cluster) e.flush.push_back(insert + "/internal/force_flush");
  return e;
}

Result<Options> OptionsFromUrl(const std::string& text) {
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  std::string scheme;
  if (url.scheme == "victoriametrics+http") {
    scheme = "http";
  } else if (url.scheme == "victoriametrics+https") {
    scheme = "https";
  } else {
    return InvalidArgumentError("not a VictoriaMetrics URL (expected " + std::string(kForm) + ")");
  }
  if (!url.user.empty() || url.has_password) {
    return InvalidArgumentError("VictoriaMetrics URL must not carry credentials");
  }
  if (url.host.empty()) {
    return InvalidArgumentError("VictoriaMetrics URL has no host (expected " + std::string(kForm) +
                                ")");
  }
  static const std::set<std::string> kKnown = {"select",    "tenant",     "flush",
                                               "retention", "max_future", "query_cache"};
  for (const auto& [k, v] : url.query) {
    if (!kKnown.count(k)) {
      return InvalidArgumentError("VictoriaMetrics URL has unknown parameter '" + k +
                                  "' (known: select, tenant, flush, retention, max_future, "
                                  "query_cache)");
    }
    if (k != "flush" && url.query.count(k) > 1) {
      return InvalidArgumentError("VictoriaMetrics URL has parameter '" + k + "' twice");
    }
  }

  Options o;
  o.insert_url = scheme + "://";
  o.insert_url += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != 0) o.insert_url += ":" + std::to_string(url.port);
  std::string_view path = url.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  o.insert_url += PercentEncode(path, "-_.~/");
  o.select_url = url.Param("select").value_or(o.insert_url);
  o.tenant = url.Param("tenant").value_or("");
  if (o.tenant.empty() && url.Param("select")) o.tenant = "0";
  for (auto [it, end] = url.query.equal_range("flush"); it != end; ++it) {
    o.flush_urls.push_back(it->second);
  }
  if (auto v = url.Param("retention")) {
    Result<std::chrono::milliseconds> d = ParseDuration(*v);
    if (!d.ok()) return d.status().WithContext("VictoriaMetrics URL parameter retention");
    o.retention = *d;
  }
  if (auto v = url.Param("max_future")) {
    Result<std::chrono::milliseconds> d = ParseDuration(*v);
    if (!d.ok()) return d.status().WithContext("VictoriaMetrics URL parameter max_future");
    o.max_future = *d;
  }
  if (auto v = url.Param("query_cache")) {
    if (*v != "true" && *v != "false") {
      return InvalidArgumentError(
          "VictoriaMetrics URL parameter query_cache must be true or false");
    }
    o.query_cache = *v == "true";
  }
  PA_RETURN_IF_ERROR(MakeEndpoints(o).status());
  return o;
}

}  // namespace pa::storage::victoriametrics
