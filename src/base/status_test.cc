#include "base/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace pa {
namespace {

Result<int> Half(int v) {
  if (v % 2) return InvalidArgumentError(std::to_string(v) + " is odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  PA_ASSIGN_OR_RETURN(int half, Half(v));
  PA_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int v) {
  PA_RETURN_IF_ERROR(Half(v).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  Status s = NotFoundError("row 7");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: row 7");
  EXPECT_EQ(s.WithContext("settings").message(), "settings: row 7");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(StatusTest, ResultPropagatesTheFirstFailure) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6/2 = 3 is odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
}

TEST(StatusTest, ResultHoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
  EXPECT_EQ(Result<int>(UnavailableError("down")).value_or(9), 9);
}

}  // namespace
}  // namespace pa
