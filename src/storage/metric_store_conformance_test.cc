// The MetricStore conformance suite: one typed test suite run against every backend, so the
// contract of metric_store.h — exact samples, any order, duplicates, retention counting, label
// queries with matchers, all-or-nothing validation, concurrent appenders, PromQL — holds on
// both. Instances are prefixed with the backend (`--gtest_filter=Embedded*`,
// `--gtest_filter=VictoriaMetrics*`); the embedded engine's own tests (crash durability, torn
// WAL, compaction, retention, memory bounds) follow the typed suite with the same prefix.
//
// VictoriaMetrics tests need PRIMOART_TEST_VM_URL (scripts/vm-test-server start DIR prints one);
// without it they skip, or fail when PRIMOART_TEST_REQUIRE_SERVERS=1. Every series a test writes
// carries a label t=<unique id>, and every read matches on it, so tests share the server safely.
// Raw samples are read through the embedded engine's Querier, and through VictoriaMetrics as a
// range selector `{...}[d]` evaluated at the end of the range, which returns every raw sample.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/random.h"
#include "base/telemetry.h"
#include "storage/embedded_tsdb/tsdb_store.h"
#include "storage/metric_store.h"
#include "storage/victoriametrics/vm_store.h"

namespace pa::storage {
namespace {

using namespace std::chrono_literals;

template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}
Status StatusOf(const Status& s) { return s; }

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::pa::Status assert_ok_status_ = StatusOf(expr);               \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (false)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::pa::Status expect_ok_status_ = StatusOf(expr);               \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString(); \
  } while (false)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(PA_STATUS_CONCAT(assign_tmp_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                                 \
  ASSERT_TRUE(tmp.ok()) << StatusOf(tmp).ToString(); \
  lhs = std::move(tmp).value()

namespace testutil {

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

struct RawSeries {
  Labels labels;
  std::vector<Sample> samples;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool RequireServers() { return Env("PRIMOART_TEST_REQUIRE_SERVERS") == "1"; }

std::filesystem::path MakeTempDir(const std::string& prefix) {
  const std::string base = Env("TMPDIR").empty() ? "/tmp" : Env("TMPDIR");
  std::string pattern = base + "/" + prefix + "_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

void RemoveDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!dir.empty()) std::filesystem::remove_all(dir, ec);
}

// {name="value",...} in PromQL.
std::string SelectorText(const MatcherSet& matchers) {
  std::string out = "{";
  for (const LabelMatcher& m : matchers) {
    if (out.size() > 1) out += ',';
    out += m.name;
    switch (m.op) {
      case LabelMatcher::Op::kEqual:
        out += "=";
        break;
      case LabelMatcher::Op::kNotEqual:
        out += "!=";
        break;
      case LabelMatcher::Op::kRegexMatch:
        out += "=~";
        break;
      case LabelMatcher::Op::kRegexNoMatch:
        out += "!~";
        break;
    }
    out += '"';
    for (char c : m.value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<std::vector<RawSeries>> ReadRawEmbedded(MetricStore& store, const MatcherSet& matchers,
                                               int64_t mint, int64_t maxt) {
  PA_ASSIGN_OR_RETURN(std::unique_ptr<Querier> querier, embedded_tsdb::NewQuerier(store));
  PA_ASSIGN_OR_RETURN(std::unique_ptr<SeriesSet> set, querier->Select(matchers, mint, maxt));
  std::vector<RawSeries> out;
  while (set->Next()) {
    out.push_back({set->labels(), {}});
    PA_RETURN_IF_ERROR(set->ReadSamples(&out.back().samples));
  }
  PA_RETURN_IF_ERROR(set->status());
  return out;
}

bool SameValue(double a, double b, bool bit_exact) {
  if (bit_exact) return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
  return a == b || (std::isnan(a) && std::isnan(b));
}

void ExpectSamples(const std::vector<Sample>& got, const std::vector<Sample>& want,
                   bool bit_exact) {
  ASSERT_EQ(got.size(), want.size()) << [&] {
    std::ostringstream out;
    out << "got:";
    for (const Sample& s : got) out << " (" << s.t << ", " << s.v << ")";
    out << "\nwant:";
    for (const Sample& s : want) out << " (" << s.t << ", " << s.v << ")";
    return out.str();
  }();
  int reported = 0;
  for (size_t i = 0; i < want.size() && reported < 5; ++i) {
    if (got[i].t != want[i].t || !SameValue(got[i].v, want[i].v, bit_exact)) {
      ADD_FAILURE() << "sample " << i << ": got (" << got[i].t << ", " << got[i].v << ") want ("
                    << want[i].t << ", " << want[i].v << ")";
      ++reported;
    }
  }
}

}  // namespace testutil

using testutil::kDay;
using testutil::kHour;
using testutil::kMinute;
using testutil::RawSeries;

// ---- Backends ------------------------------------------------------------------------------
// Each knows how to open a store for one test, read raw samples back, and what it keeps of
// special values.

class EmbeddedBackend {
 public:
  static constexpr bool kBitExactValues = true;  // NaN payloads, -0.0 and all
  static constexpr bool kKeepsNaN = true;        // ordinary NaN is a value like any other
  static constexpr bool kRawReadsStaleMarkers = true;
  static constexpr bool kCountsDuplicates = true;

  std::string Prepare() {
    dir_ = testutil::MakeTempDir("pa_tsdb_conf");
    return dir_.empty() ? "cannot create a temporary directory" : "";
  }
  Result<std::unique_ptr<MetricStore>> Open() {
    return embedded_tsdb::Open({.dir = dir_.string(), .clock = &clock_});
  }
  int64_t Now() const { return clock_.NowMs(); }
  Result<std::vector<RawSeries>> ReadRaw(MetricStore& store, const MatcherSet& matchers,
                                         int64_t mint, int64_t maxt) {
    return testutil::ReadRawEmbedded(store, matchers, mint, maxt);
  }
  void Cleanup() { testutil::RemoveDir(dir_); }

 private:
  FakeClock clock_;
  std::filesystem::path dir_;
};

class VictoriaMetricsBackend {
 public:
  // VictoriaMetrics stores decimals: ordinary NaN is dropped, -0.0 reads back as 0; a range
  // selector returns a staleness marker as a plain NaN (JSON has no way to say which NaN).
  static constexpr bool kBitExactValues = false;
  static constexpr bool kKeepsNaN = false;
  static constexpr bool kRawReadsStaleMarkers = true;
  static constexpr bool kCountsDuplicates = false;

  std::string Prepare() {
    url_ = testutil::Env("PRIMOART_TEST_VM_URL");
    if (url_.empty()) {
      return "PRIMOART_TEST_VM_URL is not set (scripts/vm-test-server start DIR prints one)";
    }
    dir_ = testutil::MakeTempDir("pa_vm_conf");
    return dir_.empty() ? "cannot create a temporary directory" : "";
  }
  Result<std::unique_ptr<MetricStore>> Open() {
    PA_ASSIGN_OR_RETURN(victoriametrics::Options o,
                        victoriametrics::OptionsFromUrl("victoriametrics+" + url_));
    o.spool_dir = (dir_ / "spool").string();
    o.retention = 30 * 24h;
    o.max_future = 10min;
    return victoriametrics::Open(o);
  }
  int64_t Now() const { return Clock::System()->NowMs(); }
  Result<std::vector<RawSeries>> ReadRaw(MetricStore& store, const MatcherSet& matchers,
                                         int64_t mint, int64_t maxt) {
    PA_RETURN_IF_ERROR(store.Sync(30s));
    const std::string query =
        testutil::SelectorText(matchers) + "[" + std::to_string(maxt - mint + 1) + "ms]";
    PA_ASSIGN_OR_RETURN(QueryValue v, store.Query(query, maxt, QueryLimits{}));
    std::vector<RawSeries> out;
    for (SeriesPoints& s : v.series) out.push_back({std::move(s.labels), std::move(s.points)});
    return out;
  }
  void Cleanup() { testutil::RemoveDir(dir_); }

 private:
  std::string url_;
  std::filesystem::path dir_;
};

// ---- The typed suite -----------------------------------------------------------------------

template <typename Backend>
class MetricConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = backend_.Prepare(); !why.empty()) {
      if (testutil::RequireServers()) FAIL() << why << " and PRIMOART_TEST_REQUIRE_SERVERS=1";
      GTEST_SKIP() << why;
    }
    ASSERT_OK_AND_ASSIGN(store_, backend_.Open());
    id_ = "conf-" + NewRequestId().substr(0, 16);
    // Whole minutes two days back: inside every retention, away from "now" effects.
    t0_ = (backend_.Now() - 2 * kDay) / kMinute * kMinute;
  }
  void TearDown() override {
    store_.reset();
    backend_.Cleanup();
  }

  MetricStore& store() { return *store_; }
  // Labels of a test series: the metric name, `extra`, and the test's own t label.
  Labels Series(const std::string& name, Labels extra = {}) {
    extra.push_back({"t", id_});
    extra.push_back({std::string(kMetricNameLabel), name});
    EXPECT_OK(NormalizeLabels(extra));
    return extra;
  }
  MatcherSet Match(MatcherSet extra = {}) {
    extra.push_back({LabelMatcher::Op::kEqual, "t", id_});
    return extra;
  }
  Result<std::vector<RawSeries>> Read(const MatcherSet& m, int64_t mint, int64_t maxt) {
    return backend_.ReadRaw(*store_, Match(m), mint, maxt);
  }
  // Every sample a test wrote lies in [t0_ - 8 days, t0_ + 1 day].
  Result<std::vector<RawSeries>> ReadAll(const MatcherSet& m = {}) {
    return Read(m, t0_ - 8 * kDay, t0_ + kDay);
  }
  Status Sync() { return store_->Sync(30s); }
  std::string Selector(const std::string& name, const std::string& extra = "") {
    return name + "{t=\"" + id_ + "\"" + (extra.empty() ? "" : "," + extra) + "}";
  }

  void ExpectSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
    testutil::ExpectSamples(got, want, Backend::kBitExactValues);
  }

  Backend backend_;
  std::unique_ptr<MetricStore> store_;
  std::string id_;
  int64_t t0_ = 0;
};

TYPED_TEST_SUITE_P(MetricConformance);

TYPED_TEST_P(MetricConformance, AppendsAndReadsBackExactSamples) {
  // Labels in any order, empty values dropped: stored normalised.
  Labels raw = {{"job", "api"}, {"t", this->id_}, {"__name__", "req_total"}, {"zone", ""}};
  std::vector<Sample> samples;
  for (int i = 0; i < 100; ++i) {
    samples.push_back({this->t0_ + i * 15000, i * 1.5 + (i % 3 == 0 ? 0.25 : 1e-3)});
  }
  samples.push_back({this->t0_ + 100 * 15000, 123456789.0});
  samples.push_back({this->t0_ + 101 * 15000, -42.125});
  ASSERT_OK_AND_ASSIGN(AppendResult r, this->store().Append({{raw, samples}}));
  EXPECT_EQ(r.accepted, 102);
  EXPECT_EQ(r.too_old + r.too_new + r.duplicates, 0);

  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, this->Series("req_total", {{"job", "api"}}));
  this->ExpectSamples(got[0].samples, samples);

  // A sub-range is cut exactly.
  ASSERT_OK_AND_ASSIGN(got, this->Read({}, samples[10].t, samples[20].t));
  ASSERT_EQ(got.size(), 1u);
  this->ExpectSamples(got[0].samples,
                      std::vector<Sample>(samples.begin() + 10, samples.begin() + 21));
}

