#include "storage/sqlite/sql_rewrite.h"

#include <gtest/gtest.h>

namespace pa::storage::sqlite {
namespace {

TEST(SqliteSqlRewrite, RewritesParametersOutsideLiterals) {
  auto r = RewriteParams("SELECT $1, '$2', \"$3\", `$4`, [$5], $12 -- $6\n/* $7 */ FROM t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sql, "SELECT ?1, '$2', \"$3\", `$4`, [$5], ?12 -- $6\n/* $7 */ FROM t");
  EXPECT_EQ(r->max_param, 12);
}

TEST(SqliteSqlRewrite, EscapedQuotesStayInsideTheLiteral) {
  auto r = RewriteParams("SELECT 'it''s $1', $2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sql, "SELECT 'it''s $1', ?2");
  EXPECT_EQ(r->max_param, 2);
}

TEST(SqliteSqlRewrite, DollarInsideIdentifiersIsKept) {
  auto r = RewriteParams("SELECT a$1 FROM t WHERE x = $1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sql, "SELECT a$1 FROM t WHERE x = ?1");
}

TEST(SqliteSqlRewrite, RefusesParameterZeroAndHugeNumbers) {
  EXPECT_EQ(RewriteParams("SELECT $0").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RewriteParams("SELECT $99999999999").status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteSqlRewrite, UnterminatedLiteralIsPassedThrough) {
  auto r = RewriteParams("SELECT '$1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sql, "SELECT '$1");
  EXPECT_EQ(r->max_param, 0);
}

TEST(SqliteSqlRewrite, LooksLikeRead) {
  EXPECT_TRUE(LooksLikeRead("SELECT 1"));
  EXPECT_TRUE(LooksLikeRead("  -- comment\n /* x */ select 1"));
  EXPECT_TRUE(LooksLikeRead("WITH x AS (SELECT 1) SELECT * FROM x"));
  EXPECT_TRUE(LooksLikeRead("(SELECT 1) UNION (SELECT 2)"));
  EXPECT_FALSE(LooksLikeRead("INSERT INTO t VALUES (1) RETURNING id"));
  EXPECT_FALSE(LooksLikeRead("SELECTION"));
  EXPECT_FALSE(LooksLikeRead(""));
}

TEST(SqliteSqlRewrite, IsBlank) {
  EXPECT_TRUE(IsBlank(""));
  EXPECT_TRUE(IsBlank(" ;\n -- done\n /* x */ ;"));
  EXPECT_FALSE(IsBlank("; SELECT 1"));
}

}  // namespace
}  // namespace pa::storage::sqlite
