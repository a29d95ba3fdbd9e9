// Label matchers over postings: Prometheus semantics for absent labels, anchoring, the fast
// paths agreeing with std::regex, and invalid patterns.
#include "storage/embedded_tsdb/index/index.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace pa::storage::embedded_tsdb {
namespace {

using Op = LabelMatcher::Op;

// A tiny index: series ids are positions in `series`.
class FakeIndex : public IndexView {
 public:
  explicit FakeIndex(std::vector<Labels> series) : series_(std::move(series)) {
    for (uint64_t i = 0; i < series_.size(); ++i) {
      all_.push_back(i);
      for (const Label& l : series_[i]) postings_[l.name][l.value].push_back(i);
    }
  }
  const PostingList& AllPostings() const override { return all_; }
  const PostingList* Postings(std::string_view name, std::string_view value) const override {
    const auto n = postings_.find(std::string(name));
    if (n == postings_.end()) return nullptr;
    const auto v = n->second.find(std::string(value));
    return v == n->second.end() ? nullptr : &v->second;
  }
  void ForEachValue(
      std::string_view name,
      const std::function<void(std::string_view, const PostingList&)>& fn) const override {
    const auto n = postings_.find(std::string(name));
    if (n == postings_.end()) return;
    for (const auto& [v, p] : n->second) fn(v, p);
  }

 private:
  std::vector<Labels> series_;
  PostingList all_;
  std::map<std::string, std::map<std::string, PostingList>> postings_;
};

PostingList Select(const FakeIndex& index, const MatcherSet& set) {
  auto matchers = CompileMatchers(set);
  EXPECT_TRUE(matchers.ok()) << matchers.status().ToString();
  return matchers.ok() ? SelectPostings(index, *matchers) : PostingList{};
}

TEST(Index, MatchersFollowPrometheusSemantics) {
  const FakeIndex index({
      {{"__name__", "up"}, {"job", "api"}},                     // 0
      {{"__name__", "up"}, {"job", "web"}, {"zone", "eu"}},     // 1
      {{"__name__", "up"}, {"job", "api-v2"}, {"zone", "us"}},  // 2
      {{"__name__", "down"}},                                   // 3
  });
  EXPECT_EQ(Select(index, {}), (PostingList{0, 1, 2, 3}));
  EXPECT_EQ(Select(index, {{Op::kEqual, "job", "api"}}), (PostingList{0}));
  EXPECT_EQ(Select(index, {{Op::kNotEqual, "job", "api"}}), (PostingList{1, 2, 3}));
  EXPECT_EQ(Select(index, {{Op::kEqual, "zone", ""}}), (PostingList{0, 3}));
  EXPECT_EQ(Select(index, {{Op::kNotEqual, "zone", ""}}), (PostingList{1, 2}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", "api"}}), (PostingList{0}));  // anchored
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", "api.*"}}), (PostingList{0, 2}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", "a.*2"}}), (PostingList{2}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", "api|web"}}), (PostingList{0, 1}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", ".+"}}), (PostingList{0, 1, 2}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "job", ".*"}}), (PostingList{0, 1, 2, 3}));
  EXPECT_EQ(Select(index, {{Op::kRegexMatch, "zone", "eu|"}}), (PostingList{0, 1, 3}));
  EXPECT_EQ(Select(index, {{Op::kRegexNoMatch, "zone", "e.*"}}), (PostingList{0, 2, 3}));
  EXPECT_EQ(Select(index, {{Op::kRegexNoMatch, "job", ".*"}}), (PostingList{}));
  EXPECT_EQ(Select(index, {{Op::kEqual, "__name__", "up"}, {Op::kRegexNoMatch, "zone", "eu"}}),
            (PostingList{0, 2}));
  EXPECT_EQ(Select(index, {{Op::kEqual, "nope", "x"}}), (PostingList{}));
}

TEST(Index, FastPathsAgreeWithTheRegexEngine) {
  const std::vector<std::string> patterns = {"abc",    "a|b|abc", ".*", ".+", "ab.*", "a.c",
                                             "(a|b)c", "[a-c]+",  "",   "x|", "a\\.b"};
  const std::vector<std::string> values = {"",    "a",   "b",  "abc", "abd", "ab",
                                           "a.b", "axb", "bc", "cab", "x"};
  for (const auto& p : patterns) {
    auto fast = Matcher::Compile({Op::kRegexMatch, "l", p});
    ASSERT_TRUE(fast.ok()) << p;
    const std::regex re(p, std::regex::ECMAScript);
    for (const auto& v : values) {
      EXPECT_EQ(fast->Matches(v), std::regex_match(v, re)) << p << " on '" << v << "'";
    }
  }
}

TEST(Index, InvalidRegexIsInvalidArgument) {
  auto m = Matcher::Compile({Op::kRegexMatch, "job", "a(b"});
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("a(b"), std::string::npos);
}

TEST(Index, PostingOperations) {
  const PostingList a = {1, 3, 5, 7}, b = {3, 4, 5}, c = {9};
  EXPECT_EQ(Intersect(a, b), (PostingList{3, 5}));
  EXPECT_EQ(Subtract(a, b), (PostingList{1, 7}));
  EXPECT_EQ(Union({&a, &b, &c}), (PostingList{1, 3, 4, 5, 7, 9}));
  EXPECT_EQ(Union({}), PostingList{});
}

}  // namespace
}  // namespace pa::storage::embedded_tsdb
