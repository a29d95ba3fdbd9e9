#include "promql/testing/memory_querier.h"

#include <algorithm>
#include <map>

#include "base/go_regex.h"

namespace pa::promql::testing {
namespace {

class VectorSeriesSet : public storage::SeriesSet {
 public:
  explicit VectorSeriesSet(std::vector<storage::SeriesSamples> series)
      : series_(std::move(series)) {}
  bool Next() override { return ++pos_ < series_.size(); }
  const storage::Labels& labels() const override { return series_[pos_].labels; }
  Status ReadSamples(std::vector<storage::Sample>* out) override {
    out->insert(out->end(), series_[pos_].samples.begin(), series_[pos_].samples.end());
    return Status::Ok();
  }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<storage::SeriesSamples> series_;
  size_t pos_ = static_cast<size_t>(-1);
};

}  // namespace

void MemoryQuerier::Add(storage::Labels labels, std::vector<storage::Sample> samples) {
  std::sort(labels.begin(), labels.end());
  auto it = std::lower_bound(
      series_.begin(), series_.end(), labels,
      [](const storage::SeriesSamples& s, const storage::Labels& l) { return s.labels < l; });
  if (it == series_.end() || it->labels != labels) {
    it = series_.insert(it, storage::SeriesSamples{labels, {}});
  }
  std::map<int64_t, double> merged;
  for (const auto& s : it->samples) merged[s.t] = s.v;
  for (const auto& s : samples) merged[s.t] = s.v;
  it->samples.clear();
  for (const auto& [t, v] : merged) it->samples.push_back(storage::Sample{t, v});
}

Result<std::unique_ptr<storage::SeriesSet>> MemoryQuerier::Select(
    const storage::MatcherSet& matchers, int64_t mint, int64_t maxt) {
  ++selects_;
  std::vector<GoRegex> regexes(matchers.size());
  for (size_t i = 0; i < matchers.size(); ++i) {
    if (matchers[i].op == storage::LabelMatcher::Op::kRegexMatch ||
        matchers[i].op == storage::LabelMatcher::Op::kRegexNoMatch) {
      PA_ASSIGN_OR_RETURN(regexes[i], GoRegex::Compile(matchers[i].value));
    }
  }
  std::vector<storage::SeriesSamples> out;
  for (const auto& s : series_) {
    bool ok = true;
    for (size_t i = 0; i < matchers.size() && ok; ++i) {
      const auto& m = matchers[i];
      const std::string_view v = storage::LabelValue(s.labels, m.name);
      switch (m.op) {
        case storage::LabelMatcher::Op::kEqual:
          ok = v == m.value;
          break;
        case storage::LabelMatcher::Op::kNotEqual:
          ok = v != m.value;
          break;
        case storage::LabelMatcher::Op::kRegexMatch:
          ok = regexes[i].FullMatch(v);
          break;
        case storage::LabelMatcher::Op::kRegexNoMatch:
          ok = !regexes[i].FullMatch(v);
          break;
      }
    }
    if (!ok) continue;
    storage::SeriesSamples sel{s.labels, {}};
    for (const auto& p : s.samples) {
      if (p.t >= mint && p.t <= maxt) sel.samples.push_back(p);
    }
    if (!sel.samples.empty()) out.push_back(std::move(sel));
  }
  return std::unique_ptr<storage::SeriesSet>(new VectorSeriesSet(std::move(out)));
}

}  // namespace pa::promql::testing
