#include "core/module_manager.h"

#include <gtest/gtest.h>

#include "core/services.h"

namespace pa::core {
namespace {

// Records every lifecycle call so the order can be checked.
struct Journal {
  std::vector<std::string> events;
};

class RecordingModule : public Module {
 public:
  RecordingModule(std::string name, Journal& j, bool fail_start = false)
      : name_(std::move(name)), j_(j), fail_start_(fail_start) {}
  Status Start() override {
    j_.events.push_back("start " + name_);
    return fail_start_ ? UnavailableError("port taken") : Status::Ok();
  }
  void BeginShutdown() override { j_.events.push_back("drain " + name_); }
  void Stop() override { j_.events.push_back("stop " + name_); }

 private:
  std::string name_;
  Journal& j_;
  bool fail_start_;
};

std::vector<ModuleDef> Table(Journal& j, const std::string& failing_init = "",
                             const std::string& failing_start = "") {
  auto make = [&j, failing_init, failing_start](std::string name) {
    return [&j, name, failing_init, failing_start](Services&) -> Result<std::unique_ptr<Module>> {
      if (name == failing_init) return UnavailableError("connection refused");
      j.events.push_back("init " + name);
      return std::unique_ptr<Module>(new RecordingModule(name, j, name == failing_start));
    };
  };
  return {
      {"gateway", {}, ModuleKind::kRole, "http", make("gateway")},
      {"db", {}, ModuleKind::kInternal, "store", make("db")},
      {"core", {"gateway", "db"}, ModuleKind::kRole, "core", make("core")},
      {"synth", {"core"}, ModuleKind::kRole, "synth", make("synth")},
      {"all", {"core", "synth"}, ModuleKind::kTarget, "all", nullptr},
  };
}

TEST(ModuleManagerTest, ResolvesDependenciesFirst) {
  Journal j;
  ModuleManager m(Table(j));
  auto order = m.Resolve({"core"});
  ASSERT_TRUE(order.ok());
  std::vector<std::string> names;
  for (const auto* d : *order) names.push_back(d->name);
  EXPECT_EQ(names, (std::vector<std::string>{"gateway", "db", "core"}));
  auto all = m.Resolve({"all"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);  // the target itself is not a module
}

TEST(ModuleManagerTest, UnknownAndInternalNamesAreRefused) {
  Journal j;
  ModuleManager m(Table(j));
  auto r = m.Resolve({"cor"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown role 'cor'"), std::string::npos);
  EXPECT_NE(r.status().message().find("synth"), std::string::npos);  // lists the known ones
  EXPECT_FALSE(m.Resolve({"db"}).ok());
}

TEST(ModuleManagerTest, LifecycleOrder) {
  Journal j;
  {
    ModuleManager m(Table(j));
    Services s;
    ASSERT_TRUE(m.Init({"core"}, s).ok());
    ASSERT_TRUE(m.Start().ok());
    EXPECT_TRUE(m.started());
    EXPECT_EQ(m.RunningRoles(), (std::vector<std::string>{"gateway", "core"}));
    m.Shutdown();
    EXPECT_FALSE(m.started());
  }
  EXPECT_EQ(j.events,
            (std::vector<std::string>{"init gateway", "init db", "init core", "start gateway",
                                      "start db", "start core", "drain gateway", "drain db",
                                      "drain core", "stop core", "stop db", "stop gateway"}));
}

TEST(ModuleManagerTest, FailedInitStopsWhatWasBuiltAndNamesTheModule) {
  Journal j;
  ModuleManager m(Table(j, /*failing_init=*/"core"));
  Services s;
  Status st = m.Init({"synth"}, s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "core: connection refused");
  EXPECT_EQ(j.events, (std::vector<std::string>{"init gateway", "init db", "drain gateway",
                                                "drain db", "stop db", "stop gateway"}));
}

TEST(ModuleManagerTest, FailedStartShutsDown) {
  Journal j;
  ModuleManager m(Table(j, "", /*failing_start=*/"gateway"));
  Services s;
  ASSERT_TRUE(m.Init({"core"}, s).ok());
  Status st = m.Start();
  EXPECT_EQ(st.message(), "gateway: port taken");
  EXPECT_FALSE(m.started());
  EXPECT_EQ(j.events.back(), "stop gateway");
}

TEST(ModuleManagerTest, DescribeTableListsRolesAndDependencies) {
  Journal j;
  const std::string text = ModuleManager(Table(j)).DescribeTable();
  EXPECT_NE(text.find("core"), std::string::npos);
  EXPECT_NE(text.find("gateway,db"), std::string::npos) << text;
  EXPECT_NE(text.find("Internal modules"), std::string::npos);
}

}  // namespace
}  // namespace pa::core
