#include "storage/sqlite/sql_rewrite.h"

#include <algorithm>
#include <cctype>

namespace pa::storage::sqlite {
namespace {

// SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
constexpr int kMaxParam = 32766;

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The index just past the quoted run or comment starting at `i`, or `i` when there is none.
// Unterminated runs extend to the end; SQLite reports them.
size_t SkipQuotedOrComment(std::string_view sql, size_t i) {
  const char c = sql[i];
  auto to = [&](std::string_view end) {
    const size_t at = sql.find(end, i + 1);
    return at == std::string_view::npos ? sql.size() : at + end.size();
  };
  switch (c) {
    case '\'':
      return to("'");  // '' (an escaped quote) is two adjacent literals to this scanner
    case '"':
      return to("\"");
    case '`':
      return to("`");
    case '[':
      return to("]");
    case '-':
      if (i + 1 < sql.size() && sql[i + 1] == '-') return to("\n");
      return i;
    case '/':
      if (i + 1 < sql.size() && sql[i + 1] == '*') {
        const size_t at = sql.find("*/", i + 2);
        return at == std::string_view::npos ? sql.size() : at + 2;
      }
      return i;
    default:
      return i;
  }
}

}  // namespace

Result<RewrittenSql> RewriteParams(std::string_view sql) {
  RewrittenSql out;
  out.sql.reserve(sql.size());
  size_t i = 0;
  while (i < sql.size()) {
    if (const size_t end = SkipQuotedOrComment(sql, i); end != i) {
      out.sql.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    const char c = sql[i];
    if (c == '$' && i + 1 < sql.size() && IsDigit(sql[i + 1]) &&
        (i == 0 || !IsIdentChar(sql[i - 1]))) {
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && IsDigit(sql[j])) {
        n = std::min(n * 10 + (sql[j] - '0'), kMaxParam + 1);
        ++j;
      }
      if (n == 0 || n > kMaxParam) {
        return InvalidArgumentError("bad SQL parameter '" + std::string(sql.substr(i, j - i)) +
                                    "' (parameters are $1 to $" + std::to_string(kMaxParam) + ")");
      }
      out.sql += '?';
      out.sql.append(sql.substr(i + 1, j - i - 1));
      out.max_param = std::max(out.max_param, n);
      i = j;
      continue;
    }
    out.sql += c;
    ++i;
  }
  return out;
}

bool LooksLikeRead(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '(') {
      ++i;
      continue;
    }
    if ((c == '-' || c == '/') && SkipQuotedOrComment(sql, i) != i) {
      i = SkipQuotedOrComment(sql, i);
      continue;
    }
    break;
  }
  size_t j = i;
  while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j]))) ++j;
  std::string word(sql.substr(i, j - i));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  return word == "SELECT" || word == "WITH" || word == "VALUES";
}

bool IsBlank(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
      ++i;
    } else if ((c == '-' || c == '/') && SkipQuotedOrComment(sql, i) != i) {
      i = SkipQuotedOrComment(sql, i);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace pa::storage::sqlite
