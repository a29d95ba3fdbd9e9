#include "memory_querier.h"

#include <algorithm>
#include <regex>

namespace pa::differential {
namespace {

using storage::LabelMatcher;
using storage::Sample;
using storage::SeriesSamples;

struct CompiledMatcher {
  const LabelMatcher* matcher;
  std::wregex re;
};

// UTF-8 to code points, so that `.` matches a character as in Go (invalid bytes become U+FFFD).
std::wstring Decode(std::string_view s) {
  std::wstring out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out += L'\uFFFD';
      ++i;
      continue;
    }
    uint32_t cp = n == 1 ? c : c & (0x7fu >> n);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
    out += static_cast<wchar_t>(cp);
    i += n;
  }
  return out;
}

// Go's syntax as far as the suite's queries use it: ECMAScript plus a leading (?i).
Result<std::wregex> CompileGoRegex(std::string_view pattern) {
  auto flags = std::regex::ECMAScript;
  if (pattern.starts_with("(?i)")) {
    flags |= std::regex::icase;
    pattern.remove_prefix(4);
  }
  try {
    return std::wregex(L"^(?:" + Decode(pattern) + L")$", flags);
  } catch (const std::regex_error& e) {
    return InvalidArgumentError("bad regex '" + std::string(pattern) + "': " + e.what());
  }
}

bool Matches(const CompiledMatcher& m, std::string_view value) {
  switch (m.matcher->op) {
    case LabelMatcher::Op::kEqual:
      return value == m.matcher->value;
    case LabelMatcher::Op::kNotEqual:
      return value != m.matcher->value;
    case LabelMatcher::Op::kRegexMatch:
      return std::regex_match(Decode(value), m.re);
    case LabelMatcher::Op::kRegexNoMatch:
      return !std::regex_match(Decode(value), m.re);
  }
  return false;
}

class VectorSeriesSet : public storage::SeriesSet {
 public:
  VectorSeriesSet(std::vector<const SeriesSamples*> series, int64_t mint, int64_t maxt)
      : series_(std::move(series)), mint_(mint), maxt_(maxt) {}

  bool Next() override { return ++pos_ < series_.size(); }
  const storage::Labels& labels() const override { return series_[pos_]->labels; }
  Status ReadSamples(std::vector<Sample>* out) override {
    const auto& s = series_[pos_]->samples;
    auto lo = std::lower_bound(s.begin(), s.end(), mint_,
                               [](const Sample& a, int64_t t) { return a.t < t; });
    for (; lo != s.end() && lo->t <= maxt_; ++lo) out->push_back(*lo);
    return Status::Ok();
  }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<const SeriesSamples*> series_;
  int64_t mint_, maxt_;
  size_t pos_ = static_cast<size_t>(-1);
};

}  // namespace

std::vector<const SeriesSamples*> AllSeries(const DataSet& data) {
  std::vector<const SeriesSamples*> out;
  for (const auto& s : data.series) out.push_back(&s);
  for (const auto& s : data.live) out.push_back(&s);
  return out;
}

MemoryQuerier::MemoryQuerier(std::vector<const SeriesSamples*> series)
    : series_(std::move(series)) {
  std::sort(series_.begin(), series_.end(),
            [](const SeriesSamples* a, const SeriesSamples* b) { return a->labels < b->labels; });
}

Result<std::unique_ptr<storage::SeriesSet>> MemoryQuerier::Select(
    const storage::MatcherSet& matchers, int64_t mint, int64_t maxt) {
  std::vector<CompiledMatcher> compiled;
  for (const LabelMatcher& m : matchers) {
    CompiledMatcher c{&m, {}};
    if (m.op == LabelMatcher::Op::kRegexMatch || m.op == LabelMatcher::Op::kRegexNoMatch) {
      PA_ASSIGN_OR_RETURN(c.re, CompileGoRegex(m.value));
    }
    compiled.push_back(std::move(c));
  }
  std::vector<const SeriesSamples*> out;
  for (const SeriesSamples* series : series_) {
    const SeriesSamples& s = *series;
    bool ok = true;
    for (const CompiledMatcher& c : compiled) {
      ok = ok && Matches(c, storage::LabelValue(s.labels, c.matcher->name));
    }
    if (!ok) continue;
    auto lo = std::lower_bound(s.samples.begin(), s.samples.end(), mint,
                               [](const Sample& a, int64_t t) { return a.t < t; });
    if (lo == s.samples.end() || lo->t > maxt) continue;
    out.push_back(&s);
  }
  return std::unique_ptr<storage::SeriesSet>(
      std::make_unique<VectorSeriesSet>(std::move(out), mint, maxt));
}

}  // namespace pa::differential
