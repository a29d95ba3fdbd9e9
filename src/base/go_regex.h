// Fully anchored regular expressions with Go's syntax and semantics, as PromQL uses them in
// `=~`/`!~` matchers and label_replace(). Backed by RE2, whose syntax and leftmost-first
// matching are Go's regexp package's: UTF-8 aware, linear time, no recursion over the input —
// safe for label values of any length. Stores matching label matchers should use it too, so
// that selectors match exactly what the engine and Prometheus match.
//
//   PA_ASSIGN_OR_RETURN(GoRegex re, GoRegex::Compile("job-(.+)"));
//   re.FullMatch("job-api");                       // true
//   re.Replace("job-api", "$1")                    // "api" (nullopt: no match)
//
// Compile fails with kInvalidArgument ("error parsing regexp: ...") where Go's regexp.Compile
// fails (lookarounds, backreferences, bad syntax).
// Thread-safety: a compiled GoRegex is immutable and may be shared and copied freely.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace re2 {
class RE2;
}

namespace pa {

class GoRegex {
 public:
  static Result<GoRegex> Compile(std::string_view pattern);

  bool FullMatch(std::string_view s) const;
  // Go's regexp.Expand of `replacement` ($1, ${1}, $name, ${name}, $$) against the match of
  // the whole of `s`; nullopt when `s` does not match.
  std::optional<std::string> Replace(std::string_view s, std::string_view replacement) const;

 private:
  std::shared_ptr<const re2::RE2> re_;  // "^(?:pattern)$", as Prometheus compiles it
};

}  // namespace pa
