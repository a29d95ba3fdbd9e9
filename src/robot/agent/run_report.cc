#include "robot/agent/run_report.h"

#include <fmt/format.h>

#include <filesystem>

namespace pa::robot {
namespace {

// Display width in code points (names are often Cyrillic).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Pad(const std::string& s, size_t width) {
  const size_t w = Width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string Ms(const Json& v) {
  return v.is_number() ? fmt::format("{:.1f}", v.get<double>()) : std::string("-");
}

}  // namespace

std::string RunReport(const Json& r, const std::string& artifacts_dir) {
  std::string out;
  const bool ok = r.value("status", "") == "success";
  out += fmt::format("{} {} ({})  {}  {} ms\n", ok ? "PASS" : "FAIL",
                     r.value("transaction_name", ""), r.value("transaction_id", ""),
                     r.value("run_id", ""), Ms(r.value("duration_ms", Json())));
  size_t name_w = 4;
  for (const Json& s : r.value("steps", Json::array())) {
    name_w = std::max(name_w, Width(s.value("name", "")));
  }
  name_w = std::min<size_t>(name_w, 40);
  out += fmt::format("\n  {:>3}  {}  {:<8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9}  {}\n", "#",
                     Pad("step", name_w), "status", "total ms", "dns", "connect", "tls", "ttfb",
                     "download", "http");
  for (const Json& s : r.value("steps", Json::array())) {
    const Json t = s.value("timings", Json::object());
    const Json h = s.value("http", Json::object());
    out += fmt::format(
        "  {:>3}  {}  {:<8} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9}  {}\n", s.value("index", 0),
        Pad(s.value("name", ""), name_w), s.value("status", ""), Ms(s.value("duration_ms", Json())),
        Ms(t.value("dns_ms", Json())), Ms(t.value("connect_ms", Json())),
        Ms(t.value("tls_ms", Json())), Ms(t.value("ttfb_ms", Json())),
        Ms(t.value("download_ms", Json())),
        h.contains("status_code") ? std::to_string(h["status_code"].get<int>()) : std::string());
    std::string vitals;
    for (const char* k : {"dom_content_loaded_ms", "load_ms", "lcp_ms", "inp_ms"}) {
      if (t.contains(k)) vitals += fmt::format("{}={} ", k, Ms(t[k]));
    }
    if (t.contains("cls")) vitals += fmt::format("cls={:.3f}", t["cls"].get<double>());
    if (!vitals.empty()) out += "       web vitals: " + vitals + "\n";
    for (const Json& a : s.value("assertions", Json::array())) {
      out += fmt::format("       {} {}{}\n", a.value("passed", false) ? "ok  " : "FAIL",
                         a.value("type", ""),
                         a.value("message", "").empty() ? "" : ": " + a.value("message", ""));
    }
    if (s.contains("error_message")) out += "       error: " + s.value("error_message", "") + "\n";
    if (s.contains("screenshot")) {
      out += "       screenshot: " +
             (std::filesystem::path(artifacts_dir) / s.value("screenshot", "")).string() + "\n";
    }
  }
  if (r.contains("error")) {
    const Json& e = r["error"];
    out += fmt::format("\n  error ({}{}): {}\n", e.value("type", ""),
                       e.contains("step_index") ? ", step " + e["step_index"].dump() : "",
                       e.value("message", ""));
  }
  return out;
}

}  // namespace pa::robot
