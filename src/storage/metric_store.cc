#include "storage/metric_store.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/json.h"

namespace pa::storage {
namespace {

bool ValidLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ValidMetricName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view LabelValue(const Labels& labels, std::string_view name) {
  for (const auto& l : labels) {
    if (l.name == name) return l.value;
  }
  return {};
}

Status NormalizeLabels(Labels& labels) {
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 0; i < labels.size(); ++i) {
    const Label& l = labels[i];
    if (l.name == kMetricNameLabel) {
      if (!ValidMetricName(l.value)) {
        return InvalidArgumentError("metric name '" + l.value +
                                    "' must match [a-zA-Z_:][a-zA-Z0-9_:]*");
      }
    } else if (!ValidLabelName(l.name)) {
      return InvalidArgumentError("label name '" + l.name + "' must match [a-zA-Z_][a-zA-Z0-9_]*");
    } else if (l.name.starts_with("__")) {
      return InvalidArgumentError("label name '" + l.name + "' is reserved (starts with __)");
    }
    if (i > 0 && labels[i - 1].name == l.name) {
      return InvalidArgumentError("label '" + l.name + "' appears twice");
    }
    if (!IsValidUtf8(l.value)) {
      return InvalidArgumentError("value of label '" + l.name + "' is not valid UTF-8");
    }
  }
  return Status::Ok();
}

std::string LabelsToString(const Labels& labels) {
  std::string out(LabelValue(labels, kMetricNameLabel));
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += '=';
    AppendJsonString(out, l.value);
  }
  out += '}';
  return out;
}

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "vector";
    case ValueType::kMatrix:
      return "matrix";
    case ValueType::kString:
      return "string";
  }
  return "vector";
}

}  // namespace pa::storage
