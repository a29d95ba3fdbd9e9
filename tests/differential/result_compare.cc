#include "result_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace pa::differential {
namespace {

using storage::QueryValue;
using storage::Sample;
using storage::SeriesPoints;
using storage::ValueType;

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string Points(const std::vector<Sample>& points, size_t max_points) {
  std::string out = "[";
  for (size_t i = 0; i < points.size() && i < max_points; ++i) {
    if (i > 0) out += ' ';
    out += fmt::format("{}@{}", Num(points[i].v), points[i].t);
  }
  if (points.size() > max_points) out += fmt::format(" ... {} points", points.size());
  return out + "]";
}

std::map<std::string, const SeriesPoints*> ByLabels(const QueryValue& v) {
  std::map<std::string, const SeriesPoints*> out;
  for (const auto& s : v.series) out[storage::LabelsToString(s.labels)] = &s;
  return out;
}

// The first difference between two series' points, or "".
std::string ComparePoints(const std::vector<Sample>& want, const std::vector<Sample>& got,
                          const CompareOptions& options) {
  size_t i = 0;
  for (; i < want.size() && i < got.size(); ++i) {
    if (want[i].t != got[i].t) {
      return fmt::format("point {}: time {} (Prometheus) vs {} (ours)", i, want[i].t, got[i].t);
    }
    if (!SameFloat(want[i].v, got[i].v, options)) {
      return fmt::format("at {}: {} (Prometheus) vs {} (ours)", want[i].t, Num(want[i].v),
                         Num(got[i].v));
    }
  }
  if (want.size() != got.size()) {
    const auto& longer = want.size() > got.size() ? want : got;
    return fmt::format("{} points (Prometheus) vs {} (ours); first unmatched {}@{} ({})",
                       want.size(), got.size(), Num(longer[i].v), longer[i].t,
                       want.size() > got.size() ? "Prometheus" : "ours");
  }
  return "";
}

std::string CompareSeries(const QueryValue& want, const QueryValue& got,
                          const CompareOptions& options) {
  const auto w = ByLabels(want);
  const auto g = ByLabels(got);
  std::string out;
  int missing = 0, extra = 0, differing = 0;
  for (const auto& [labels, s] : w) {
    if (!g.count(labels)) {
      if (++missing <= 3) out += "  missing in ours: " + labels + "\n";
    }
  }
  for (const auto& [labels, s] : g) {
    if (!w.count(labels)) {
      if (++extra <= 3) out += "  extra in ours:   " + labels + "\n";
    }
  }
  for (const auto& [labels, s] : w) {
    auto it = g.find(labels);
    if (it == g.end()) continue;
    std::string diff = ComparePoints(s->points, it->second->points, options);
    if (!diff.empty() && ++differing <= 3) out += "  " + labels + ": " + diff + "\n";
  }
  if (missing > 3 || extra > 3 || differing > 3) {
    out += fmt::format("  ({} series missing, {} extra, {} differing in all)\n", missing, extra,
                       differing);
  }
  if (w.size() != want.series.size() || g.size() != got.series.size()) {
    out +=
        fmt::format("  duplicate label sets: {} series, {} distinct (Prometheus); {}, {} (ours)\n",
                    want.series.size(), w.size(), got.series.size(), g.size());
  }
  if (out.empty() && options.ordered) {
    for (size_t i = 0; i < want.series.size(); ++i) {
      const double wv = want.series[i].points.empty() ? 0 : want.series[i].points[0].v;
      const double gv = got.series[i].points.empty() ? 0 : got.series[i].points[0].v;
      if (!SameFloat(wv, gv, options)) {
        out += fmt::format("  order differs at position {}: {} {} (Prometheus) vs {} {} (ours)\n",
                           i, storage::LabelsToString(want.series[i].labels), Num(wv),
                           storage::LabelsToString(got.series[i].labels), Num(gv));
        break;
      }
    }
  }
  return out;
}

}  // namespace

bool SameFloat(double want, double got, const CompareOptions& options) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (want == got) return true;  // also equal infinities
  if (std::isinf(want) || std::isinf(got)) return false;
  const double diff = std::fabs(want - got);
  if (diff <= options.absolute_tolerance) return true;
  return diff <= options.relative_tolerance * std::max(std::fabs(want), std::fabs(got));
}

std::string CompareValues(const QueryValue& want, const QueryValue& got,
                          const CompareOptions& options) {
  if (want.type != got.type) {
    return fmt::format("  result type {} (Prometheus) vs {} (ours)\n",
                       storage::ValueTypeName(want.type), storage::ValueTypeName(got.type));
  }
  switch (want.type) {
    case ValueType::kScalar:
      if (want.scalar.t != got.scalar.t || !SameFloat(want.scalar.v, got.scalar.v, options)) {
        return fmt::format("  scalar {}@{} (Prometheus) vs {}@{} (ours)\n", Num(want.scalar.v),
                           want.scalar.t, Num(got.scalar.v), got.scalar.t);
      }
      return "";
    case ValueType::kString:
      if (want.scalar.t != got.scalar.t || want.string_value != got.string_value) {
        return fmt::format("  string \"{}\"@{} (Prometheus) vs \"{}\"@{} (ours)\n",
                           want.string_value, want.scalar.t, got.string_value, got.scalar.t);
      }
      return "";
    case ValueType::kVector:
    case ValueType::kMatrix:
      return CompareSeries(want, got, options);
  }
  return "";
}

std::string FormatValue(const QueryValue& v, size_t max_series, size_t max_points) {
  switch (v.type) {
    case ValueType::kScalar:
      return fmt::format("scalar {}@{}", Num(v.scalar.v), v.scalar.t);
    case ValueType::kString:
      return fmt::format("string \"{}\"@{}", v.string_value, v.scalar.t);
    case ValueType::kVector:
    case ValueType::kMatrix:
      break;
  }
  std::string out = fmt::format("{} of {} series", storage::ValueTypeName(v.type), v.series.size());
  for (size_t i = 0; i < v.series.size() && i < max_series; ++i) {
    out += "\n      " + storage::LabelsToString(v.series[i].labels) + " " +
           Points(v.series[i].points, max_points);
  }
  if (v.series.size() > max_series) out += "\n      ...";
  return out;
}

}  // namespace pa::differential
