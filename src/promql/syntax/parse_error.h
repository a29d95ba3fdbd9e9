// Internal to the parser: Prometheus-style positioned errors and the type-checking pass.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "promql/syntax/ast.h"

namespace pa::promql {

// kInvalidArgument "<line>:<col>: parse error: <message>" for byte offset `pos` of `query`.
Status ParseError(std::string_view query, int pos, std::string_view message);

// Prometheus's checkAST: types of operands and arguments, bool/grouping rules, selector
// sanity. Normalises what Prometheus normalises (set operators become many-to-many, vector
// matching is dropped when a side is a scalar).
Status CheckTypes(Expr& e, std::string_view query);

}  // namespace pa::promql
