// SQL text helpers for the SQLite backend: turning the portable `$N` parameters into SQLite's
// `?N`, and telling reads from writes before choosing a connection.
//
//   PA_ASSIGN_OR_RETURN(RewrittenSql r, RewriteParams("SELECT '$1', $2"));
//   // r.sql == "SELECT '$1', ?2", r.max_param == 2
//
// Only `$` followed by digits outside string literals, quoted identifiers ("x", `x`, [x]) and
// comments is rewritten; everything else is passed through for SQLite to judge.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace pa::storage::sqlite {

struct RewrittenSql {
  std::string sql;
  int max_param = 0;  // the highest N of the `$N` parameters, 0 when there are none
};

// Fails with kInvalidArgument on `$0` or a parameter number SQLite cannot bind.
Result<RewrittenSql> RewriteParams(std::string_view sql);

// True when the statement starts with SELECT, WITH or VALUES (after comments and whitespace):
// a candidate for a reader connection. The caller still asks SQLite whether the prepared
// statement is read-only, because `WITH ... INSERT` starts the same way.
bool LooksLikeRead(std::string_view sql);

// True when `sql` holds nothing but whitespace, ';' and comments.
bool IsBlank(std::string_view sql);

}  // namespace pa::storage::sqlite