TYPED_TEST_P(MetricConformance, SpecialValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Sample> samples = {{this->t0_, 1.0},
                                       {this->t0_ + 1000, inf},
                                       {this->t0_ + 2000, -inf},
                                       {this->t0_ + 3000, -0.0},
                                       {this->t0_ + 4000, nan},
                                       {this->t0_ + 5000, 2.0},
                                       {this->t0_ + 6000, StaleNaN()}};
  ASSERT_OK(this->store().Append({{this->Series("special"), samples}}));
  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  ASSERT_EQ(got.size(), 1u);
  std::vector<Sample> want;
  for (const Sample& s : samples) {
    if (std::isnan(s.v) && !IsStaleNaN(s.v) && !TypeParam::kKeepsNaN) continue;
    if (IsStaleNaN(s.v) && !TypeParam::kRawReadsStaleMarkers) continue;
    want.push_back(s);
  }
  this->ExpectSamples(got[0].samples, want);
  if (TypeParam::kRawReadsStaleMarkers && TypeParam::kBitExactValues) {
    EXPECT_EQ(std::bit_cast<uint64_t>(got[0].samples.back().v), kStaleNaNBits);
  }
}

TYPED_TEST_P(MetricConformance, OutOfOrderSamplesReadBackSortedAndComplete) {
  // 10 000 samples over 7 days, shuffled, in 20 batches of two series each.
  std::vector<Sample> a, b;
  const int64_t start = this->t0_ - 7 * kDay;
  for (int i = 0; i < 10000; ++i) {
    const int64_t t = start + i * (7 * kDay / 10000);
    a.push_back({t, static_cast<double>(i)});
    b.push_back({t, i * 0.5});
  }
  std::vector<size_t> order(a.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  int64_t accepted = 0;
  for (size_t batch = 0; batch < 20; ++batch) {
    SeriesSamples sa{this->Series("ooo", {{"s", "a"}}), {}};
    SeriesSamples sb{this->Series("ooo", {{"s", "b"}}), {}};
    for (size_t k = batch * 500; k < (batch + 1) * 500; ++k) {
      sa.samples.push_back(a[order[k]]);
      sb.samples.push_back(b[order[order.size() - 1 - k]]);
    }
    ASSERT_OK_AND_ASSIGN(AppendResult r, this->store().Append({sa, sb}));
    accepted += r.accepted;
  }
  EXPECT_EQ(accepted, 20000);
  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  ASSERT_EQ(got.size(), 2u);
  this->ExpectSamples(got[0].samples, a);
  this->ExpectSamples(got[1].samples, b);
}

TYPED_TEST_P(MetricConformance, DuplicatesAreStoredOnce) {
  std::vector<Sample> samples;
  for (int i = 0; i < 50; ++i) samples.push_back({this->t0_ + i * kMinute, i * 2.0});
  const SeriesSamples series{this->Series("dup"), samples};
  ASSERT_OK(this->store().Append({series}));
  // A client retrying the same batch, and the same sample twice in one call.
  ASSERT_OK_AND_ASSIGN(AppendResult again, this->store().Append({series}));
  SeriesSamples twice{this->Series("dup"), {samples[7], samples[7]}};
  ASSERT_OK_AND_ASSIGN(AppendResult same_call, this->store().Append({twice}));
  if (TypeParam::kCountsDuplicates) {
    EXPECT_EQ(again.accepted, 0);
    EXPECT_EQ(again.duplicates, 50);
    EXPECT_EQ(same_call.duplicates, 2);
  }
  EXPECT_EQ(again.too_old + again.too_new, 0);
  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  ASSERT_EQ(got.size(), 1u);
  this->ExpectSamples(got[0].samples, samples);
}

TYPED_TEST_P(MetricConformance, TooOldAndTooNewAreCountedNotStored) {
  const int64_t now = this->backend_.Now();
  const SeriesSamples series{this->Series("edges"),
                             {{now - 31 * kDay, 1},
                              {now - 29 * kDay, 2},
                              {now - kMinute, 3},
                              {now + 5 * kMinute, 4},
                              {now + 11 * kMinute, 5},
                              {now + kDay, 6}}};
  ASSERT_OK_AND_ASSIGN(AppendResult r, this->store().Append({series}));
  EXPECT_EQ(r.accepted, 3);
  EXPECT_EQ(r.too_old, 1);
  EXPECT_EQ(r.too_new, 2);
  ASSERT_OK_AND_ASSIGN(auto got, this->Read({}, now - 40 * kDay, now + 2 * kDay));
  ASSERT_EQ(got.size(), 1u);
  this->ExpectSamples(got[0].samples, {series.samples[1], series.samples[2], series.samples[3]});
}

TYPED_TEST_P(MetricConformance, SeriesLabelNamesAndValuesWithMatchers) {
  const int64_t t0 = this->t0_;
  auto early = [&](double v) {
    std::vector<Sample> s;
    for (int i = 0; i <= 30; ++i) s.push_back({t0 + i * kMinute, v});
    return s;
  };
  std::vector<Sample> late;
  for (int i = 0; i <= 60; ++i) late.push_back({t0 + 10 * kHour + i * kMinute, 0.5});
  const Labels a = this->Series("http_requests", {{"job", "api"}, {"code", "200"}});
  const Labels b = this->Series("http_requests", {{"job", "api"}, {"code", "500"}});
  const Labels c = this->Series("http_requests", {{"job", "web"}, {"code", "200"}});
  const Labels d = this->Series("cpu", {{"job", "web"}, {"mode", "idle"}});
  ASSERT_OK(this->store().Append({{a, early(1)}, {b, early(2)}, {c, early(3)}, {d, late}}));
  ASSERT_OK(this->Sync());

  using Op = LabelMatcher::Op;
  const int64_t lo = t0 - kHour, hi = t0 + 12 * kHour;
  auto series = [&](std::vector<MatcherSet> match, int64_t mint, int64_t maxt,
                    int64_t limit = 0) -> std::vector<Labels> {
    for (MatcherSet& m : match) m = this->Match(m);
    auto r = this->store().Series(match, mint, maxt, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Labels>{};
  };
  auto sorted = [](std::vector<Labels> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(series({{}}, lo, hi), sorted({a, b, c, d}));
  EXPECT_EQ(series({{{Op::kEqual, "__name__", "http_requests"}}}, lo, hi), sorted({a, b, c}));
  EXPECT_EQ(series({{{Op::kEqual, "job", "api"}}}, lo, hi), sorted({a, b}));
  EXPECT_EQ(
      series({{{Op::kEqual, "__name__", "http_requests"}, {Op::kNotEqual, "code", "200"}}}, lo, hi),
      sorted({b}));
  EXPECT_EQ(series({{{Op::kRegexMatch, "job", "a.*"}}}, lo, hi), sorted({a, b}));
  EXPECT_EQ(
      series({{{Op::kRegexMatch, "job", "api|web"}, {Op::kEqual, "__name__", "cpu"}}}, lo, hi),
      sorted({d}));
  // A series without `code` has code="", which !~ "2.." matches.
  EXPECT_EQ(series({{{Op::kRegexNoMatch, "code", "2.."}}}, lo, hi), sorted({b, d}));
  EXPECT_EQ(series({{{Op::kRegexMatch, "code", "5.+|3.*"}}}, lo, hi), sorted({b}));
  // Regexes are anchored: "pi" matches neither "api" nor anything else.
  EXPECT_EQ(series({{{Op::kRegexMatch, "job", "pi"}}}, lo, hi), std::vector<Labels>{});
  // Several sets are OR-ed.
  EXPECT_EQ(series({{{Op::kEqual, "__name__", "cpu"}}, {{Op::kEqual, "code", "500"}}}, lo, hi),
            sorted({b, d}));
  // Time ranges: only series with samples inside.
  EXPECT_EQ(series({{}}, t0 + 5 * kHour, hi), sorted({d}));
  EXPECT_EQ(series({{}}, lo, t0 + kHour), sorted({a, b, c}));
  EXPECT_EQ(series({{}}, t0 + 13 * kHour, t0 + 14 * kHour), std::vector<Labels>{});
  // A limit keeps the first ones in label order.
  const std::vector<Labels> all = sorted({a, b, c, d});
  EXPECT_EQ(series({{}}, lo, hi, 2), std::vector<Labels>(all.begin(), all.begin() + 2));

  const std::vector<MatcherSet> mine = {this->Match()};
  ASSERT_OK_AND_ASSIGN(auto names, this->store().LabelNames(mine, lo, hi));
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "code", "job", "mode", "t"}));
  ASSERT_OK_AND_ASSIGN(names, this->store().LabelNames(mine, t0 + 5 * kHour, hi));
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "job", "mode", "t"}));
  ASSERT_OK_AND_ASSIGN(auto values, this->store().LabelValues("job", mine, lo, hi));
  EXPECT_EQ(values, (std::vector<std::string>{"api", "web"}));
  ASSERT_OK_AND_ASSIGN(values, this->store().LabelValues(
                                   "code", {this->Match({{Op::kEqual, "job", "web"}})}, lo, hi));
  EXPECT_EQ(values, (std::vector<std::string>{"200"}));
  ASSERT_OK_AND_ASSIGN(values, this->store().LabelValues("__name__", mine, lo, hi));
  EXPECT_EQ(values, (std::vector<std::string>{"cpu", "http_requests"}));
  ASSERT_OK_AND_ASSIGN(values, this->store().LabelValues("nope", mine, lo, hi));
  EXPECT_TRUE(values.empty());
}

