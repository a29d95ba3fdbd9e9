#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace pa::core {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string WriteYaml(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("primoart-config-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  std::filesystem::path path_;
};

TEST_F(ConfigTest, DefaultsAndDerivedValues) {
  auto c = LoadConfig({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->config.data_dir, "./data");
  EXPECT_EQ(c->config.roles, std::vector<std::string>{"all"});
  EXPECT_EQ(c->config.database_url, "sqlite://./data/primoart.db");
  EXPECT_EQ(c->config.artifacts_url, "file://./data/artifacts");
  EXPECT_EQ(c->config.http_max_body, 16 << 20);
  EXPECT_EQ(c->sources.at("database_url").kind, "derived");
}

TEST_F(ConfigTest, PrecedenceFlagsOverEnvOverFileOverDefaults) {
  const std::string file = WriteYaml(
      "listen: 127.0.0.1:1111\n"
      "data_dir: /srv/pa\n"
      "log_level: debug\n"
      "http:\n"
      "  max_body: 1MiB\n"
      "  cors_origins: [https://a.example, https://b.example]\n");
  ConfigInputs in;
  in.file = file;
  in.env = {{"PRIMOART_LISTEN", "127.0.0.1:2222"}, {"PRIMOART_LOG_LEVEL", "warn"}};
  in.overrides = {{"listen", "127.0.0.1:3333"}};
  auto c = LoadConfig(in);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.listen, "127.0.0.1:3333");      // flag beats env and file
  EXPECT_EQ(c->config.log_level, "warn");             // env beats file
  EXPECT_EQ(c->config.data_dir, "/srv/pa");           // file beats default
  EXPECT_EQ(c->config.http_max_body, 1 << 20);        // nested form
  EXPECT_EQ(c->config.http_cors_origins.size(), 2u);  // YAML list
  EXPECT_EQ(c->config.database_url, "sqlite:///srv/pa/primoart.db");
  EXPECT_EQ(c->sources.at("listen").kind, "flag");
  EXPECT_EQ(c->sources.at("log_level").where, "PRIMOART_LOG_LEVEL");
}

TEST_F(ConfigTest, UnknownFileKeyNamesItsPath) {
  const std::string file = WriteYaml("http:\n  max_bdy: 1MiB\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("http.max_bdy"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find(":2"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("unknown key"), std::string::npos);
}

TEST_F(ConfigTest, BadValuesNameKeyAndSource) {
  auto bad_url = LoadConfig({.env = {{"PRIMOART_DATABASE_URL", "mysql://x/y"}}});
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.status().message().find("PRIMOART_DATABASE_URL"), std::string::npos);
  EXPECT_NE(bad_url.status().message().find("mysql"), std::string::npos);

  auto malformed = LoadConfig({.overrides = {{"database_url", "postgresql://u@h:99999/db"}}});
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("database_url"), std::string::npos);

  auto bad_int = LoadConfig({.file = WriteYaml("http_threads: lots\n")});
  ASSERT_FALSE(bad_int.ok());
  EXPECT_NE(bad_int.status().message().find("http_threads"), std::string::npos);

  EXPECT_FALSE(LoadConfig({.overrides = {{"log_format", "xml"}}}).ok());
  EXPECT_FALSE(LoadConfig({.overrides = {{"listen", "nonsense"}}}).ok());
  EXPECT_FALSE(LoadConfig({.overrides = {{"no_such_key", "1"}}}).ok());
  EXPECT_FALSE(LoadConfig({.overrides = {{"artifacts_url", "ftp://x"}}}).ok());
}

TEST_F(ConfigTest, BrokenYamlNamesTheFile) {
  auto c = LoadConfig({.file = WriteYaml("listen: [unclosed\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(path_.string()), std::string::npos);
  auto missing = LoadConfig({.file = std::string("/nonexistent/primoart.yaml")});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/primoart.yaml"), std::string::npos);
}

TEST_F(ConfigTest, PrintMasksSecrets) {
  auto c = LoadConfig({.env = {{"PRIMOART_DATABASE_URL", "postgresql://pa:hunter2@db:5432/pa"},
                               {"PRIMOART_S3_SECRET_KEY", "s3cr3t"}}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string text = PrintConfig(*c);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
  EXPECT_NE(text.find("postgresql://pa:****@db:5432/pa"), std::string::npos) << text;
  EXPECT_NE(text.find("s3_secret_key: \"****\""), std::string::npos) << text;
}

TEST_F(ConfigTest, UnknownEnvironmentVariablesAreReported) {
  auto unknown = UnknownEnvironmentVariables(
      {{"PRIMOART_LISTEN", "x"}, {"PRIMOART_LISTN", "x"}, {"PRIMOART_TEST_POSTGRES_URL", "x"}});
  EXPECT_EQ(unknown, std::vector<std::string>{"PRIMOART_LISTN"});
}

}  // namespace
}  // namespace pa::core
