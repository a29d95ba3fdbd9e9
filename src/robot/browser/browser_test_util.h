// Helpers shared by the browser tests: whether Chromium is there (skip, or fail under
// PRIMOART_TEST_REQUIRE_SERVERS=1), step builders, and PNG recognition.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "robot/browser/browser_runner.h"
#include "robot/browser/chromium.h"

namespace pa::robot::browser::testing {

inline constexpr const char* kChromium = "/usr/bin/chromium";

// Empty when Chromium can run here; else why not.
inline std::string ChromiumMissing() {
  if (access(kChromium, X_OK) == 0) return "";
  return std::string(kChromium) + " is not installed (scripts/install-deps test installs it)";
}

inline bool ServersRequired() {
  const char* v = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
  return v != nullptr && std::string_view(v) == "1";
}

// In a test body or SetUp: GTEST_SKIP, or a failure when servers are required.
#define PA_REQUIRE_CHROMIUM()                                                               \
  do {                                                                                      \
    if (std::string why = ::pa::robot::browser::testing::ChromiumMissing(); !why.empty()) { \
      if (::pa::robot::browser::testing::ServersRequired()) FAIL() << why;                  \
      GTEST_SKIP() << why;                                                                  \
    }                                                                                       \
  } while (false)

inline bool IsPng(std::string_view bytes) {
  return bytes.size() > 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8);
}

inline synth::BrowserStep Actions(std::vector<synth::BrowserAction> actions) {
  return synth::BrowserStep{std::move(actions)};
}

inline BrowserStepContext Context(std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                  TemplateExpander expand = nullptr) {
  return BrowserStepContext{
      .step_index = 0, .step_name = "browser", .timeout = timeout, .expand = std::move(expand)};
}

// Options for test browsers: their directories under TMPDIR (the test runner's temp dir).
inline ChromiumOptions TestChromiumOptions() {
  ChromiumOptions o;
  o.executable = kChromium;
  if (const char* dir = std::getenv("PRIMOART_TEST_TMPDIR"); dir != nullptr && *dir != '\0') {
    o.temp_parent = dir;
  }
  return o;
}

}  // namespace pa::robot::browser::testing
