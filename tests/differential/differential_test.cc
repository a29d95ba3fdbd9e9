// The differential suite: the same generated data set (data_set.h) loaded into the real
// Prometheus 2.42 and into ours, every query of the table (queries.h) evaluated at several
// instants and over several ranges on both, and the answers required to be equal
// (result_compare.h). Prometheus is the oracle: where it rejects a query, we must reject it too.
// A failing run prints a MISMATCH block per differing evaluation (the first two per query) and a
// summary grouping the failing queries by cause.
//
// Environment:
//   PRIMOART_DIFF_STORAGE=embedded|memory  our side: the embedded store (default when built) or
//                                          the engine over an in-memory querier; "prometheus"
//                                          compares Prometheus with itself (harness check)
//   PRIMOART_DIFF_QUERY=<text>             only queries containing <text>
//   PRIMOART_DIFF_VERBOSE=1                print both answers of every agreeing evaluation too
//   PRIMOART_DIFF_KEEP=1                   keep the scratch directory (data, blocks, logs)
//   PRIMOART_TEST_TMPDIR                   where the scratch directory goes (default /tmp)
//   PRIMOART_TEST_REQUIRE_SERVERS=1        fail instead of skipping when Prometheus is missing
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/time_format.h"
#include "data_set.h"
#include "our_side.h"
#include "prometheus_server.h"
#include "queries.h"
#include "result_compare.h"

namespace pa::differential {
namespace {

using storage::QueryValue;
using SteadyClock = std::chrono::steady_clock;

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

struct Suite {
  std::string dir;
  std::string skip;  // why the suite cannot run here (nothing is wrong with the code)
  Status status;     // set-up failure
  DataSet data;
  ChildProcess promtool;
  std::unique_ptr<PrometheusServer> prometheus;
  std::unique_ptr<OurSide> ours;
  std::string timings;
  double prometheus_seconds = 0;
  double ours_seconds = 0;
};

Suite* g_suite = nullptr;

// PRIMOART_DIFF_STORAGE=prometheus: Prometheus compared with itself, which checks the harness
// end to end — every evaluation must agree, or the comparison sees differences that are not
// there (say, an order Prometheus itself does not keep from one call to the next).
class PrometheusAsOurs : public OurSide {
 public:
  explicit PrometheusAsOurs(PrometheusServer* prometheus) : prometheus_(prometheus) {}
  std::string description() const override { return "Prometheus itself (harness self-check)"; }
  Result<QueryValue> Query(std::string_view promql, int64_t time) override {
    return prometheus_->Query(promql, time);
  }
  Result<QueryValue> QueryRange(std::string_view promql, int64_t start, int64_t end,
                                int64_t step) override {
    return prometheus_->QueryRange(promql, start, end, step);
  }

