// Telemetry: PrimoART's own counters, gauges and histograms (namespace pa::telemetry, so that it
// is never confused with the metrics role, pa::metrics), exposed in the Prometheus text format
// on GET /metrics.
//
//   telemetry::Registry registry;
//   auto& requests = registry.AddCounter("primoart_http_requests_total", "HTTP requests served.",
//                                        {"route", "method", "status"});
//   requests.With({"/healthz", "GET", "200"}).Inc();
//   std::string text = registry.Expose();
//
// Families are created at start-up (creating one twice is a programmer error and asserts); children
// are created on first use and live as long as the registry, so a hot path can keep the reference
// returned by With(). Collectors add metrics computed at scrape time (process RSS, queue depths).
//
// Thread-safety: everything may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pa::telemetry {

class Counter {
 public:
  void Inc(double v = 1.0);
  double Value() const;

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* upper_bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1 (the +Inf bucket)
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds: 0.5 ms .. 30 s.
const std::vector<double>& LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> labels, Type type);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends the HELP/TYPE lines and every child's samples.
  void Expose(std::string& out) const;

 protected:
  struct ChildBase {
    virtual ~ChildBase() = default;
  };
  ChildBase& Find(std::vector<std::string> values, const std::function<ChildBase*()>& make);
  virtual void ExposeChild(std::string& out, const std::string& labels,
                           const ChildBase& child) const = 0;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  Type type_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<ChildBase>> children_;
};

template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels, Type type,
         std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), std::move(labels), type),
        bounds_(std::move(bounds)) {}

  // The child for these label values (in the family's label order); created on first use.
  T& With(std::initializer_list<std::string_view> values) {
    return With(std::vector<std::string>(values.begin(), values.end()));
  }
  T& With(std::vector<std::string> values) {
    auto make = [this]() -> ChildBase* {
      if constexpr (std::is_same_v<T, Histogram>) {
        return new Child(&bounds_);
      } else {
        return new Child();
      }
    };
    return static_cast<Child&>(Find(std::move(values), make)).metric;
  }

 private:
  struct Child : ChildBase {
    template <typename... Args>
    explicit Child(Args&&... args) : metric(std::forward<Args>(args)...) {}
    T metric;
  };
  void ExposeChild(std::string& out, const std::string& labels,
                   const ChildBase& child) const override;
  std::vector<double> bounds_;
};

template <>
void Family<Counter>::ExposeChild(std::string&, const std::string&, const ChildBase&) const;
template <>
void Family<Gauge>::ExposeChild(std::string&, const std::string&, const ChildBase&) const;
template <>
void Family<Histogram>::ExposeChild(std::string&, const std::string&, const ChildBase&) const;

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels,
                                  std::vector<double> bounds = LatencyBuckets());

  // `collect` appends complete exposition text (HELP, TYPE and samples) at scrape time.
  void AddCollector(std::function<void(std::string& out)> collect);

  std::string Expose() const;

 private:
  void Register(std::unique_ptr<FamilyBase> family);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Appends `value` in exposition format ("+Inf", "NaN", shortest round-trip otherwise).
void AppendValue(std::string& out, double value);
// Appends a label value escaped for exposition (\\, \", \n).
void AppendLabelValue(std::string& out, std::string_view value);

// Registers process_* metrics (RSS, virtual memory, CPU seconds, open and max fds, start time)
// read from /proc at scrape time.
void AddProcessCollector(Registry& registry);

}  // namespace pa::telemetry