TYPED_TEST_P(MetricConformance, BadLabelsFailTheWholeCallAndStoreNothing) {
  const SeriesSamples good{this->Series("good"), {{this->t0_, 1}}};
  const std::vector<Labels> bad = {
      {{"__name__", "x"}, {"t", this->id_}, {"1bad", "v"}},
      {{"__name__", "1x"}, {"t", this->id_}},
      {{"__name__", "x"}, {"t", this->id_}, {"__reserved", "v"}},
      {{"__name__", "x"}, {"t", this->id_}, {"a", "1"}, {"a", "2"}},
      {{"__name__", "x"}, {"t", this->id_}, {"a", std::string("\xff\xfe", 2)}},
      {{"__name__", "x"}, {"t", this->id_}, {"a-b", "1"}},
  };
  for (const Labels& labels : bad) {
    SCOPED_TRACE(LabelsToString(labels));
    auto r = this->store().Append({good, {labels, {{this->t0_, 2}}}});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  }
  ASSERT_OK(this->Sync());
  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  EXPECT_TRUE(got.empty()) << got.size() << " series stored";
}

TYPED_TEST_P(MetricConformance, ConcurrentAppendersLoseNothing) {
  constexpr int kThreads = 4, kCalls = 25, kPerCall = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int c = 0; c < kCalls; ++c) {
        SeriesSamples own{this->Series("conc", {{"w", std::to_string(w)}}), {}};
        SeriesSamples shared{this->Series("conc", {{"w", "shared"}}), {}};
        for (int i = 0; i < kPerCall; ++i) {
          const int n = c * kPerCall + i;
          own.samples.push_back({this->t0_ + n * 1000, static_cast<double>(n)});
          shared.samples.push_back({this->t0_ + (n * kThreads + w) * 1000, w * 1e4 + n});
        }
        auto r = this->store().Append({own, shared});
        if (!r.ok() || r->accepted != 2 * kPerCall) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto got, this->ReadAll());
  ASSERT_EQ(got.size(), kThreads + 1u);
  for (const RawSeries& s : got) {
    const bool shared = LabelValue(s.labels, "w") == "shared";
    EXPECT_EQ(s.samples.size(), (shared ? kThreads : 1u) * kCalls * kPerCall)
        << LabelsToString(s.labels);
  }
}

