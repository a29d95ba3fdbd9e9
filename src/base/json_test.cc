#include "base/json.h"

#include <gtest/gtest.h>

namespace pa {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonTest, EscapesAndStaysValid) {
  EXPECT_EQ(Quote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(Quote(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(Quote("чайник"), "\"чайник\"");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence) becomes U+FFFD.
  const std::string bad = Quote("a\x80z\xD0");
  EXPECT_EQ(bad, R"("a\ufffdz\ufffd")");
  std::string err;
  ASSERT_TRUE(ParseJson(bad, &err).has_value()) << err;
}

TEST(JsonTest, ParseReportsPosition) {
  std::string err;
  EXPECT_FALSE(ParseJson("{\"a\": }", &err).has_value());
  EXPECT_NE(err.find("parse error"), std::string::npos) << err;
  auto doc = ParseJson(R"({"a": [1, 2.5, "x"]})", &err);
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["a"][1], 2.5);
}

}  // namespace
}  // namespace pa