 private:
  PrometheusServer* prometheus_;
};

Status SetUpSuite(Suite& s) {
  const auto t0 = SteadyClock::now();
  const std::string root = EnvOr("PRIMOART_TEST_TMPDIR", "/tmp");
  std::string tmpl = root + "/pa-diff-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return InternalError("cannot create a directory in " + root);
  s.dir = tmpl;

  s.data = GenerateDataSet(kDefaultSeed);
  const double generate = SecondsSince(t0);
  const std::string om = s.dir + "/data.om";
  PA_RETURN_IF_ERROR(WriteOpenMetrics(s.data, om));
  const double write = SecondsSince(t0) - generate;

  // promtool works in its own process while we load our side.
  const auto t1 = SteadyClock::now();
  const std::string tsdb = s.dir + "/prometheus-tsdb";
  std::filesystem::create_directories(tsdb);
  PA_RETURN_IF_ERROR(StartBackfill(om, tsdb, s.dir + "/promtool.log", s.promtool));
  const std::string storage = EnvOr("PRIMOART_DIFF_STORAGE", "");
  if (storage != "prometheus") {
    PA_ASSIGN_OR_RETURN(s.ours, OpenOurSide(storage, s.data, s.dir + "/ours"));
  }
  const double load_ours = SecondsSince(t1);
  PA_RETURN_IF_ERROR(WaitForBackfill(s.promtool, s.dir + "/promtool.log"));
  const double backfill = SecondsSince(t1);
  std::filesystem::remove(om);

  const auto t2 = SteadyClock::now();
  s.prometheus = std::make_unique<PrometheusServer>(s.dir, tsdb);
  PA_RETURN_IF_ERROR(s.prometheus->Start());
  PA_RETURN_IF_ERROR(s.prometheus->RemoteWrite(s.data.live));
  if (storage == "prometheus") s.ours = std::make_unique<PrometheusAsOurs>(s.prometheus.get());
  s.timings = fmt::format(
      "data set: {} series, {} samples; generate {:.1f} s, write OpenMetrics {:.1f} s, "
      "load ours {:.1f} s and promtool backfill {:.1f} s (in parallel), start Prometheus and "
      "remote-write the staleness series {:.1f} s",
      s.data.series.size() + s.data.live.size(), s.data.SampleCount(), generate, write, load_ours,
      backfill, SecondsSince(t2));
  return Status::Ok();
}

class DifferentialTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    g_suite = new Suite;
    if (access("/usr/bin/prometheus", X_OK) != 0 || access("/usr/bin/promtool", X_OK) != 0) {
      g_suite->skip =
          "/usr/bin/prometheus and /usr/bin/promtool (Debian package prometheus) "
          "are needed";
      if (EnvOr("PRIMOART_TEST_REQUIRE_SERVERS", "") == "1") {
        g_suite->status = FailedPreconditionError(g_suite->skip);
        g_suite->skip.clear();
      }
      return;
    }
    g_suite->status = SetUpSuite(*g_suite);
    std::printf("[differential] %s\n[differential] scratch directory %s\n",
                g_suite->timings.c_str(), g_suite->dir.c_str());
  }

  static void TearDownTestSuite() {
    if (g_suite->prometheus) {
      const Status s = g_suite->prometheus->Stop();
      if (!s.ok()) std::printf("[differential] %s\n", s.ToString().c_str());
    }
    g_suite->ours.reset();
    if (!g_suite->dir.empty() && EnvOr("PRIMOART_DIFF_KEEP", "") != "1") {
      std::error_code ec;
      std::filesystem::remove_all(g_suite->dir, ec);
    }
    std::printf("[differential] time spent answering queries: Prometheus %.1f s, ours %.1f s\n",
                g_suite->prometheus_seconds, g_suite->ours_seconds);
    delete g_suite;
    g_suite = nullptr;
  }

 protected:
  void SetUp() override {
    if (!g_suite->skip.empty()) GTEST_SKIP() << g_suite->skip;
    ASSERT_TRUE(g_suite->status.ok()) << g_suite->status.ToString();
  }
};

// Prometheus and ours hold exactly the generated samples: per series, the sample count over the
// whole week, and the sum of the values.
TEST_F(DifferentialTest, BothSidesHoldTheDataSet) {
  // Evaluated after everything, over 8 days: every sample is in the window. Staleness markers
  // are not samples to *_over_time.
  const int64_t t = DataTimes::kLiveEnd + DataTimes::kMinute;
  std::map<std::string, QueryValue> counts, sums;  // by metric name
  for (const auto* all : {&g_suite->data.series, &g_suite->data.live}) {
    for (const auto& s : *all) {
      const std::string name(storage::LabelValue(s.labels, storage::kMetricNameLabel));
      storage::Labels labels;
      for (const auto& l : s.labels) {
        if (l.name != storage::kMetricNameLabel) labels.push_back(l);
      }
      double sum = 0, count = 0;
      for (const auto& p : s.samples) {
        if (storage::IsStaleNaN(p.v)) continue;
        sum += p.v;
        ++count;
      }
      counts[name].series.push_back({labels, {{t, count}}});
      sums[name].series.push_back({labels, {{t, sum}}});
    }
  }
  for (const auto& [name, want] : counts) {
    for (const char* fn : {"count_over_time", "sum_over_time"}) {
      const std::string q = fmt::format("{}({{__name__=\"{}\"}}[8d])", fn, name);
      const QueryValue& expected = std::string_view(fn) == "count_over_time" ? want : sums[name];
      auto prom = g_suite->prometheus->Query(q, t);
      ASSERT_TRUE(prom.ok()) << q << ": " << prom.status().ToString();
      EXPECT_EQ(CompareValues(expected, *prom, {}), "") << "Prometheus, " << q;
      if (g_suite->ours) {
        auto ours = g_suite->ours->Query(q, t);
        ASSERT_TRUE(ours.ok()) << q << ": " << ours.status().ToString();
        EXPECT_EQ(CompareValues(expected, *ours, {}), "") << "ours, " << q;
      }
    }
  }
}