TYPED_TEST_P(MetricConformance, PromQLMeansTheSame) {
  const int64_t t0 = this->t0_;
  std::vector<Sample> a, b, y;
  for (int i = 0; i < 60; ++i) {
    a.push_back({t0 + i * kMinute, static_cast<double>(i)});
    b.push_back({t0 + i * kMinute, 10.0 * i});
  }
  for (int i = 0; i <= 5; ++i) y.push_back({t0 + i * kMinute, 7});
  y.push_back({t0 + 5 * kMinute + 30000, StaleNaN()});
  ASSERT_OK(this->store().Append({{this->Series("x", {{"job", "a"}}), a},
                                  {this->Series("x", {{"job", "b"}}), b},
                                  {this->Series("y"), y}}));
  ASSERT_OK(this->Sync());
  const QueryLimits limits;
  auto instant = this->store().Query(this->Selector("x"), t0 + 30 * kMinute, limits);
  ASSERT_OK(instant);
  EXPECT_EQ(instant->type, ValueType::kVector);
  ASSERT_EQ(instant->series.size(), 2u);
  EXPECT_EQ(instant->series[0].labels, this->Series("x", {{"job", "a"}}));
  EXPECT_EQ(instant->series[0].points.at(0).v, 30);
  EXPECT_EQ(instant->series[0].points.at(0).t, t0 + 30 * kMinute);
  EXPECT_EQ(instant->series[1].points.at(0).v, 300);

  ASSERT_OK_AND_ASSIGN(QueryValue by_job,
                       this->store().Query("sum by (job) (" + this->Selector("x") + ")",
                                           t0 + 30 * kMinute + 20000, limits));
  ASSERT_EQ(by_job.series.size(), 2u);
  EXPECT_EQ(by_job.series[0].labels, (Labels{{"job", "a"}}));
  EXPECT_EQ(by_job.series[0].points.at(0).v, 30);
  EXPECT_EQ(by_job.series[1].labels, (Labels{{"job", "b"}}));
  EXPECT_EQ(by_job.series[1].points.at(0).v, 300);

  ASSERT_OK_AND_ASSIGN(QueryValue total, this->store().Query("sum(" + this->Selector("x") + ")",
                                                             t0 + 59 * kMinute, limits));
  ASSERT_EQ(total.series.size(), 1u);
  EXPECT_EQ(total.series[0].points.at(0).v, 59 + 590);

  // The lookback window: 4 minutes after the last sample it is still there, 6 minutes after not.
  ASSERT_OK_AND_ASSIGN(QueryValue lookback, this->store().Query(this->Selector("x", "job=\"a\""),
                                                                t0 + 63 * kMinute, limits));
  ASSERT_EQ(lookback.series.size(), 1u);
  EXPECT_EQ(lookback.series[0].points.at(0).v, 59);
  ASSERT_OK_AND_ASSIGN(
      lookback, this->store().Query(this->Selector("x", "job=\"a\""), t0 + 65 * kMinute, limits));
  EXPECT_TRUE(lookback.series.empty());

  // A staleness marker ends the series at once.
  ASSERT_OK_AND_ASSIGN(QueryValue fresh,
                       this->store().Query(this->Selector("y"), t0 + 5 * kMinute + 10000, limits));
  EXPECT_EQ(fresh.series.size(), 1u);
  ASSERT_OK_AND_ASSIGN(QueryValue stale,
                       this->store().Query(this->Selector("y"), t0 + 6 * kMinute, limits));
  EXPECT_TRUE(stale.series.empty());

  ASSERT_OK_AND_ASSIGN(QueryValue range,
                       this->store().QueryRange(this->Selector("x", "job=\"a\""), t0,
                                                t0 + 10 * kMinute, kMinute, limits));
  EXPECT_EQ(range.type, ValueType::kMatrix);
  ASSERT_EQ(range.series.size(), 1u);
  ASSERT_EQ(range.series[0].points.size(), 11u);
  for (int i = 0; i <= 10; ++i) {
    EXPECT_EQ(range.series[0].points[i].t, t0 + i * kMinute);
    EXPECT_EQ(range.series[0].points[i].v, i);
  }
}

