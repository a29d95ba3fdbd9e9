#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>

#include "data_set.h"

namespace pa::differential {
namespace {

using storage::Labels;
using storage::Sample;
using storage::SeriesSamples;

void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact round trip
    out.append(buf, r.ptr);
  }
}

void AppendSeconds(std::string& out, int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  out += buf;
}

std::string SeriesPrefix(const Labels& labels) {
  std::string out(storage::LabelValue(labels, storage::kMetricNameLabel));
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (l.name == storage::kMetricNameLabel) continue;
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    for (char c : l.value) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  out += "} ";
  return out;
}

}  // namespace

Status WriteOpenMetrics(const DataSet& data, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
  if (!f) return InternalError("cannot create " + path);
  std::string buf;
  for (const Family& family : data.families) {
    buf = "# TYPE " + family.name + " " + family.type + "\n";
    for (size_t i = family.first; i < family.first + family.count; ++i) {
      const SeriesSamples& s = data.series[i];
      const std::string prefix = SeriesPrefix(s.labels);
      for (const Sample& sample : s.samples) {
        buf += prefix;
        AppendDouble(buf, sample.v);
        buf += ' ';
        AppendSeconds(buf, sample.t);
        buf += '\n';
      }
      if (buf.size() > (1 << 22)) {
        if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) {
          return InternalError("cannot write " + path);
        }
        buf.clear();
      }
    }
    if (std::fwrite(buf.data(), 1, buf.size(), f.get()) != buf.size()) {
      return InternalError("cannot write " + path);
    }
  }
  if (std::fputs("# EOF\n", f.get()) < 0) return InternalError("cannot write " + path);
  if (std::fclose(f.release()) != 0) return InternalError("cannot write " + path);
  return Status::Ok();
}

}  // namespace pa::differential
