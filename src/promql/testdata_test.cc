// Runs the scripts in testdata/ (cases in Prometheus's test language, checked against
// Prometheus 2.42) through the engine.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "promql/engine.h"
#include "promql/testing/script.h"

namespace pa::promql {
namespace {

class ScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScriptTest, MatchesPrometheus) {
  const std::filesystem::path path =
      std::filesystem::path(PA_PROMQL_TESTDATA_DIR) / (GetParam() + ".test");
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  Engine engine;
  for (const std::string& failure : testing::RunScript(text.str(), engine)) {
    ADD_FAILURE() << path.filename().string() << " " << failure;
  }
}

std::vector<std::string> Scripts() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(PA_PROMQL_TESTDATA_DIR)) {
    if (entry.path().extension() == ".test") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Testdata, ScriptTest, ::testing::ValuesIn(Scripts()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pa::promql