TYPED_TEST_P(MetricConformance, PingAndDescription) {
  EXPECT_OK(this->store().Ping());
  EXPECT_FALSE(this->store().description().empty());
  EXPECT_TRUE(this->store().backend() == "embedded" ||
              this->store().backend() == "victoriametrics");
}

REGISTER_TYPED_TEST_SUITE_P(MetricConformance, AppendsAndReadsBackExactSamples, SpecialValues,
                            OutOfOrderSamplesReadBackSortedAndComplete, DuplicatesAreStoredOnce,
                            TooOldAndTooNewAreCountedNotStored,
                            SeriesLabelNamesAndValuesWithMatchers,
                            BadLabelsFailTheWholeCallAndStoreNothing,
                            ConcurrentAppendersLoseNothing, PromQLMeansTheSame, PingAndDescription);

INSTANTIATE_TYPED_TEST_SUITE_P(Embedded, MetricConformance, ::testing::Types<EmbeddedBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(VictoriaMetrics, MetricConformance,
                               ::testing::Types<VictoriaMetricsBackend>);

// ---- The embedded engine only ----------------------------------------------------------------

class EmbeddedTsdb : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::MakeTempDir("pa_tsdb");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    store_.reset();
    testutil::RemoveDir(dir_);
  }

  embedded_tsdb::Options Options() { return {.dir = dir_.string(), .clock = &clock_}; }
  void Open(const embedded_tsdb::Options& options) {
    store_.reset();
    ASSERT_OK_AND_ASSIGN(store_, embedded_tsdb::Open(options));
  }
  void Open() { Open(Options()); }
  Result<std::vector<RawSeries>> ReadAll() {
    return testutil::ReadRawEmbedded(*store_, {}, INT64_MIN, INT64_MAX);
  }
  embedded_tsdb::Stats Stats() {
    auto s = embedded_tsdb::GetStats(*store_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : embedded_tsdb::Stats{};
  }
  int64_t Now() const { return clock_.NowMs(); }

  // `series` series of `n` samples every `step` ms ending at `end`, values with a few decimals.
  static std::vector<SeriesSamples> Data(int series, int n, int64_t end, int64_t step,
                                         const std::string& name = "m") {
    std::vector<SeriesSamples> out;
    for (int s = 0; s < series; ++s) {
      SeriesSamples ss{{{"__name__", name}, {"instance", "host-" + std::to_string(s)}}, {}};
      for (int i = 0; i < n; ++i) {
        ss.samples.push_back({end - (n - 1 - i) * step, std::round((s + 1) * i * 1.37) / 100});
      }
      out.push_back(std::move(ss));
    }
    return out;
  }
  // The same data cut into `batches` calls, each sample in a random one (out of order).
  Status AppendShuffled(const std::vector<SeriesSamples>& data, int batches, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::vector<SeriesSamples>> calls(batches);
    for (auto& call : calls) {
      for (const auto& s : data) call.push_back({s.labels, {}});
    }
    for (size_t s = 0; s < data.size(); ++s) {
      for (const Sample& x : data[s].samples) calls[rng() % batches][s].samples.push_back(x);
    }
    for (auto& call : calls) {
      for (auto& s : call) std::shuffle(s.samples.begin(), s.samples.end(), rng);
      PA_ASSIGN_OR_RETURN(AppendResult r, store_->Append(call));
      (void)r;
    }
    return Status::Ok();
  }
  static void ExpectSameData(const std::vector<RawSeries>& got,
                             const std::vector<RawSeries>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE(LabelsToString(want[i].labels));
      EXPECT_EQ(got[i].labels, want[i].labels);
      testutil::ExpectSamples(got[i].samples, want[i].samples, true);
    }
  }
  static std::vector<RawSeries> AsRaw(std::vector<SeriesSamples> data) {
    std::vector<RawSeries> out;
    for (auto& s : data) {
      EXPECT_OK(NormalizeLabels(s.labels));
      std::sort(s.samples.begin(), s.samples.end(),
                [](const Sample& a, const Sample& b) { return a.t < b.t; });
      out.push_back({s.labels, s.samples});
    }
    std::sort(out.begin(), out.end(),
              [](const RawSeries& a, const RawSeries& b) { return a.labels < b.labels; });
    return out;
  }
  std::string LastWalSegment() {
    std::string last;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "wal")) {
      if (std::filesystem::file_size(e.path()) > 0 && e.path().string() > last) {
        last = e.path().string();
      }
    }
    return last;
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<MetricStore> store_;
};

