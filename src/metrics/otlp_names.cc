#include "metrics/otlp_names.h"

#include <utility>
#include <vector>

namespace pa::metrics {
namespace {

// The UCUM units the specification maps, as in the collector's translator.
constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
    {"d", "days"},          {"h", "hours"},         {"min", "minutes"},    {"s", "seconds"},
    {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"},
    {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"}, {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},   {"MBy", "megabytes"},   {"GBy", "gigabytes"},  {"TBy", "terabytes"},
    {"m", "meters"},        {"V", "volts"},         {"A", "amperes"},      {"J", "joules"},
    {"W", "watts"},         {"g", "grams"},         {"Cel", "celsius"},    {"Hz", "hertz"},
    {"%", "percent"},
};

// Units after '/' ("per second").
constexpr std::pair<std::string_view, std::string_view> kPerUnits[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"},
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : s) {
    if (IsAlnum(c)) {
      cur += c;
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

std::string Lookup(std::string_view unit, const auto& table) {
  for (const auto& [ucum, word] : table) {
    if (ucum == unit) return std::string(word);
  }
  // Not a standard unit: keep its alphanumeric characters.
  std::string out;
  for (char c : unit) {
    if (IsAlnum(c)) out += c;
  }
  return out;
}

// Drops {annotations}: "{packets}/s" → "/s".
std::string StripAnnotations(std::string_view unit) {
  std::string out;
  int depth = 0;
  for (char c : unit) {
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string OtlpUnitSuffix(std::string_view unit, OtlpKind kind) {
  const std::string clean = StripAnnotations(unit);
  if (clean == "1") return kind == OtlpKind::kGauge ? "ratio" : "";
  const size_t slash = clean.find('/');
  const std::string main = Lookup(std::string_view(clean).substr(0, slash), kUnits);
  std::string per;
  if (slash != std::string::npos) {
    per = Lookup(std::string_view(clean).substr(slash + 1), kPerUnits);
  }
  if (per.empty()) return main;
  return main.empty() ? "per_" + per : main + "_per_" + per;
}

std::string OtlpMetricName(std::string_view name, std::string_view unit, OtlpKind kind) {
  std::vector<std::string> words = Words(name);
  auto append_if_missing = [&](const std::vector<std::string>& suffix) {
    if (suffix.empty()) return;
    if (words.size() >= suffix.size() &&
        std::equal(suffix.begin(), suffix.end(), words.end() - static_cast<long>(suffix.size()))) {
      return;
    }
    words.insert(words.end(), suffix.begin(), suffix.end());
  };
  // `_total` is appended last, so a name given as "x_total" is not doubled and keeps it last.
  const bool counter = kind == OtlpKind::kMonotonicSum;
  if (counter && !words.empty() && words.back() == "total") words.pop_back();
  append_if_missing(Words(OtlpUnitSuffix(unit, kind)));
  if (counter) words.push_back("total");
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += '_';
    out += w;
  }
  if (out.empty()) return "_";
  if (out[0] >= '0' && out[0] <= '9')
    out = "_" + out;  // not insert(0): GCC 12 -Wrestrict false positive
  return out;
}

std::string OtlpLabelName(std::string_view key) {
  std::string out;
  for (char c : key) out += IsAlnum(c) ? c : '_';
  if (out.empty()) return "key_";
  if (out[0] >= '0' && out[0] <= '9') return "key_" + out;
  if (out[0] == '_' && !out.starts_with("__")) return "key" + out;
  return out;
}

}  // namespace pa::metrics
