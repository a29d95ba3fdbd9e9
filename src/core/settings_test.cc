#include "core/settings.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/core_schema.h"
#include "storage/sqlite/sqlite_store.h"

namespace pa::core {
namespace {

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("primoart-settings-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto db = storage::sqlite::Open({.path = (dir_ / "t.db").string()});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Migrate({CoreSchema()}).ok());
    repo_ = std::make_unique<SettingsRepository>(*db_, clock_);
  }
  void TearDown() override {
    repo_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<storage::RelationalStore> db_;
  std::unique_ptr<SettingsRepository> repo_;
};

TEST_F(SettingsTest, PutGetListDelete) {
  auto created = repo_->Put("synth.stale_after", Json("90s"), std::nullopt, "alice");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->second);
  EXPECT_EQ(created->first.version, 1);
  clock_.Advance(std::chrono::seconds(5));
  auto updated = repo_->Put("synth.stale_after", Json({{"seconds", 120}}), std::nullopt, "bob");
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->second);
  EXPECT_EQ(updated->first.version, 2);

  auto got = repo_->Get("synth.stale_after");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value["seconds"], 120);
  EXPECT_EQ(got->updated_by, "bob");
  EXPECT_EQ(got->updated_at_ms, clock_.NowMs());
  EXPECT_EQ(repo_->List()->size(), 1u);

  EXPECT_TRUE(repo_->Delete("synth.stale_after", std::nullopt).ok());
  EXPECT_EQ(repo_->Get("synth.stale_after").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->Delete("synth.stale_after", std::nullopt).code(), StatusCode::kNotFound);
}

TEST_F(SettingsTest, OptimisticConcurrency) {
  ASSERT_TRUE(repo_->Put("k", Json(1), /*expected_version=*/0, "a").ok());  // must not exist
  EXPECT_EQ(repo_->Put("k", Json(2), 0, "a").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo_->Put("k", Json(2), 7, "a").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(repo_->Put("k", Json(2), 1, "a").ok());
  EXPECT_EQ(repo_->Get("k")->value, Json(2));
  EXPECT_EQ(repo_->Delete("k", 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(repo_->Delete("k", 2).ok());
}

TEST_F(SettingsTest, RefusesBadKeysAndHugeValues) {
  for (const char* key : {"", "Upper", ".dot", "spa ce", "semi;colon"}) {
    EXPECT_EQ(repo_->Put(key, Json(1), std::nullopt, "a").status().code(),
              StatusCode::kInvalidArgument)
        << key;
  }
  EXPECT_EQ(repo_->Put("big", Json(std::string(kMaxSettingBytes + 1, 'x')), std::nullopt, "a")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(repo_->List()->empty());  // nothing half-stored
}

}  // namespace
}  // namespace pa::core
