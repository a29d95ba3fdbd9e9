#include "storage/victoriametrics/endpoints.h"

#include <gtest/gtest.h>

namespace pa::storage::victoriametrics {
namespace {

using namespace std::chrono_literals;

TEST(EndpointsTest, SingleNodeUrl) {
  auto o = OptionsFromUrl("victoriametrics+http://vm.example:8428");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->insert_url, "http://vm.example:8428");
  EXPECT_EQ(o->select_url, "http://vm.example:8428");
  EXPECT_EQ(o->tenant, "");
  o->spool_dir = "/tmp/x";
  auto e = MakeEndpoints(*o);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->cluster);
  EXPECT_EQ(e->write, "http://vm.example:8428/api/v1/write");
  EXPECT_EQ(e->api, "http://vm.example:8428/api/v1");
  EXPECT_EQ(e->health, std::vector<std::string>{"http://vm.example:8428/health"});
  EXPECT_EQ(e->flush, std::vector<std::string>{"http://vm.example:8428/internal/force_flush"});
}

TEST(EndpointsTest, ClusterUrlWithTenantAndFlushNodes) {
  auto o = OptionsFromUrl(
      "victoriametrics+https://vminsert:8480/?select=https://vmselect:8481/&tenant=42:7"
      "&flush=http://vmstorage-1:8482&flush=http://vmstorage-2:8482");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->insert_url, "https://vminsert:8480");
  EXPECT_EQ(o->tenant, "42:7");
  auto e = MakeEndpoints(*o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->cluster);
  EXPECT_EQ(e->write, "https://vminsert:8480/insert/42:7/prometheus/api/v1/write");
  EXPECT_EQ(e->api, "https://vmselect:8481/select/42:7/prometheus/api/v1");
  EXPECT_EQ(e->health, (std::vector<std::string>{"https://vminsert:8480/health",
                                                 "https://vmselect:8481/health"}));
  EXPECT_EQ(e->flush, (std::vector<std::string>{"http://vmstorage-1:8482/internal/force_flush",
                                                "http://vmstorage-2:8482/internal/force_flush"}));
}

TEST(EndpointsTest, ClusterDefaults) {
  // `select` alone means tenant 0; a tenant alone means one URL routes both (vmauth).
  auto a = OptionsFromUrl("victoriametrics+http://ins:8480?select=http://sel:8481");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->tenant, "0");
  auto b = OptionsFromUrl("victoriametrics+http://vmauth:8427/vm?tenant=3");
  ASSERT_TRUE(b.ok());
  auto e = MakeEndpoints(*b);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->write, "http://vmauth:8427/vm/insert/3/prometheus/api/v1/write");
  EXPECT_EQ(e->api, "http://vmauth:8427/vm/select/3/prometheus/api/v1");
  EXPECT_TRUE(e->flush.empty());  // a cluster without flush URLs waits visibility_delay
}

TEST(EndpointsTest, OptionalParameters) {
  auto o = OptionsFromUrl(
      "victoriametrics+http://[::1]:8428?retention=30d&max_future=5m&query_cache=true");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->insert_url, "http://[::1]:8428");
  EXPECT_EQ(o->retention, 30 * 24h);
  EXPECT_EQ(o->max_future, 5min);
  EXPECT_TRUE(o->query_cache);
}

TEST(EndpointsTest, BadUrlsSayWhatIsWrong) {
  struct Case {
    const char* url;
    const char* says;
  } cases[] = {
      {"http://vm:8428", "not a VictoriaMetrics URL"},
      {"victoriametrics+ftp://vm:8428", "not a VictoriaMetrics URL"},
      {"victoriametrics+http://user:pw@vm:8428", "credentials"},
      {"victoriametrics+http://vm:8428?tenant=abc", "tenant 'abc'"},
      {"victoriametrics+http://vm:8428?tenant=1:2:3", "tenant"},
      {"victoriametrics+http://vm:8428?tenant=99999999999", "tenant"},
      {"victoriametrics+http://vm:8428?bogus=1", "unknown parameter 'bogus'"},
      {"victoriametrics+http://vm:8428?select=ftp://x", "select URL"},
      {"victoriametrics+http://vm:8428?retention=forever", "retention"},
      {"victoriametrics+http://vm:8428?query_cache=yes", "query_cache"},
      {"victoriametrics+http://vm:8428?tenant=1&tenant=2", "twice"},
  };
  for (const auto& c : cases) {
    auto o = OptionsFromUrl(c.url);
    ASSERT_FALSE(o.ok()) << c.url;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(o.status().message().find(c.says), std::string::npos)
        << c.url << " → " << o.status().message();
  }
}

}  // namespace
}  // namespace pa::storage::victoriametrics
