#include "gateway/router.h"

#include <gtest/gtest.h>

namespace pa::gateway {
namespace {

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string Invoke(const RouteMatch& m) {
  Request r;
  return m.route ? m.route->handler(r).body : "";
}

TEST(RouterTest, LiteralsParamsAndPrecedence) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/", Access::Public(), Named("root")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/api/v1/robots/{id}", Access::Read(), Named("robot")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/api/v1/robots/new", Access::Read(), Named("new")).ok());
  ASSERT_TRUE(router
                  .Add(Method::kGet, "/api/v1/robots/{id}/config",
                       Access::Robot("id", {Permission::kWrite}), Named("config"))
                  .ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/a/b/c", Access::Public(), Named("abc")).ok());
  ASSERT_TRUE(router.Add(Method::kGet, "/a/{x}/d", Access::Public(), Named("axd")).ok());

  EXPECT_EQ(Invoke(router.Match(Method::kGet, "/")), "root");
  EXPECT_EQ(Invoke(router.Match(Method::kGet, "/api/v1/robots/new")), "new");  // literal wins

  auto m = router.Match(Method::kGet, "/api/v1/robots/r 1");
  EXPECT_EQ(Invoke(m), "robot");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "r 1"}));

  m = router.Match(Method::kGet, "/api/v1/robots/r1/config");
  EXPECT_EQ(Invoke(m), "config");
  EXPECT_EQ(m.params[0].second, "r1");
  EXPECT_EQ(m.route->pattern, "/api/v1/robots/{id}/config");

  // The literal branch "b" fails deeper; the parameter branch still matches.
  m = router.Match(Method::kGet, "/a/b/d");
  EXPECT_EQ(Invoke(m), "axd");
  EXPECT_EQ(m.params[0].second, "b");

  // A parameter matches exactly one non-empty segment.
  EXPECT_EQ(router.Match(Method::kGet, "/api/v1/robots/").route, nullptr);
  EXPECT_EQ(router.Match(Method::kGet, "/api/v1/robots//config").route, nullptr);
  EXPECT_EQ(router.Match(Method::kGet, "/api/v1/robots/r1/config/x").route, nullptr);
  EXPECT_EQ(router.Match(Method::kGet, "/api/v1/robots/new/").route, nullptr);
  EXPECT_EQ(router.Match(Method::kGet, "relative").route, nullptr);
  EXPECT_EQ(router.Match(Method::kGet, "").route, nullptr);
}

TEST(RouterTest, HeadMatchesGetAndMethodsAreReported) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/items/{id}", Access::Read(), Named("get")).ok());
  ASSERT_TRUE(router.Add(Method::kPut, "/items/{key}", Access::Write(), Named("put")).ok());
  ASSERT_TRUE(router.Add(Method::kPost, "/items", Access::Write(), Named("post")).ok());

  auto head = router.Match(Method::kHead, "/items/7");
  EXPECT_EQ(Invoke(head), "get");
  EXPECT_EQ(head.params[0].first, "id");

  auto put = router.Match(Method::kPut, "/items/7");
  EXPECT_EQ(Invoke(put), "put");
  EXPECT_EQ(put.params[0].first, "key");  // names are per route

  auto del = router.Match(Method::kDelete, "/items/7");
  EXPECT_EQ(del.route, nullptr);
  EXPECT_EQ(del.allowed, (std::vector<Method>{Method::kGet, Method::kHead, Method::kPut}));

  auto missing = router.Match(Method::kGet, "/nothing");
  EXPECT_EQ(missing.route, nullptr);
  EXPECT_TRUE(missing.allowed.empty());
}

TEST(RouterTest, RejectsBadRegistrations) {
  Router router;
  ASSERT_TRUE(router.Add(Method::kGet, "/x/{id}", Access::Read(), Named("x")).ok());
  const auto code = [&](Method m, std::string pattern, Access access) {
    return router.Add(m, std::move(pattern), std::move(access), Named("y")).code();
  };
  EXPECT_EQ(code(Method::kGet, "/x/{id}", Access::Read()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Method::kGet, "/x/{other}", Access::Read()), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Method::kGet, "/y", Access{}), StatusCode::kInvalidArgument);  // no access
  for (const char* bad :
       {"", "y", "/y/", "//y", "/y//z", "/{", "/{}", "/{a", "/a}", "/x{a}", "/{a-b}", "/{a}/{a}"}) {
    EXPECT_EQ(code(Method::kGet, bad, Access::Read()), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(code(Method::kGet, "/r/{id}", Access::Robot("robot")), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add(Method::kGet, "/z", Access::Read(), nullptr).code(),
            StatusCode::kInvalidArgument);
  // The same pattern with another method is fine.
  EXPECT_TRUE(router.Add(Method::kDelete, "/x/{id}", Access::Write(), Named("d")).ok());
  EXPECT_EQ(router.routes().size(), 2u);
  EXPECT_EQ(router.routes()[1]->method, Method::kDelete);
}

TEST(AccessTest, ToStringAndAllows) {
  EXPECT_EQ(Access::Public().ToString(), "public");
  EXPECT_EQ(Access::Read().Or(Permission::kWrite).ToString(), "read|write");
  EXPECT_EQ(Access::Robot("id", {Permission::kWrite}).ToString(), "robot(id)|write");
  EXPECT_EQ(Access::Robot("").ToString(), "robot");
  EXPECT_EQ(Access{}.ToString(), "none");
  const Access a = Access::Robot("id", {Permission::kAdmin});
  EXPECT_TRUE(a.Allows(Permission::kRobot));
  EXPECT_TRUE(a.Allows(Permission::kAdmin));
  EXPECT_FALSE(a.Allows(Permission::kRead));
  EXPECT_FALSE(a.is_public());
  EXPECT_EQ(a.robot_param, "id");
}

}  // namespace
}  // namespace pa::gateway
