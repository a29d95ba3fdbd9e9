#include "base/json.h"

#include <gtest/gtest.h>

#include <bit>
#include <optional>
#include <random>
#include <string>
#include <vector>

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

// ParseJson parses with simdjson and falls back to nlohmann for what simdjson refuses; it must
// say exactly what nlohmann alone says. nlohmann's verdict, value and message for `text`:
std::optional<Json> Reference(std::string_view text, std::string* error) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

// Equal values of equal types all the way down (Json's == also equates 1, 1u and 1.0), doubles
// bit for bit (so -0.0 is not 0.0); "" when they are, else where they differ.
// The one difference ParseJson allows itself: `-0` is unsigned 0, not nlohmann's signed 0.
std::string Difference(const Json& a, const Json& b, const std::string& at = "$") {
  const auto is_zero = [](const Json& j) { return j.is_number_integer() && j == 0; };
  if (is_zero(a) && is_zero(b)) return "";
  if (a.type() != b.type()) {
    return at + ": " + a.dump() + " (" + std::to_string(static_cast<int>(a.type())) + ") vs " +
           b.dump() + " (" + std::to_string(static_cast<int>(b.type())) + ")";
  }
  if (a.is_number_float()) {
    const auto x = std::bit_cast<uint64_t>(a.get<double>());
    const auto y = std::bit_cast<uint64_t>(b.get<double>());
    return x == y ? "" : at + ": " + a.dump() + " vs " + b.dump();
  }
  if (a.is_array() || a.is_object()) {
    if (a.size() != b.size()) {
      return at + ": sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    }
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
      if (a.is_object() && x.key() != y.key()) return at + ": key " + x.key() + " vs " + y.key();
      const std::string where = a.is_object() ? at + "." + x.key() : at + "[]";
      if (std::string d = Difference(*x, *y, where); !d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : at + ": " + a.dump() + " vs " + b.dump();
}

// "" when ParseJson agrees with nlohmann on `text`, else how it does not.
std::string Disagreement(std::string_view text) {
  std::string got_error, want_error;
  const std::optional<Json> got = ParseJson(text, &got_error);
  const std::optional<Json> want = Reference(text, &want_error);
  if (got.has_value() != want.has_value()) {
    return got ? "accepted what nlohmann refuses: " + want_error : "refused: " + got_error;
  }
  if (!got) {
    return got_error == want_error ? "" : "message '" + got_error + "' vs '" + want_error + "'";
  }
  return Difference(*got, *want);
}

TEST(JsonTest, ParseSaysWhatNlohmannSays) {
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  const std::vector<std::string> cases = {
      "0",
      "-0",
      "-0.0",
      "0.0",
      "1",
      "-1",
      "1.0",
      "1e2",
      "1E+2",
      "-1.5e-7",
      "1e-400",
      "1e400",
      "-1e400",
      "0.1",
      "123456789.123456789",
      "9223372036854775807",
      "9223372036854775808",
      "-9223372036854775808",
      "-9223372036854775809",
      "18446744073709551615",
      "18446744073709551616",
      "123456789012345678901234567890",
      "01",
      "-",
      "1.",
      ".5",
      "+1",
      "0x10",
      "NaN",
      "Infinity",
      "true",
      "false",
      "null",
      "nul",
      R"("")",
      R"("a\nb")",
      R"("\u0000")",
      R"("\ud83d\ude00")",
      R"("\ud800")",
      R"("\udc00x")",
      R"("\u00e9")",
      "\"\xD1\x87\xD0\xB0\xD0\xB9\"",
      "\"\xFF\"",
      "\"\xC0\xAF\"",
      "\"\xED\xA0\x80\"",
      "\"a\x01z\"",
      "\"a\tb\"",
      R"("\q")",
      "[]",
      "{}",
      "[1,]",
      R"({"a":1,})",
      "[1 2]",
      R"({"a" 1})",
      "{1:2}",
      R"({"a":1,"a":2})",
      R"({"b":1,"a":[true,null,{}]})",
      "  [ 1 , 2 ]  ",
      "[] x",
      "",
      " ",
      "\xEF\xBB\xBF{}",
      "[[[[]]]]",
      deep,
      R"({"a":)" + deep + "}",
      R"({"run_id":"r-1","steps":[{"index":0,"timings":{"dns_ms":0.5,"cls":0.01}}],"n":-3})"};
  for (const std::string& text : cases) {
    EXPECT_EQ(Disagreement(text), "") << "document: " << text.substr(0, 80);
  }
}

// Random damage to valid documents: every mutant gets nlohmann's verdict, value and message.
TEST(JsonTest, ParseAgreesWithNlohmannOnDamagedDocuments) {
  const std::vector<std::string> seeds = {
      R"({"run_id":"bench-1","status":"error","duration_ms":1234.5,"steps":[{"index":0,)"
      R"("name":"Открыть","timings":{"dns_ms":0.25,"ttfb_ms":12},"http":{"status_code":200}},)"
      R"({"index":1,"assertions":[{"type":"text","passed":false,"message":"\"x\"\n"}]}],)"
      R"("attributes":{"k":"v","k":"w"},"big":18446744073709551615,"neg":-7,"e":1.5e-3,)"
      R"("t":true,"f":false,"z":null})",
      R"([0,-0,1e2,[{"a":[]},{}],"\u00e9\ud83d\ude00",-12.5e+3,9223372036854775807])"};
  const std::string alphabet = "{}[]\",:0123456789eE.-+ \t\n\\utfnalsr\x01\x7f\xC3\xA9\xFF";
  std::mt19937 rng(20261128);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !text.empty(); ++k) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 2:
          text.erase(at, 1);
          break;
        default:
          text.resize(at);
      }
    }
    std::string error;
    accepted += Reference(text, &error).has_value() ? 1 : 0;
    ASSERT_EQ(Disagreement(text), "") << "document: " << text;
  }
  // Both verdicts are common, so values are compared as well as messages.
  EXPECT_GT(accepted, 500);
  EXPECT_LT(accepted, 19500);
}

}  // namespace
}  // namespace pa
