#include "metrics/metrics_role.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "gateway/router.h"
#include "metrics/exposition.h"
#include "metrics/prom_api.h"
#include "storage/metric_store.h"

namespace pa::metrics {
namespace {

using gateway::Access;
using gateway::Method;
using gateway::Request;
using gateway::Response;

class MetricsRole final : public core::Module {
 public:
  explicit MetricsRole(core::Services& s) : s_(s), store_(*s.metric_store) {
    const core::Config& c = s.cfg();
    limits_.max_series = c.metrics_query_max_series;
    limits_.max_samples = c.metrics_query_max_samples;
    limits_.timeout = c.metrics_query_timeout;
  }

  Status RegisterRoutes() {
    auto& r = *s_.router;
    auto add = [&](Method m, const char* path, Access a, Response (MetricsRole::*h)(Request&)) {
      return r.Add(
          m, path, std::move(a), [this, h](Request& q) { return (this->*h)(q); }, {}, "metrics");
    };
    for (Method m : {Method::kGet, Method::kPost}) {
      PA_RETURN_IF_ERROR(add(m, "/prometheus/api/v1/query", Access::Read(), &MetricsRole::Query));
      PA_RETURN_IF_ERROR(
          add(m, "/prometheus/api/v1/query_range", Access::Read(), &MetricsRole::QueryRange));
      PA_RETURN_IF_ERROR(add(m, "/prometheus/api/v1/series", Access::Read(), &MetricsRole::Series));
      PA_RETURN_IF_ERROR(add(m, "/prometheus/api/v1/labels", Access::Read(), &MetricsRole::Labels));
      PA_RETURN_IF_ERROR(
          add(m, "/prometheus/api/v1/query_exemplars", Access::Read(), &MetricsRole::Exemplars));
    }
    PA_RETURN_IF_ERROR(add(Method::kGet, "/prometheus/api/v1/label/{name}/values", Access::Read(),
                           &MetricsRole::LabelValues));
    PA_RETURN_IF_ERROR(add(Method::kGet, "/prometheus/api/v1/status/buildinfo", Access::Read(),
                           &MetricsRole::BuildInfo));
    PA_RETURN_IF_ERROR(
        add(Method::kGet, "/prometheus/api/v1/metadata", Access::Read(), &MetricsRole::Metadata));
    return r.Add(
        Method::kPost, "/api/v1/import/prometheus", Access::Ingest(),
        [this](Request& q) { return Import(q); }, {}, "metrics");
  }

 private:
  // The query's limits: the configured ones, with a shorter timeout if the caller asks for it.
  Result<storage::QueryLimits> LimitsFor(const ApiParams& p) const {
    storage::QueryLimits limits = limits_;
    if (auto t = p.Get("timeout")) {
      PA_ASSIGN_OR_RETURN(int64_t ms, ParseApiDuration(*t));
      if (ms > 0) limits.timeout = std::min(limits.timeout, std::chrono::milliseconds(ms));
    }
    return limits;
  }

  Result<std::vector<storage::MatcherSet>> MatchSets(const ApiParams& p) const {
    std::vector<storage::MatcherSet> sets;
    for (const auto& m : p.All("match[]")) {
      PA_ASSIGN_OR_RETURN(auto set, ParseSeriesSelector(m));
      sets.push_back(std::move(set));
    }
    return sets;
  }

  // start/end of /series and /labels; without them, everything a store can hold: the retention
  // period up to the furthest future it accepts (Prometheus says "all time", which a remote
  // store cannot answer).
  Result<std::pair<int64_t, int64_t>> Range(const ApiParams& p) const {
    const int64_t now = s_.clock->NowMs();
    int64_t start = now - s_.cfg().metrics_retention.count();
    int64_t end = now + 10 * 60 * 1000;
    if (auto v = p.Get("start")) {
      PA_ASSIGN_OR_RETURN(start, ParseApiTime(*v));
    }
    if (auto v = p.Get("end")) {
      PA_ASSIGN_OR_RETURN(end, ParseApiTime(*v));
    }
    if (end < start) return InvalidArgumentError("end timestamp must not be before start time");
    return std::make_pair(start, end);
  }

  Response Query(Request& req) {
    auto p = ApiParams::From(req);
    if (!p.ok()) return PromErrorFromStatus(p.status());
    auto query = p->Get("query");
    if (!query || query->empty())
      return PromError(400, "bad_data", "invalid parameter \"query\": missing");
    int64_t time = s_.clock->NowMs();
    if (auto t = p->Get("time")) {
      auto parsed = ParseApiTime(*t);
      if (!parsed.ok())
        return PromError(400, "bad_data",
                         "invalid parameter \"time\": " + parsed.status().message());
      time = *parsed;
    }
    auto limits = LimitsFor(*p);
    if (!limits.ok())
      return PromError(400, "bad_data",
                       "invalid parameter \"timeout\": " + limits.status().message());
    auto value = store_.Query(*query, time, *limits);
    if (!value.ok()) return PromErrorFromStatus(value.status());
    return PromSuccess(RenderQueryValue(*value));
  }