// Captures what the engine logs.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    log::Get("tsdb")->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = log::Get("tsdb")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST_F(EmbeddedTsdb, ReopenKeepsEverythingWithAndWithoutFlushOnClose) {
  for (bool flush : {false, true}) {
    SCOPED_TRACE(flush ? "flush on close" : "WAL replay");
    testutil::RemoveDir(dir_);
    auto options = Options();
    options.flush_on_close = flush;
    Open(options);
    const auto data = Data(5, 600, Now(), 30000);
    ASSERT_OK(AppendShuffled(data, 7, 1));
    ASSERT_OK_AND_ASSIGN(auto before, ReadAll());
    ExpectSameData(before, AsRaw(data));
    store_.reset();
    Open(options);
    ASSERT_OK_AND_ASSIGN(auto after, ReadAll());
    ExpectSameData(after, before);
    const embedded_tsdb::Stats stats = Stats();
    EXPECT_EQ(stats.blocks > 0, flush);
    EXPECT_EQ(stats.head_samples > 0, !flush);
  }
}

TEST_F(EmbeddedTsdb, ASecondOpenOfTheDirectoryIsRefused) {
  Open();
  auto second = embedded_tsdb::Open(Options());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
}

// The contract: an acknowledged Append survives kill -9. A child appends batch after batch and
// reports each acknowledgement through a pipe; the parent kills it mid-stream, then finds every
// acknowledged batch complete.
TEST_F(EmbeddedTsdb, AcknowledgedAppendsSurviveSigkill) {
  constexpr int kBatches = 400;
  auto batch = [&](int b) {
    std::vector<SeriesSamples> out;
    for (int s = 0; s < 10; ++s) {
      SeriesSamples ss{{{"__name__", "crash"}, {"s", std::to_string(s)}}, {}};
      for (int i = 0; i < 20; ++i) {
        ss.samples.push_back({Now() - kDay + (b * 20 + i) * 1000, b + i * 0.25});
      }
      out.push_back(std::move(ss));
    }
    return out;
  };
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto store = embedded_tsdb::Open(Options());
    if (!store.ok()) _exit(3);
    for (int b = 0; b < kBatches; ++b) {
      if (!(*store)->Append(batch(b)).ok()) _exit(4);
      const char byte = 'a';
      if (write(pipefd[1], &byte, 1) != 1) _exit(5);
    }
    for (;;) pause();
  }
  close(pipefd[1]);
  int acked = 0;
  char buf[64];
  while (acked < 50) {
    const ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;
    acked += static_cast<int>(n);
  }
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) acked += static_cast<int>(n);
  close(pipefd[0]);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child exited with " << WEXITSTATUS(status);
  ASSERT_GE(acked, 50);

  Open();
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ASSERT_EQ(got.size(), 10u);
  for (int s = 0; s < 10; ++s) {
    std::vector<Sample> want;
    for (int b = 0; b < acked; ++b) {
      const std::vector<SeriesSamples> calls = batch(b);
      want.insert(want.end(), calls[s].samples.begin(), calls[s].samples.end());
    }
    // Batches in flight when the child died may be there too, whole.
    ASSERT_GE(got[s].samples.size(), want.size());
    EXPECT_EQ(got[s].samples.size() % 20, 0u);
    got[s].samples.resize(want.size());
    testutil::ExpectSamples(got[s].samples, want, true);
  }
}