// What happened to one query over all its evaluations.
struct QueryReport {
  std::string expr;
  int evaluations = 0;
  int failures = 0;
  int excused = 0;
  std::map<std::string, int> causes;
};

class Evaluator {
 public:
  // One evaluation; `what` says which ("instant at ..." / "range ..."), `error_expected` what
  // the table says Prometheus does.
  template <typename Run>
  void Evaluate(const DiffQuery& q, const std::string& what, bool error_expected, bool ordered,
                Run run, QueryReport& report) {
    auto t0 = SteadyClock::now();
    Result<QueryValue> prom = run(static_cast<OurSide*>(nullptr));
    g_suite->prometheus_seconds += SecondsSince(t0);
    if (!prom.ok() && prom.status().code() != StatusCode::kInvalidArgument) {
      ADD_FAILURE() << "Prometheus failed (harness problem) on " << q.expr << ", " << what << ": "
                    << prom.status().ToString() << "\n"
                    << g_suite->prometheus->LogTail();
      ++harness_errors_;
      return;
    }
    const bool prom_rejects = !prom.ok();
    if (!(q.flags & kMayError) && prom_rejects != error_expected) {
      ADD_FAILURE() << "query table is wrong: Prometheus "
                    << (prom_rejects ? "rejects " : "answers ") << q.expr << ", " << what
                    << (prom_rejects ? ": " + prom.status().message() : "");
    }
    ++evaluations_;
    ++report.evaluations;
    if (!g_suite->ours) return;

    t0 = SteadyClock::now();
    Result<QueryValue> ours = run(g_suite->ours.get());
    g_suite->ours_seconds += SecondsSince(t0);
    std::string cause, detail;
    if (!ours.ok()) {
      const Status& st = ours.status();
      if (st.code() == StatusCode::kUnimplemented) {
        for (std::string_view name : KnownUnsupported()) {
          if (st.message().find(name) != std::string::npos) {
            ++report.excused;
            return;
          }
        }
        cause = "unimplemented: " + st.message().substr(0, 120);
      } else if (!prom_rejects) {
        cause = "ours rejects, Prometheus answers: " + st.ToString().substr(0, 120);
      }
      detail = "  ours: " + st.ToString() + "\n";
      if (prom.ok()) detail += "  Prometheus: " + FormatValue(*prom) + "\n";
    } else if (prom_rejects) {
      cause = "ours answers, Prometheus rejects";
      detail =
          "  Prometheus: " + prom.status().message() + "\n  ours: " + FormatValue(*ours) + "\n";
    } else {
      const std::string diff = CompareValues(*prom, *ours, {.ordered = ordered});
      if (!diff.empty()) {
        cause = diff.find("result type") != std::string::npos     ? "different result type"
                : diff.find("in ours") != std::string::npos       ? "different series"
                : diff.find("order differs") != std::string::npos ? "different order"
                                                                  : "different values";
        detail = diff + "  Prometheus: " + FormatValue(*prom) +
                 "\n  ours:       " + FormatValue(*ours) + "\n";
      }
    }
    if (cause.empty()) {
      ++agreed_;
      if (verbose_) {
        std::printf("AGREE %s\n  %s\n  Prometheus: %s\n  ours:       %s\n",
                    std::string(q.expr).c_str(), what.c_str(),
                    prom.ok() ? FormatValue(*prom, 3, 3).c_str() : prom.status().message().c_str(),
                    ours.ok() ? FormatValue(*ours, 3, 3).c_str() : ours.status().message().c_str());
      }
      return;
    }
    ++report.failures;
    ++report.causes[cause];
    if (report.failures <= 2) {
      std::printf("MISMATCH %s\n  %s\n%s", std::string(q.expr).c_str(), what.c_str(),
                  detail.c_str());
    }
  }

