// The inverted index shared by the head and the blocks: sorted posting lists (series ids per
// label pair) and label matchers evaluated over them, Prometheus-style — positive matchers
// intersect postings, matchers that also match an absent label ("" — e.g. `a!="x"`,
// `a=~"x|"`) subtract the series whose value does not match.
//
// Regexes are fully anchored, with Go's syntax and semantics (base/go_regex.h, RE2), exactly as
// the PromQL engine and Prometheus match them. Compiled patterns are cached process-wide, and
// the common shapes never reach the regex engine at all: literals, alternations of literals
// ("GET|POST"), ".*", ".+" and "prefix.*".
//
// Thread-safety: Matcher is immutable after Compile and may be shared; IndexView
// implementations say their own rules.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/metric_store.h"

namespace pa::storage::embedded_tsdb {

// Series ids in ascending order.
using PostingList = std::vector<uint64_t>;

PostingList Intersect(const PostingList& a, const PostingList& b);
PostingList Subtract(const PostingList& a, const PostingList& b);
PostingList Union(const std::vector<const PostingList*>& lists);

// Read access to one index (the head's or a block's).
class IndexView {
 public:
  virtual ~IndexView() = default;
  virtual const PostingList& AllPostings() const = 0;
  // nullptr when no series has name=value.
  virtual const PostingList* Postings(std::string_view name, std::string_view value) const = 0;
  // Every value of label `name` with its postings, in value order.
  virtual void ForEachValue(
      std::string_view name,
      const std::function<void(std::string_view, const PostingList&)>& fn) const = 0;
};

struct CompiledPattern;

class Matcher {
 public:
  // kInvalidArgument for a regex that does not compile (kUnimplemented for RE2 syntax that
  // a regex engine cannot express).
  static Result<Matcher> Compile(const LabelMatcher& spec);

  const std::string& name() const { return spec_.name; }
  bool Matches(std::string_view value) const;
  // Whether a series without the label matches.
  bool matches_empty() const { return matches_empty_; }
  // The finite set of values for which Matches(v) == want, when the matcher is a literal or an
  // alternation of literals; nullptr when the values must be scanned.
  const std::vector<std::string>* ExactValues(bool want) const;

 private:
  enum class Kind { kLiteral, kSet, kAny, kNonEmpty, kPrefix, kRegex };
  bool MatchesPositive(std::string_view value) const;

  LabelMatcher spec_;
  Kind kind_ = Kind::kLiteral;
  bool negate_ = false;
  bool matches_empty_ = false;
  std::vector<std::string> set_;  // kSet (sorted); kLiteral/kPrefix use spec_.value / prefix_
  std::string prefix_;
  std::shared_ptr<const CompiledPattern> regex_;
};

Result<std::vector<Matcher>> CompileMatchers(const MatcherSet& set);

// The series of `index` matching every matcher (all series when `matchers` is empty).
PostingList SelectPostings(const IndexView& index, const std::vector<Matcher>& matchers);

// A 64-bit hash of a label set, for the head's series lookup.
uint64_t HashLabels(const Labels& labels);

}  // namespace pa::storage::embedded_tsdb