TEST_F(EmbeddedTsdb, TornWalTailIsTruncatedAndLogged) {
  auto options = Options();
  options.flush_on_close = false;
  const auto a = Data(1, 100, Now() - kHour, 1000, "a");
  const auto b = Data(1, 100, Now(), 1000, "b");
  auto reopen_with_damage = [&](const std::function<void(const std::string&)>& damage) {
    testutil::RemoveDir(dir_);
    Open(options);
    EXPECT_OK(store_->Append(a));
    EXPECT_OK(store_->Append(b));
    store_.reset();
    damage(LastWalSegment());
    LogCapture capture;
    Open(options);
    return capture.text();
  };

  // Cut mid-record: the last Append (b's samples) is dropped, everything before stays.
  std::string logged = reopen_with_damage([](const std::string& segment) {
    std::filesystem::resize_file(segment, std::filesystem::file_size(segment) - 5);
  });
  EXPECT_NE(logged.find("torn write"), std::string::npos) << logged;
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ExpectSameData(got, AsRaw(a));
  // The store works on: more appends, a clean reopen.
  ASSERT_OK(store_->Append(b));
  store_.reset();
  {
    LogCapture capture;
    Open(options);
    EXPECT_EQ(capture.text().find("torn"), std::string::npos) << capture.text();
  }
  ASSERT_OK_AND_ASSIGN(got, ReadAll());
  ExpectSameData(got, AsRaw({a[0], b[0]}));

  // Garbage after the last record: only the garbage goes.
  logged = reopen_with_damage([](const std::string& segment) {
    std::ofstream out(segment, std::ios::app | std::ios::binary);
    out << std::string("\x17\x00\x00\x00garbage-from-a-crash", 24);
  });
  EXPECT_NE(logged.find("torn write"), std::string::npos) << logged;
  ASSERT_OK_AND_ASSIGN(got, ReadAll());
  ExpectSameData(got, AsRaw({a[0], b[0]}));
}

TEST_F(EmbeddedTsdb, CompactionWritesBlocksAndReadsStayIdentical) {
  Open();
  const auto data = Data(20, 3 * 24 * 60, Now() - kMinute, kMinute);
  ASSERT_OK(AppendShuffled(data, 5, 2));
  ASSERT_OK_AND_ASSIGN(auto before, ReadAll());
  ExpectSameData(before, AsRaw(data));
  EXPECT_EQ(Stats().blocks, 0);

  ASSERT_OK(embedded_tsdb::Compact(*store_));
  const embedded_tsdb::Stats stats = Stats();
  EXPECT_GT(stats.blocks, 0);
  EXPECT_LE(stats.blocks, 12);  // 3 days: 2-day, 12-hour and 2-hour partitions
  EXPECT_EQ(stats.head_samples, 0);
  EXPECT_EQ(stats.head_chunks, 0);
  EXPECT_EQ(stats.block_samples, 20 * 3 * 24 * 60);
  EXPECT_LT(stats.block_bytes, stats.block_samples * 2) << "more than 2 bytes per sample";
  ASSERT_OK_AND_ASSIGN(auto after, ReadAll());
  ExpectSameData(after, before);
  // Sub-ranges and matchers read the blocks correctly too.
  ASSERT_OK_AND_ASSIGN(auto part, testutil::ReadRawEmbedded(
                                      *store_, {{LabelMatcher::Op::kEqual, "instance", "host-3"}},
                                      Now() - 30 * kHour, Now() - 20 * kHour));
  ASSERT_EQ(part.size(), 1u);
  EXPECT_EQ(part[0].samples.size(), 10u * 60 + 1);

  store_.reset();
  Open();
  ASSERT_OK_AND_ASSIGN(after, ReadAll());
  ExpectSameData(after, before);
}

TEST_F(EmbeddedTsdb, OutOfOrderSamplesIntoCompactedRangesAndRewrites) {
  Open();
  auto data = Data(3, 2 * 24 * 60, Now() - kMinute, kMinute);
  ASSERT_OK(store_->Append(data));
  ASSERT_OK(embedded_tsdb::Compact(*store_));
  // Late samples between the old ones, and a rewrite of an old value: the last write wins.
  std::vector<SeriesSamples> late;
  for (auto& s : data) {
    SeriesSamples l{s.labels, {}};
    for (size_t i = 0; i < s.samples.size(); i += 97) {
      l.samples.push_back({s.samples[i].t + 30000, -1.0 * i});
    }
    late.push_back(l);
    s.samples.insert(s.samples.end(), l.samples.begin(), l.samples.end());
  }
  SeriesSamples rewrite{data[0].labels, {{data[0].samples[500].t, 4242.5}}};
  data[0].samples[500].v = 4242.5;
  ASSERT_OK_AND_ASSIGN(AppendResult r, store_->Append(late));
  EXPECT_EQ(r.accepted, 3 * 30);
  ASSERT_OK_AND_ASSIGN(r, store_->Append({rewrite}));
  EXPECT_EQ(r.accepted, 1);
  EXPECT_EQ(r.duplicates, 0);
  const auto want = AsRaw(data);
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ExpectSameData(got, want);
  ASSERT_OK(embedded_tsdb::Compact(*store_));  // merges the late blocks into the old ones
  ASSERT_OK_AND_ASSIGN(got, ReadAll());
  ExpectSameData(got, want);
  // Rewriting a compacted sample again, then compacting again: still the newest.
  ASSERT_OK(store_->Append({{data[0].labels, {{data[0].samples[500].t, 1.0}}}}));
  ASSERT_OK(embedded_tsdb::Compact(*store_));
  store_.reset();
  Open();
  ASSERT_OK_AND_ASSIGN(got, ReadAll());
  ASSERT_EQ(got.size(), 3u);
  const auto it = std::find_if(got[0].samples.begin(), got[0].samples.end(),
                               [&](const Sample& s) { return s.t == data[0].samples[500].t; });
  ASSERT_NE(it, got[0].samples.end());
  EXPECT_EQ(it->v, 1.0);
  EXPECT_EQ(got[0].samples.size(), want[0].samples.size());
}

TEST_F(EmbeddedTsdb, RetentionDropsOldBlocksAndRefusesOldSamples) {
  auto options = Options();
  options.retention = 3 * 24h;
  Open(options);
  const auto data = Data(2, 3 * 24 * 6, Now(), 10 * kMinute);  // 3 days, every 10 minutes
  ASSERT_OK_AND_ASSIGN(AppendResult r, store_->Append(data));
  EXPECT_EQ(r.too_old, 0);
  ASSERT_OK(embedded_tsdb::Compact(*store_));
  const int64_t blocks_before = Stats().blocks;
  EXPECT_GT(blocks_before, 10);

  clock_.Advance(24h);
  ASSERT_OK(embedded_tsdb::Compact(*store_));
  EXPECT_LT(Stats().blocks, blocks_before);
  const int64_t cutoff = Now() - 3 * kDay;
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ASSERT_EQ(got.size(), 2u);
  for (const RawSeries& s : got) {
    EXPECT_GE(s.samples.front().t, cutoff - 2 * kHour);  // whole blocks go
    int64_t kept = 0;
    for (const Sample& x : data[0].samples) kept += x.t >= cutoff;
    EXPECT_GE(static_cast<int64_t>(s.samples.size()), kept);
  }
  ASSERT_OK_AND_ASSIGN(r, store_->Append({{data[0].labels, {{cutoff - kMinute, 1}}}}));
  EXPECT_EQ(r.too_old, 1);
  // Deleted blocks leave nothing behind once no reader holds them.
  int leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "blocks")) {
    leftovers += e.path().string().ends_with(".deleted");
  }
  EXPECT_EQ(leftovers, 0);
}

