#include "base/telemetry.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace pa::telemetry {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

// [a-zA-Z_:][a-zA-Z0-9_:]*, the Prometheus metric name rule.
[[maybe_unused]] bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(value_, v); }
double Counter::Value() const { return value_.load(std::memory_order_relaxed); }
void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(const std::vector<double>* upper_bounds)
    : bounds_(upper_bounds), buckets_(new std::atomic<uint64_t>[upper_bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
  buckets_[it - bounds_->begin()].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,   0.5,   1,      2.5,   5,    10,    30};
  return kBuckets;
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, ptr);
  }
}

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> labels,
                       Type type)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(labels)), type_(type) {
  assert(ValidName(name_) && "invalid metric name");
  for ([[maybe_unused]] const auto& l : label_names_) assert(ValidName(l));
}

FamilyBase::ChildBase& FamilyBase::Find(std::vector<std::string> values,
                                        const std::function<ChildBase*()>& make) {
  assert(values.size() == label_names_.size() && "label value count differs from label names");
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[std::move(values)];
  if (!slot) slot.reset(make());
  return *slot;
}

void FamilyBase::Expose(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  for (char c : help_) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += TypeName(type_);
  out += '\n';
  std::shared_lock lock(mu_);
  for (const auto& [values, child] : children_) {
    std::string labels;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) labels += ',';
      labels += label_names_[i];
      labels += "=\"";
      AppendLabelValue(labels, values[i]);
      labels += '"';
    }
    ExposeChild(out, labels, *child);
  }
}

namespace {
void AppendSample(std::string& out, const std::string& name, std::string_view suffix,
                  const std::string& labels, double value) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}
}  // namespace

template <>
void Family<Counter>::ExposeChild(std::string& out, const std::string& labels,
                                  const ChildBase& child) const {
  AppendSample(out, name(), "", labels, static_cast<const Child&>(child).metric.Value());
}

template <>
void Family<Gauge>::ExposeChild(std::string& out, const std::string& labels,
                                const ChildBase& child) const {
  AppendSample(out, name(), "", labels, static_cast<const Child&>(child).metric.Value());
}

template <>
void Family<Histogram>::ExposeChild(std::string& out, const std::string& labels,
                                    const ChildBase& child) const {
  const auto snap = static_cast<const Child&>(child).metric.Read();
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    std::string le = labels + sep + "le=\"";
    if (i == bounds_.size()) {
      le += "+Inf";
    } else {
      AppendValue(le, bounds_[i]);
    }
    le += '"';
    AppendSample(out, name(), "_bucket", le, static_cast<double>(snap.cumulative[i]));
  }
  AppendSample(out, name(), "_sum", labels, snap.sum);
  AppendSample(out, name(), "_count", labels, static_cast<double>(snap.count));
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  auto f = std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels),
                                             Type::kCounter);
  auto& ref = *f;
  Register(std::move(f));
  return ref;
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  auto f = std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels),
                                           Type::kGauge);
  auto& ref = *f;
  Register(std::move(f));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  assert(std::is_sorted(bounds.begin(), bounds.end()));
  auto f = std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(labels),
                                               Type::kHistogram, std::move(bounds));
  auto& ref = *f;
  Register(std::move(f));
  return ref;
}

void Registry::Register(std::unique_ptr<FamilyBase> family) {
  std::lock_guard lock(mu_);
  for ([[maybe_unused]] const auto& f : families_) {
    assert(f->name() != family->name() && "metric family registered twice");
  }
  families_.push_back(std::move(family));
}

void Registry::AddCollector(std::function<void(std::string&)> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Expose() const {
  std::string out;
  out.reserve(16384);
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->Expose(out);
  for (const auto& c : collectors_) c(out);
  return out;
}

}  // namespace pa::telemetry
