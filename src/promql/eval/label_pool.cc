#include <limits>

#include "promql/eval/value.h"

namespace pa::promql {
namespace {

constexpr LabelsId kUnset = std::numeric_limits<LabelsId>::max();

// Label values are valid UTF-8, in which 0xFF never occurs: a safe separator.
void AppendKey(const storage::Labels& labels, std::string* key) {
  key->clear();
  for (const auto& l : labels) {
    key->append(l.name);
    key->push_back('\xff');
    key->append(l.value);
    key->push_back('\xff');
  }
}

}  // namespace

LabelPool::LabelPool() { Intern({}); }

LabelsId LabelPool::Intern(const storage::Labels& labels) {
  AppendKey(labels, &key_);
  auto [it, inserted] = index_.try_emplace(key_, static_cast<LabelsId>(labels_.size()));
  if (inserted) {
    labels_.push_back(labels);
    drop_name_.push_back(kUnset);
  }
  return it->second;
}

LabelsId LabelPool::DropMetricName(LabelsId id) {
  if (drop_name_[id] != kUnset) return drop_name_[id];
  const storage::Labels& in = labels_[id];
  LabelsId out = id;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].name == storage::kMetricNameLabel) {
      storage::Labels copy = in;
      copy.erase(copy.begin() + static_cast<std::ptrdiff_t>(i));
      out = Intern(copy);
      break;
    }
  }
  drop_name_[id] = out;
  return out;
}

}  // namespace pa::promql
