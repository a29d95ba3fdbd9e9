#include "storage/embedded_tsdb/index/index.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "base/go_regex.h"

namespace pa::storage::embedded_tsdb {

struct CompiledPattern {
  explicit CompiledPattern(GoRegex r) : re(std::move(r)) {}
  bool FullMatch(std::string_view s) const { return re.FullMatch(s); }
  GoRegex re;
};

namespace {

bool IsRegexMeta(char c) {
  switch (c) {
    case '\\':
    case '.':
    case '+':
    case '*':
    case '?':
    case '(':
    case ')':
    case '|':
    case '[':
    case ']':
    case '{':
    case '}':
    case '^':
    case '$':
      return true;
    default:
      return false;
  }
}

bool IsLiteral(std::string_view s) { return std::none_of(s.begin(), s.end(), IsRegexMeta); }

// Compiled regexes by pattern; bounded, cleared when full (patterns come from dashboards and
// alert rules, so the working set is small).
Result<std::shared_ptr<const CompiledPattern>> CompiledRegex(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const CompiledPattern>, std::less<>> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(pattern); it != cache.end()) return it->second;
  }
  std::shared_ptr<const CompiledPattern> re;
  PA_ASSIGN_OR_RETURN(GoRegex go, GoRegex::Compile(pattern));
  re = std::make_shared<const CompiledPattern>(std::move(go));
  std::lock_guard lock(mu);
  if (cache.size() >= 512) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

}  // namespace

PostingList Intersect(const PostingList& a, const PostingList& b) {
  PostingList out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

PostingList Subtract(const PostingList& a, const PostingList& b) {
  PostingList out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

PostingList Union(const std::vector<const PostingList*>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  if (lists.size() == 2) {
    PostingList out;
    std::set_union(lists[0]->begin(), lists[0]->end(), lists[1]->begin(), lists[1]->end(),
                   std::back_inserter(out));
    return out;
  }
  size_t total = 0;
  for (const PostingList* l : lists) total += l->size();
  PostingList out;
  out.reserve(total);
  for (const PostingList* l : lists) out.insert(out.end(), l->begin(), l->end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<Matcher> Matcher::Compile(const LabelMatcher& spec) {
  Matcher m;
  m.spec_ = spec;
  using Op = LabelMatcher::Op;
  m.negate_ = spec.op == Op::kNotEqual || spec.op == Op::kRegexNoMatch;
  const std::string& v = spec.value;
  if (spec.op == Op::kEqual || spec.op == Op::kNotEqual || IsLiteral(v)) {
    m.kind_ = Kind::kLiteral;
    m.set_ = {v};
  } else if (v == ".*") {
    m.kind_ = Kind::kAny;
  } else if (v == ".+") {
    m.kind_ = Kind::kNonEmpty;
  } else if (v.size() > 2 && v.ends_with(".*") && IsLiteral(v.substr(0, v.size() - 2))) {
    m.kind_ = Kind::kPrefix;
    m.prefix_ = v.substr(0, v.size() - 2);
  } else {
    bool alternation = true;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= v.size(); ++i) {
      if (i == v.size() || v[i] == '|') {
        parts.emplace_back(v.substr(start, i - start));
        start = i + 1;
      } else if (IsRegexMeta(v[i])) {
        alternation = false;
        break;
      }
    }
    if (alternation) {
      m.kind_ = Kind::kSet;
      std::sort(parts.begin(), parts.end());
      parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
      m.set_ = std::move(parts);
    } else {
      m.kind_ = Kind::kRegex;
      PA_ASSIGN_OR_RETURN(m.regex_, CompiledRegex(v));
    }
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool Matcher::MatchesPositive(std::string_view value) const {
  switch (kind_) {
    case Kind::kLiteral:
    case Kind::kSet:
      return std::binary_search(set_.begin(), set_.end(), value);
    case Kind::kAny:
      return true;
    case Kind::kNonEmpty:
      return !value.empty();
    case Kind::kPrefix:
      return value.starts_with(prefix_);
    case Kind::kRegex:
      return regex_->FullMatch(value);
  }
  return false;
}

bool Matcher::Matches(std::string_view value) const { return MatchesPositive(value) != negate_; }

const std::vector<std::string>* Matcher::ExactValues(bool want) const {
  if (kind_ != Kind::kLiteral && kind_ != Kind::kSet) return nullptr;
  return want != negate_ ? &set_ : nullptr;
}

Result<std::vector<Matcher>> CompileMatchers(const MatcherSet& set) {
  std::vector<Matcher> out;
  out.reserve(set.size());
  for (const LabelMatcher& spec : set) {
    PA_ASSIGN_OR_RETURN(Matcher m, Matcher::Compile(spec));
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

// Postings of the series whose value of m.name() satisfies `want` == m.Matches(value).
PostingList ValuePostings(const IndexView& index, const Matcher& m, bool want) {
  std::vector<const PostingList*> lists;
  if (const std::vector<std::string>* values = m.ExactValues(want)) {
    for (const std::string& v : *values) {
      if (const PostingList* p = index.Postings(m.name(), v)) lists.push_back(p);
    }
    return Union(lists);
  }
  index.ForEachValue(m.name(), [&](std::string_view value, const PostingList& p) {
    if (m.Matches(value) == want) lists.push_back(&p);
  });
  return Union(lists);
}

}  // namespace

PostingList SelectPostings(const IndexView& index, const std::vector<Matcher>& matchers) {
  std::optional<PostingList> result;
  for (const Matcher& m : matchers) {
    if (m.matches_empty()) continue;
    PostingList p = ValuePostings(index, m, true);
    result = result ? Intersect(*result, p) : std::move(p);
    if (result->empty()) return {};
  }
  for (const Matcher& m : matchers) {
    if (!m.matches_empty()) continue;
    PostingList excluded = ValuePostings(index, m, false);
    result = Subtract(result ? *result : index.AllPostings(), excluded);
    if (result->empty()) return {};
  }
  return result ? std::move(*result) : index.AllPostings();
}

uint64_t HashLabels(const Labels& labels) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  const std::hash<std::string_view> hash;
  for (const Label& l : labels) {
    h = (h ^ hash(l.name)) * 0xff51afd7ed558ccdULL;
    h = (h ^ hash(l.value)) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
  }
  return h;
}

}  // namespace pa::storage::embedded_tsdb