TEST_F(EmbeddedTsdb, MemoryPerSeriesStaysBounded) {
  auto options = Options();
  options.max_head_chunks_per_series = 8;
  Open(options);
  constexpr int kSamples = 60000, kBatch = 500;
  const int64_t start = Now() - kSamples * 1000;
  int64_t max_chunks = 0;
  std::mt19937 rng(3);
  for (int b = 0; b < kSamples / kBatch; ++b) {
    SeriesSamples s{{{"__name__", "busy"}}, {}};
    for (int i = 0; i < kBatch; ++i) {
      // Mostly in order, every tenth batch a replay of older data.
      const int n = b % 10 == 9 ? static_cast<int>(rng() % (b * kBatch)) : b * kBatch + i;
      s.samples.push_back({start + n * 1000, static_cast<double>(n)});
    }
    ASSERT_OK(store_->Append({s}));
    max_chunks = std::max(max_chunks, Stats().max_head_chunks_per_series);
  }
  // Twice the budget plus one batch's worth: the bound that back-pressure guarantees.
  EXPECT_LE(max_chunks, 2 * 8 + kBatch / 120 + 2);
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ASSERT_EQ(got.size(), 1u);
  const int64_t in_order = kSamples - kSamples / 10;
  EXPECT_GE(static_cast<int64_t>(got[0].samples.size()), in_order);
  EXPECT_GT(Stats().compactions, 0);
}

// Appends waiting on back-pressure must not hold up the background flush they wait for:
// a maintenance pass that runs continuously meets waiting appenders in every interleaving.
TEST_F(EmbeddedTsdb, BackPressureNeverStallsTheFlushItWaitsFor) {
  auto options = Options();
  options.max_head_samples = 600;
  options.max_head_chunks_per_series = 2;
  options.maintenance_interval = std::chrono::milliseconds(1);
  options.max_backpressure_wait = std::chrono::seconds(10);
  Open(options);
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      const int64_t start = Now() - 3'000'000;
      for (int b = 0; b < 300 && failures == 0; ++b) {
        SeriesSamples s{{{"__name__", "bp"}, {"w", std::to_string(w)}}, {}};
        for (int i = 0; i < 400; ++i) {
          s.samples.push_back({start + (b * 400 + i) * 10, static_cast<double>(i)});
        }
        auto r = store_->Append({s});
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures, 0);
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ASSERT_EQ(got.size(), 3u);
  for (const RawSeries& s : got) EXPECT_EQ(s.samples.size(), 300u * 400u);
}

TEST_F(EmbeddedTsdb, ConcurrentAppendsQueriesAndCompactions) {
  auto options = Options();
  options.max_head_samples = 3000;  // many head cuts while everything runs
  Open(options);
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int c = 0; c < 150; ++c) {
        std::vector<SeriesSamples> batch;
        for (int s = 0; s < 5; ++s) {
          SeriesSamples ss{{{"__name__", "c"}, {"w", std::to_string(w)}, {"s", std::to_string(s)}},
                           {}};
          for (int i = 0; i < 20; ++i) {
            ss.samples.push_back({Now() - kDay + (c * 20 + i) * 1000, c * 20.0 + i});
          }
          batch.push_back(std::move(ss));
        }
        if (!store_->Append(batch).ok()) ++errors;
      }
    });
  }
  std::thread reader([&] {
    while (!done) {
      auto r = ReadAll();
      if (!r.ok()) ++errors;
      for (const RawSeries& s : r.ok() ? *r : std::vector<RawSeries>{}) {
        for (size_t i = 1; i < s.samples.size(); ++i) {
          if (s.samples[i].t <= s.samples[i - 1].t) ++errors;
        }
      }
    }
  });
  std::thread compactor([&] {
    while (!done) {
      if (!embedded_tsdb::Compact(*store_).ok()) ++errors;
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  compactor.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto got, ReadAll());
  ASSERT_EQ(got.size(), 10u);
  for (const RawSeries& s : got) {
    ASSERT_EQ(s.samples.size(), 150u * 20);
    for (size_t i = 0; i < s.samples.size(); ++i) EXPECT_EQ(s.samples[i].v, i);
  }
}

TEST_F(EmbeddedTsdb, SelfMetrics) {
  telemetry::Registry registry;
  auto options = Options();
  options.metrics = &registry;
  Open(options);
  ASSERT_OK(store_->Append({{{{"__name__", "x"}}, {{Now() - 2000, 1}, {Now() - 1000, 2}}},
                            {{{"__name__", "y"}}, {{Now() - 40 * kDay, 1}}}}));
  ASSERT_OK(store_->Append({{{{"__name__", "x"}}, {{Now() - 1000, 2}}}}));
  ASSERT_OK(embedded_tsdb::Compact(*store_));
  const std::string text = registry.Expose();
  for (const char* line :
       {"primoart_tsdb_samples_appended_total 2", "primoart_tsdb_samples_duplicate_total 1",
        "primoart_tsdb_samples_rejected_total{reason=\"too_old\"} 1",
        "primoart_tsdb_compactions_total{kind=\"flush\"} 1", "primoart_tsdb_blocks 1",
        "primoart_tsdb_wal_fsync_duration_seconds_count"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  store_.reset();  // before the registry it reports to
}

}  // namespace
}  // namespace pa::storage