  Response QueryRange(Request& req) {
    auto p = ApiParams::From(req);
    if (!p.ok()) return PromErrorFromStatus(p.status());
    auto query = p->Get("query");
    if (!query || query->empty())
      return PromError(400, "bad_data", "invalid parameter \"query\": missing");
    int64_t start = 0, end = 0, step = 0;
    for (auto [name, out, parse] :
         {std::tuple{"start", &start, &ParseApiTime}, std::tuple{"end", &end, &ParseApiTime},
          std::tuple{"step", &step, &ParseApiDuration}}) {
      auto v = p->Get(name);
      if (!v)
        return PromError(400, "bad_data",
                         std::string("invalid parameter \"") + name + "\": missing");
      auto parsed = parse(*v);
      if (!parsed.ok()) {
        return PromError(
            400, "bad_data",
            std::string("invalid parameter \"") + name + "\": " + parsed.status().message());
      }
      *out = *parsed;
    }
    if (end < start)
      return PromError(400, "bad_data",
                       "invalid parameter \"end\": end timestamp must not be before start time");
    if (step <= 0)
      return PromError(400, "bad_data",
                       "invalid parameter \"step\": zero or negative query resolution step widths "
                       "are not accepted. Try a positive integer");
    // Prometheus's guard against accidental huge responses.
    if ((end - start) / step > 11000) {
      return PromError(400, "bad_data",
                       "exceeded maximum resolution of 11,000 points per timeseries. Try "
                       "decreasing the query resolution (?step=XX)");
    }
    auto limits = LimitsFor(*p);
    if (!limits.ok())
      return PromError(400, "bad_data",
                       "invalid parameter \"timeout\": " + limits.status().message());
    auto value = store_.QueryRange(*query, start, end, step, *limits);
    if (!value.ok()) return PromErrorFromStatus(value.status());
    return PromSuccess(RenderQueryValue(*value));
  }

  Response Series(Request& req) {
    auto p = ApiParams::From(req);
    if (!p.ok()) return PromErrorFromStatus(p.status());
    auto sets = MatchSets(*p);
    if (!sets.ok()) return PromErrorFromStatus(sets.status());
    if (sets->empty()) return PromError(400, "bad_data", "no match[] parameter provided");
    auto range = Range(*p);
    if (!range.ok()) return PromErrorFromStatus(range.status());
    int64_t limit = 0;
    if (auto l = p->Get("limit")) {
      auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (ec != std::errc() || ptr != l->data() + l->size() || limit < 0) {
        return PromError(400, "bad_data",
                         "invalid parameter \"limit\": not a non-negative integer");
      }
    }
    auto series = store_.Series(*sets, range->first, range->second, limit);
    if (!series.ok()) return PromErrorFromStatus(series.status());
    return PromSuccess(RenderSeries(*series));
  }

  Response Labels(Request& req) {
    auto p = ApiParams::From(req);
    if (!p.ok()) return PromErrorFromStatus(p.status());
    auto sets = MatchSets(*p);
    if (!sets.ok()) return PromErrorFromStatus(sets.status());
    auto range = Range(*p);
    if (!range.ok()) return PromErrorFromStatus(range.status());
    auto names = store_.LabelNames(*sets, range->first, range->second);
    if (!names.ok()) return PromErrorFromStatus(names.status());
    return PromSuccess(RenderStrings(*names));
  }

  Response LabelValues(Request& req) {
    auto p = ApiParams::From(req);
    if (!p.ok()) return PromErrorFromStatus(p.status());
    const std::string name(req.Param("name"));
    if (name != "__name__") {
      storage::Labels probe{{name, "x"}};
      if (!storage::NormalizeLabels(probe).ok()) {
        return PromError(400, "bad_data", "invalid label name: \"" + name + "\"");
      }
    }
    auto sets = MatchSets(*p);
    if (!sets.ok()) return PromErrorFromStatus(sets.status());
    auto range = Range(*p);
    if (!range.ok()) return PromErrorFromStatus(range.status());
    auto values = store_.LabelValues(name, *sets, range->first, range->second);
    if (!values.ok()) return PromErrorFromStatus(values.status());
    return PromSuccess(RenderStrings(*values));
  }

  Response BuildInfo(Request&) {
    // The Prometheus version whose API and PromQL semantics this server implements: Grafana
    // decides which features to use from it.
    Json data = {{"version", "2.42.0"},
                 {"revision", s_.build.commit},
                 {"branch", "primoart-" + s_.build.version},
                 {"buildUser", "primoart"},
                 {"buildDate", ""},
                 {"goVersion", ""},
                 {"application", "PrimoART"}};
    return PromSuccess(Json{{"status", "success"}, {"data", data}}.dump());
  }

  Response Metadata(Request&) { return PromSuccess(R"({"status":"success","data":{}})"); }
  Response Exemplars(Request&) { return PromSuccess(R"({"status":"success","data":[]})"); }

  Response Import(Request& req) {
    auto parsed = ParseExposition(req.body, s_.clock->NowMs());
    if (!parsed.ok()) {
      return Response::Error(400, "bad_request", parsed.status().message());
    }
    auto result = store_.Append(parsed->series);
    if (!result.ok()) {
      Response resp = Response::FromStatus(result.status());
      if (result.status().code() == StatusCode::kUnavailable) resp.headers.Set("Retry-After", "5");
      return resp;
    }
    return Response::Json(200, {{"accepted", result->accepted},
                                {"too_old", result->too_old},
                                {"too_new", result->too_new},
                                {"duplicates", result->duplicates}});
  }

  core::Services& s_;
  storage::MetricStore& store_;
  storage::QueryLimits limits_;
};

}  // namespace

Result<std::unique_ptr<core::Module>> NewMetricsRole(core::Services& services) {
  auto role = std::make_unique<MetricsRole>(services);
  PA_RETURN_IF_ERROR(role->RegisterRoutes());
  return std::unique_ptr<core::Module>(std::move(role));
}

}  // namespace pa::metrics
