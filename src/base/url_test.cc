#include "base/url.h"

#include <gtest/gtest.h>

namespace pa {
namespace {

TEST(UrlTest, PostgresWithEncodedPassword) {
  auto u = ParseUrl("postgresql://prim%40art:p%3Ass@db.example:5433/primoart?sslmode=disable");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "postgresql");
  EXPECT_EQ(u->user, "prim@art");
  EXPECT_EQ(u->password, "p:ss");
  EXPECT_EQ(u->host, "db.example");
  EXPECT_EQ(u->port, 5433);
  EXPECT_EQ(u->path, "/primoart");
  EXPECT_EQ(u->Param("sslmode"), "disable");
  EXPECT_EQ(u->Masked(), "postgresql://prim%40art:****@db.example:5433/primoart?sslmode=disable");
}

TEST(UrlTest, S3WithEndpointParameter) {
  auto u = ParseUrl("s3://shots/prefix?endpoint=http://127.0.0.1:9000&region=eu-1&path_style=true");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "shots");
  EXPECT_EQ(u->path, "/prefix");
  EXPECT_EQ(u->Param("endpoint"), "http://127.0.0.1:9000");
  EXPECT_EQ(u->Param("path_style"), "true");
  EXPECT_EQ(u->Param("missing"), std::nullopt);
}

TEST(UrlTest, FilePaths) {
  EXPECT_EQ(ParseUrl("sqlite:///var/lib/x.db")->path, "/var/lib/x.db");
  auto rel = ParseUrl("sqlite://./data/primoart.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->host, "");
  EXPECT_EQ(rel->path, "./data/primoart.db");
}

TEST(UrlTest, IPv6Host) {
  auto u = ParseUrl("http://[::1]:8428/api");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8428);
}

TEST(UrlTest, Malformed) {
  EXPECT_FALSE(ParseUrl("not a url").ok());
  EXPECT_FALSE(ParseUrl("postgresql://h:99999/db").ok());
  EXPECT_FALSE(ParseUrl("postgresql://h:abc/db").ok());
  EXPECT_FALSE(ParseUrl("postgresql://u:p%zz@h/db").ok());
  EXPECT_FALSE(ParseUrl("http://[::1/x").ok());
}

}  // namespace
}  // namespace pa
