// PromQL parser: query text to a type-checked syntax tree (ast.h), with Prometheus 2.42's
// grammar and precedence (or < and/unless < comparisons < + - < * / % atan2 < ^, ^ right-
// associative, unary minus binding like *, offset/@/[range] binding tightest) and its checks
// (argument counts and types, bool only on comparisons, no grouping on set operators, ...).
//
//   PA_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr("sum by (job) (rate(x[5m]))"));
//
// Errors: kInvalidArgument "1:15: parse error: unexpected ..." (line:column, as Prometheus);
// bad regular expressions are kInvalidArgument too (RE2 with Go's syntax, base/go_regex.h).
// Thread-safety: free function, no shared state.
#pragma once

#include <string_view>

#include "base/status.h"
#include "promql/syntax/ast.h"

namespace pa::promql {

Result<ExprPtr> ParseExpr(std::string_view query);

}  // namespace pa::promql