  int evaluations() const { return evaluations_; }
  int agreed() const { return agreed_; }
  int harness_errors() const { return harness_errors_; }

 private:
  const bool verbose_ = EnvOr("PRIMOART_DIFF_VERBOSE", "") == "1";
  int evaluations_ = 0;
  int agreed_ = 0;
  int harness_errors_ = 0;
};

std::string When(int64_t ms) { return FormatRfc3339Ms(ms); }

void PrintSummary(const std::vector<QueryReport>& reports, const Evaluator& ev) {
  int failing = 0, excused = 0;
  std::map<std::string, std::vector<std::string>> by_cause;
  for (const auto& r : reports) {
    if (r.failures > 0) ++failing;
    excused += r.excused;
    for (const auto& [cause, n] : r.causes) {
      by_cause[cause].push_back(
          fmt::format("{}   ({} of {} evaluations)", r.expr, n, r.evaluations));
    }
  }
  std::printf(
      "\n[differential] %zu queries, %d evaluations compared, %d agreed, %d excused "
      "(known unsupported), %d mismatches in %d queries\n",
      reports.size(), ev.evaluations(), ev.agreed(), excused,
      ev.evaluations() - ev.agreed() - excused, failing);
  for (const auto& [cause, queries] : by_cause) {
    std::printf("[differential] %s: %zu queries\n", cause.c_str(), queries.size());
    for (const auto& q : queries) std::printf("    %s\n", q.c_str());
  }
}

TEST_F(DifferentialTest, OursAgreesWithPrometheus) {
  const std::string only = EnvOr("PRIMOART_DIFF_QUERY", "");
  ASSERT_GE(QueryTable().size(), 150u);
  std::set<std::string_view> seen;
  for (const auto& q : QueryTable()) EXPECT_TRUE(seen.insert(q.expr).second) << q.expr;

  Evaluator ev;
  std::vector<QueryReport> reports;
  for (const DiffQuery& q : QueryTable()) {
    if (!only.empty() && q.expr.find(only) == std::string_view::npos) continue;
    QueryReport& report = reports.emplace_back();
    report.expr = q.expr;
    for (const EvalInstant& at : EvalInstants()) {
      ev.Evaluate(
          q, fmt::format("instant at {} ({}, {})", at.time, When(at.time), at.why),
          (q.flags & kErrorInstant) != 0, (q.flags & kOrdered) != 0,
          [&](OurSide* ours) {
            return ours ? ours->Query(q.expr, at.time)
                        : g_suite->prometheus->Query(q.expr, at.time);
          },
          report);
    }
    for (const EvalRange& r : EvalRanges()) {
      ev.Evaluate(
          q,
          fmt::format("range {} .. {} step {} s ({})", When(r.start), When(r.end), r.step / 1000.0,
                      r.why),
          (q.flags & kErrorRange) != 0, false,
          [&](OurSide* ours) {
            return ours ? ours->QueryRange(q.expr, r.start, r.end, r.step)
                        : g_suite->prometheus->QueryRange(q.expr, r.start, r.end, r.step);
          },
          report);
    }
    ASSERT_LT(ev.harness_errors(), 5) << "Prometheus keeps failing; giving up";
  }
  ASSERT_NE(g_suite->ours, nullptr);
  std::printf("[differential] our side: %s\n", g_suite->ours->description().c_str());
  PrintSummary(reports, ev);
  int excused = 0;
  for (const auto& r : reports) excused += r.excused;
  EXPECT_EQ(ev.agreed() + excused, ev.evaluations()) << "see the MISMATCH lines and the summary";
}

}  // namespace
}  // namespace pa::differential
