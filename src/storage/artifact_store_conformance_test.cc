// The ArtifactStore conformance suite: one typed test suite run against every backend, so both
// keep the same contract (storage/artifact_store.h). Instances are named after the backend —
// `--gtest_filter=Fs*` runs the filesystem ones, `--gtest_filter=S3*` the S3 ones — and each
// backend has a few tests of its own below (FsOnly*, S3Only*).
//
// S3 needs a server: PRIMOART_TEST_S3_URL, _ACCESS_KEY and _SECRET_KEY (scripts/s3-test-server
// starts one). Without them the S3 tests are skipped, or fail when
// PRIMOART_TEST_REQUIRE_SERVERS=1. When the endpoint is plain http, every S3 request goes through
// S3TestProxy, which verifies SigV4 signatures (the test server does not) and injects faults.
// Every test works below a unique key prefix, so runs can share a bucket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "base/random.h"
#include "base/url.h"
#include "storage/artifact_store.h"
#include "storage/fs/fs_store.h"
#include "storage/s3/s3_store.h"
#include "storage/s3/s3_test_proxy.h"

namespace pa::storage {
namespace {

namespace conformance {

bool RequireServers() {
  const char* v = std::getenv("PRIMOART_TEST_REQUIRE_SERVERS");
  return v != nullptr && std::string_view(v) == "1";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Bytes [offset, offset+n) of the deterministic pseudo-random stream `seed`.
void FillPattern(char* out, size_t n, uint64_t offset, uint64_t seed) {
  uint64_t block = UINT64_MAX, v = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t pos = offset + i;
    if (pos / 8 != block) {
      block = pos / 8;
      v = Mix(block ^ (seed << 48));
    }
    out[i] = static_cast<char>(v >> ((pos % 8) * 8));
  }
}

std::string Pattern(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  FillPattern(s.data(), n, 0, seed);
  return s;
}

// A source of `total` pattern bytes, generated as they are asked for.
ReadChunk PatternSource(int64_t total, uint64_t seed) {
  return [total, seed, offset = int64_t{0}](char* buf, size_t max) mutable -> Result<size_t> {
    const size_t n =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(max), total - offset));
    FillPattern(buf, n, static_cast<uint64_t>(offset), seed);
    offset += static_cast<int64_t>(n);
    return n;
  };
}

class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256Stream() { EVP_MD_CTX_free(ctx_); }
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[md[i] >> 4];
      out += kHex[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/primoart-artifacts-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return tmpl;
}

class FsBackend {
 public:
  static constexpr bool kAtomicOverwriteUnderConcurrentReads = true;
  static constexpr std::string_view kBackend = "fs";
  static std::string Secret() { return ""; }

  Status SetUp() {
    root_ = MakeTempDir();
    return Status::Ok();
  }
  Result<std::unique_ptr<ArtifactStore>> Open() { return fs::Open({.root = root_}); }
  void TearDown(ArtifactStore&) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

 private:
  std::string root_;
};

// The S3 server from the environment, behind a verifying proxy when it speaks plain http.
struct S3Env {
  s3::Options options;
  std::unique_ptr<s3::testing::S3TestProxy> proxy;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// kNotFound when the server is not configured; another error when it is, but wrongly.
Status LoadS3(S3Env& env) {
  const std::string url = Env("PRIMOART_TEST_S3_URL");
  if (url.empty()) {
    return NotFoundError(
        "PRIMOART_TEST_S3_URL/_ACCESS_KEY/_SECRET_KEY are not set (scripts/s3-test-server start "
        "DIR prints them)");
  }
  PA_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  PA_ASSIGN_OR_RETURN(env.options, s3::OptionsFromUrl(parsed));
  env.options.access_key = Env("PRIMOART_TEST_S3_ACCESS_KEY");
  env.options.secret_key = Env("PRIMOART_TEST_S3_SECRET_KEY");
  // A prefix of its own for every test: runs and tests never see each other's objects.
  const std::string mine = "conformance/" + NewId(NowMs());
  env.options.prefix = env.options.prefix.empty() ? mine : env.options.prefix + "/" + mine;
  env.options.retry_base_delay = std::chrono::milliseconds(1);
  env.options.retry_max_delay = std::chrono::milliseconds(10);
  // Small pages, so listings take several; but the 9 keys of the prefix test fit one, because
  // s3rver pages wrongly when '-' or '.' sorts a key before a "directory" ("a.x" < "a/a").
  env.options.list_page_size = 50;
  PA_ASSIGN_OR_RETURN(Url endpoint, ParseUrl(env.options.endpoint));
  in_addr ignored;
  const bool local =
      endpoint.host == "localhost" || ::inet_pton(AF_INET, endpoint.host.c_str(), &ignored) == 1;
  if (endpoint.scheme == "http" && local && endpoint.port != 0) {
    env.proxy = std::make_unique<s3::testing::S3TestProxy>(
        endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host, endpoint.port,
        env.options.secret_key);
    env.options.endpoint = "http://127.0.0.1:" + std::to_string(env.proxy->port());
  }
  return Status::Ok();
}

// Deletes what a test left below its prefix (a shared bucket stays tidy).
void DeleteAll(ArtifactStore& store) {
  auto list = store.List("");
  if (!list.ok()) return;
  for (const ObjectInfo& o : *list) (void)store.Delete(o.key);
}

class S3Backend {
 public:
  // s3rver writes an object in place, so a GET racing a PUT can see a part; S3 and MinIO do not.
  static constexpr bool kAtomicOverwriteUnderConcurrentReads = false;
  static constexpr std::string_view kBackend = "s3";
  static std::string Secret() { return Env("PRIMOART_TEST_S3_SECRET_KEY"); }

  Status SetUp() { return LoadS3(env_); }
  Result<std::unique_ptr<ArtifactStore>> Open() { return s3::Open(env_.options); }
  void TearDown(ArtifactStore& store) {
    DeleteAll(store);
    if (env_.proxy) {
      EXPECT_EQ(env_.proxy->bad_signatures(), 0) << env_.proxy->last_signature_error();
    }
  }

 private:
  S3Env env_;
};

// Skips (or fails, with PRIMOART_TEST_REQUIRE_SERVERS=1) when a server is not configured.
#define PA_SETUP_BACKEND(expr)                                            \
  do {                                                                    \
    const Status pa_setup_ = (expr);                                      \
    if (pa_setup_.code() == StatusCode::kNotFound && !RequireServers()) { \
      GTEST_SKIP() << pa_setup_.message();                                \
    }                                                                     \
    ASSERT_TRUE(pa_setup_.ok()) << pa_setup_.ToString();                  \
  } while (false)

}  // namespace conformance

using conformance::FsBackend;
using conformance::Pattern;
using conformance::PatternSource;
using conformance::S3Backend;
using conformance::Sha256Stream;

template <typename Backend>
class ArtifactStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    using conformance::RequireServers;
    PA_SETUP_BACKEND(backend_.SetUp());
    auto store = backend_.Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    if (store_) backend_.TearDown(*store_);
  }

  Backend backend_;
  std::unique_ptr<ArtifactStore> store_;
};

TYPED_TEST_SUITE_P(ArtifactStoreConformance);

TYPED_TEST_P(ArtifactStoreConformance, PutGetRoundTripKeepsEveryByte) {
  ArtifactStore& s = *this->store_;
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  const std::string data = all_bytes + std::string("\0\0mid\0", 6) + Pattern(100000, 1);
  ASSERT_TRUE(s.Put("screenshots/2026/11/28/a.png", data).ok());
  auto got = s.Get("screenshots/2026/11/28/a.png");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  auto info = s.Stat("screenshots/2026/11/28/a.png");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "screenshots/2026/11/28/a.png");
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  EXPECT_GT(info->modified_ms, 1'700'000'000'000);  // a real timestamp, not 0
}

TYPED_TEST_P(ArtifactStoreConformance, EmptyObjectExists) {
  ArtifactStore& s = *this->store_;
  ASSERT_TRUE(s.Put("empty.bin", "").ok());
  ASSERT_TRUE(s.PutStream("empty-stream.bin", 0, PatternSource(0, 2)).ok());
  for (const char* key : {"empty.bin", "empty-stream.bin"}) {
    auto got = s.Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, "");
    auto info = s.Stat(key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->size, 0);
  }
  auto list = s.List("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
}

TYPED_TEST_P(ArtifactStoreConformance, MissingKeyIsNotFound) {
  ArtifactStore& s = *this->store_;
  ASSERT_TRUE(s.Put("dir/present", "x").ok());
  for (const char* key : {"absent", "dir/absent", "dir", "dir/present/below"}) {
    EXPECT_EQ(s.Get(key).status().code(), StatusCode::kNotFound) << key;
    EXPECT_EQ(s.Stat(key).status().code(), StatusCode::kNotFound) << key;
    bool called = false;
    const Status st = s.GetStream(key, [&](std::string_view) {
      called = true;
      return Status::Ok();
    });
    EXPECT_EQ(st.code(), StatusCode::kNotFound) << key;
    EXPECT_FALSE(called) << key;
  }
}

TYPED_TEST_P(ArtifactStoreConformance, OverwriteReplacesTheWholeObject) {
  ArtifactStore& s = *this->store_;
  const std::string big = Pattern(300000, 3), small = "short";
  ASSERT_TRUE(s.Put("o/k", big).ok());
  ASSERT_TRUE(s.Put("o/k", small).ok());
  EXPECT_EQ(s.Get("o/k").value_or("<error>"), small);
  EXPECT_EQ(s.Stat("o/k").value_or(ObjectInfo{}).size, 5);
  ASSERT_TRUE(s.PutStream("o/k", 200000, PatternSource(200000, 4)).ok());
  EXPECT_TRUE(s.Get("o/k").value_or("") == Pattern(200000, 4));
  if (!TypeParam::kAtomicOverwriteUnderConcurrentReads) return;

  // Readers racing with overwrites see one whole version or the other, never a mix or a part.
  const std::string a = Pattern(150000, 5), b = Pattern(70000, 6);
  ASSERT_TRUE(s.Put("race", a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!stop || reads < 10) {
      auto got = s.Get("race");
      ++reads;
      if (!got.ok() || (*got != a && *got != b)) ++torn;
    }
  });
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(s.Put("race", i % 2 ? a : b).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
}

TYPED_TEST_P(ArtifactStoreConformance, BadKeysAreRefused) {
  ArtifactStore& s = *this->store_;
  const std::string too_long(513, 'a');
  for (const std::string& key :
       {std::string(""), std::string("/abs"), std::string(".."), std::string("a/../b"),
        std::string("../escape"), std::string("a//b"), std::string("a/./b"), std::string("dir/"),
        std::string("sp ace"), std::string("back\\slash"), std::string("q?x"),
        std::string("pct%2F"), std::string("nul\0x", 5), std::string("caf\xc3\xa9"), too_long}) {
    EXPECT_EQ(s.Put(key, "x").code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.PutStream(key, 1, PatternSource(1, 1)).code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.Get(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.GetStream(key, [](std::string_view) { return Status::Ok(); }).code(),
              StatusCode::kInvalidArgument)
        << key;
    EXPECT_EQ(s.Stat(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  auto list = s.List("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  // 512 bytes is allowed (in segments a filesystem can name: at most 255 bytes each).
  const std::string longest =
      std::string(200, 'k') + "/" + std::string(200, 'l') + "/" + std::string(110, 'm');
  ASSERT_EQ(longest.size(), 512u);
  EXPECT_TRUE(s.Put(longest, "x").ok());
  EXPECT_EQ(s.Get(longest).value_or(""), "x");
}

TYPED_TEST_P(ArtifactStoreConformance, DeleteIsIdempotent) {
  ArtifactStore& s = *this->store_;
  EXPECT_TRUE(s.Delete("never/was").ok());
  ASSERT_TRUE(s.Put("d/x/y", "1").ok());
  ASSERT_TRUE(s.Put("d/x/z", "2").ok());
  EXPECT_TRUE(s.Delete("d/x/y").ok());
  EXPECT_EQ(s.Get("d/x/y").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s.Delete("d/x/y").ok());
  EXPECT_EQ(s.Get("d/x/z").value_or(""), "2") << "a sibling survives";
  EXPECT_TRUE(s.Delete("d/x/z").ok());
  EXPECT_TRUE(s.Delete("d/x").ok()) << "a former directory is no object either";
  auto list = s.List("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  ASSERT_TRUE(s.Put("d/x/y", "again").ok()) << "emptied directories can be used again";
  EXPECT_EQ(s.Get("d/x/y").value_or(""), "again");
}

TYPED_TEST_P(ArtifactStoreConformance, ListByPrefixIsSortedWithSizesAndTimes) {
  ArtifactStore& s = *this->store_;
  const std::vector<std::string> keys = {"a/b/c", "a/bc", "a/b-c", "a.x",      "ab/z",
                                         "b/1",   "a/a",  "A/up",  "a/b/d.e/f"};
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(s.Put(keys[i], std::string(i + 1, 'x')).ok()) << keys[i];
  }
  auto keys_of = [](const std::vector<ObjectInfo>& v) {
    std::vector<std::string> out;
    for (const auto& o : v) out.push_back(o.key);
    return out;
  };
  auto all = s.List("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(keys_of(*all), (std::vector<std::string>{"A/up", "a.x", "a/a", "a/b-c", "a/b/c",
                                                     "a/b/d.e/f", "a/bc", "ab/z", "b/1"}))
      << "byte order, every object, no directories";
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const ObjectInfo& o : *all) {
    const auto i = std::find(keys.begin(), keys.end(), o.key) - keys.begin();
    EXPECT_EQ(o.size, i + 1) << o.key;
    EXPECT_GT(o.modified_ms, now - 3'600'000) << o.key;
    EXPECT_LT(o.modified_ms, now + 3'600'000) << o.key;
  }
  auto under_b = s.List("a/b");
  ASSERT_TRUE(under_b.ok());
  EXPECT_EQ(keys_of(*under_b), (std::vector<std::string>{"a/b-c", "a/b/c", "a/b/d.e/f", "a/bc"}));
  auto dir_b = s.List("a/b/");
  ASSERT_TRUE(dir_b.ok());
  EXPECT_EQ(keys_of(*dir_b), (std::vector<std::string>{"a/b/c", "a/b/d.e/f"}));
  auto a = s.List("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 7u);
  auto none = s.List("zzz/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TYPED_TEST_P(ArtifactStoreConformance, ListIsCompleteBeyondOnePage) {
  // The S3 backend lists 50 keys per page in this suite, so 123 keys take 3 pages.
  ArtifactStore& s = *this->store_;
  constexpr int kKeys = 123, kThreads = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kKeys; i += kThreads) {
        char key[32];
        std::snprintf(key, sizeof(key), "many/k%04d", i);
        if (!s.Put(key, std::to_string(i)).ok()) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failed, 0);
  ASSERT_TRUE(s.Put("other/x", "not listed").ok());
  auto list = s.List("many/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "many/k%04d", i);
    EXPECT_EQ((*list)[i].key, key);
    EXPECT_EQ((*list)[i].size, static_cast<int64_t>(std::to_string(i).size()));
  }
}

TYPED_TEST_P(ArtifactStoreConformance, ListRefusesPrefixesOutsideTheStore) {
  ArtifactStore& s = *this->store_;
  for (const char* prefix : {"../", "/etc", "a/../../", "a//", "sp ace"}) {
    EXPECT_EQ(s.List(prefix).status().code(), StatusCode::kInvalidArgument) << prefix;
  }
}

TYPED_TEST_P(ArtifactStoreConformance, StreamsLargeObjectWithoutHoldingIt) {
  // 64 MiB made on the fly and checked by hash: neither side holds the object.
  ArtifactStore& s = *this->store_;
  constexpr int64_t kSize = int64_t{64} << 20;
  std::string expected;
  {
    Sha256Stream h;
    auto src = PatternSource(kSize, 9);
    std::vector<char> buf(1 << 20);
    while (true) {
      auto n = src(buf.data(), buf.size());
      if (*n == 0) break;
      h.Update(std::string_view(buf.data(), *n));
    }
    expected = h.Hex();
  }
  const Status put = s.PutStream("big/object.bin", kSize, PatternSource(kSize, 9));
  ASSERT_TRUE(put.ok()) << put.ToString();
  auto info = s.Stat("big/object.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, kSize);
  Sha256Stream got;
  int64_t bytes = 0;
  size_t largest_chunk = 0;
  const Status get = s.GetStream("big/object.bin", [&](std::string_view chunk) {
    got.Update(chunk);
    bytes += static_cast<int64_t>(chunk.size());
    largest_chunk = std::max(largest_chunk, chunk.size());
    return Status::Ok();
  });
  ASSERT_TRUE(get.ok()) << get.ToString();
  EXPECT_EQ(bytes, kSize);
  EXPECT_EQ(got.Hex(), expected);
  EXPECT_LE(largest_chunk, size_t{16} << 20) << "the object came in pieces";
}

TYPED_TEST_P(ArtifactStoreConformance, PutStreamWithWrongSizeStoresNothing) {
  ArtifactStore& s = *this->store_;
  // Short source, new key.
  Status st = s.PutStream("short", 1000, PatternSource(500, 1));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(s.Stat("short").status().code(), StatusCode::kNotFound);
  // Long source.
  st = s.PutStream("long", 1000, PatternSource(1001, 1));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(s.Stat("long").status().code(), StatusCode::kNotFound);
  // A failing source: its error, and the old object is untouched.
  ASSERT_TRUE(s.Put("kept", "old").ok());
  int calls = 0;
  st = s.PutStream("kept", 100, [&](char* buf, size_t max) -> Result<size_t> {
    if (++calls > 1) return DataLossError("camera went away");
    buf[0] = 'n';
    return std::min<size_t>(max, 1);
  });
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_EQ(s.Get("kept").value_or(""), "old");
  // Short by a lot, after many bytes (S3: a multipart upload that is never completed).
  constexpr int64_t kBig = int64_t{20} << 20;
  st = s.PutStream("kept", kBig, PatternSource(kBig - (int64_t{8} << 20) - 5, 2));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(s.Get("kept").value_or(""), "old");
  st = s.PutStream("big-long", kBig, PatternSource(kBig + 1, 2));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(s.Stat("big-long").status().code(), StatusCode::kNotFound);
  auto list = s.List("");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

TYPED_TEST_P(ArtifactStoreConformance, GetStreamEndsWithTheSinkError) {
  ArtifactStore& s = *this->store_;
  ASSERT_TRUE(s.Put("g", Pattern(2 << 20, 8)).ok());
  const Status st =
      s.GetStream("g", [](std::string_view) { return ResourceExhaustedError("disk full"); });
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_TRUE(s.Get("g").value_or("") == Pattern(2 << 20, 8)) << "the store is still usable";
}

TYPED_TEST_P(ArtifactStoreConformance, ConcurrentPutsAndGets) {
  ArtifactStore& s = *this->store_;
  constexpr int kThreads = 8, kKeysEach = 6;
  // Keeps "conc/" from ever being empty: s3rver dies when a DELETE prunes a directory that a
  // concurrent PUT is writing into (the filesystem backend copes: see FsOnlyTest).
  ASSERT_TRUE(s.Put("conc/sentinel", "").ok());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeysEach; ++i) {
        const std::string key = "conc/t" + std::to_string(t) + "/k" + std::to_string(i);
        const std::string data = Pattern(1000 + 37 * static_cast<size_t>(i), t * 100 + i);
        if (!s.Put(key, data).ok()) ++bad;
        if (s.Get(key).value_or("") != data) ++bad;
        if (i % 2 == 0 && !s.Delete(key).ok()) ++bad;
        if (!s.Put("conc/shared", data).ok()) ++bad;  // everyone overwrites this one
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, 0);
  auto list = s.List("conc/t");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), static_cast<size_t>(kThreads * kKeysEach / 2));
  EXPECT_TRUE(s.Get("conc/shared").ok());
}

TYPED_TEST_P(ArtifactStoreConformance, PingAndDescription) {
  ArtifactStore& s = *this->store_;
  EXPECT_TRUE(s.Ping().ok()) << s.Ping().ToString();
  EXPECT_FALSE(s.description().empty());
  if (!TypeParam::Secret().empty()) {
    EXPECT_EQ(s.description().find(TypeParam::Secret()), std::string::npos)
        << "no secret in " << s.description();
  }
  EXPECT_EQ(s.backend(), TypeParam::kBackend);
}

REGISTER_TYPED_TEST_SUITE_P(ArtifactStoreConformance, PutGetRoundTripKeepsEveryByte,
                            EmptyObjectExists, MissingKeyIsNotFound,
                            OverwriteReplacesTheWholeObject, BadKeysAreRefused, DeleteIsIdempotent,
                            ListByPrefixIsSortedWithSizesAndTimes, ListIsCompleteBeyondOnePage,
                            ListRefusesPrefixesOutsideTheStore, StreamsLargeObjectWithoutHoldingIt,
                            PutStreamWithWrongSizeStoresNothing, GetStreamEndsWithTheSinkError,
                            ConcurrentPutsAndGets, PingAndDescription);

INSTANTIATE_TYPED_TEST_SUITE_P(Fs, ArtifactStoreConformance, ::testing::Types<FsBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(S3, ArtifactStoreConformance, ::testing::Types<S3Backend>);

// ---- Filesystem only --------------------------------------------------------------------------

class FsOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = conformance::MakeTempDir(); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::unique_ptr<ArtifactStore> OpenStore() {
    auto store = fs::Open({.root = root_});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  static void WriteFile(const std::string& path, std::string_view data) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
  std::string root_;
};

TEST_F(FsOnlyTest, LeftoverTempFilesAreInvisibleAndStaleOnesRemovedOnOpen) {
  const std::string stale = root_ + "/a/b/.tmp-0123456789abcdef";
  const std::string fresh = root_ + "/.tmp-fedcba9876543210";
  WriteFile(stale, "half an obj");
  WriteFile(fresh, "being written by another process");
  const timeval two_hours_ago[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
  ASSERT_EQ(::utimes(stale.c_str(), two_hours_ago), 0);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(std::filesystem::exists(stale)) << "a crash leftover is removed on Open";
  EXPECT_TRUE(std::filesystem::exists(fresh)) << "a young temp file may be another writer's";
  auto list = store->List("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "temporary files are never objects";
  ASSERT_TRUE(store->Put("a/b/x", "1").ok());
  list = store->List("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "a/b/x");
}

TEST_F(FsOnlyTest, PutLeavesOneFileAndNoTemporaries) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("x/y/z.png", "png").ok());
  ASSERT_TRUE(store->Put("x/y/z.png", "png2").ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/x/y")) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"z.png"});
  EXPECT_EQ(std::filesystem::file_size(root_ + "/x/y/z.png"), 4u);
}

TEST_F(FsOnlyTest, DeletePrunesEmptyDirectoriesButKeepsTheRoot) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("p/q/r/s", "1").ok());
  ASSERT_TRUE(store->Put("p/keep", "2").ok());
  ASSERT_TRUE(store->Delete("p/q/r/s").ok());
  EXPECT_FALSE(std::filesystem::exists(root_ + "/p/q"));
  EXPECT_TRUE(std::filesystem::exists(root_ + "/p/keep"));
  ASSERT_TRUE(store->Delete("p/keep").ok());
  EXPECT_FALSE(std::filesystem::exists(root_ + "/p"));
  EXPECT_TRUE(std::filesystem::is_directory(root_));
}

TEST_F(FsOnlyTest, TempPrefixKeysAndObjectDirectoryClashesAreRefused) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Put("a/.tmp-x", "1").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put(".tmp-x/y", "1").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Put("obj", "1").ok());
  EXPECT_EQ(store->Put("obj/below", "2").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Put("dir/below", "3").ok());
  EXPECT_EQ(store->Put("dir", "4").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Get("dir/below").value_or(""), "3");
}

TEST_F(FsOnlyTest, OpenAndPingReportUnusableRoots) {
  EXPECT_EQ(fs::Open({.root = ""}).status().code(), StatusCode::kInvalidArgument);
  WriteFile(root_ + "/file", "x");
  EXPECT_FALSE(fs::Open({.root = root_ + "/file"}).ok());
  auto store = fs::Open({.root = root_ + "/sub/dir"});
  ASSERT_TRUE(store.ok()) << "a missing root is created";
  EXPECT_TRUE((*store)->Ping().ok());
  EXPECT_EQ((*store)->description(), "file://" + root_ + "/sub/dir");
  std::filesystem::remove_all(root_ + "/sub");
  EXPECT_EQ((*store)->Ping().code(), StatusCode::kUnavailable);
}

TEST_F(FsOnlyTest, PutsRaceWithDeletesPruningTheirDirectory) {
  // Each Delete empties "d/e" and prunes it while other threads create files in it.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 6, kRounds = 60;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "d/e/k" + std::to_string(t);
      for (int i = 0; i < kRounds; ++i) {
        const Status put = store->Put(key, std::to_string(i));
        auto got = store->Get(key);
        const Status del = store->Delete(key);
        if (!put.ok() || !got.ok() || *got != std::to_string(i) || !del.ok()) {
          if (++bad == 1) {
            ADD_FAILURE() << put.ToString() << " / " << got.status().ToString() << " / "
                          << del.ToString();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, 0);
  auto list = store->List("");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

// ---- S3 only ----------------------------------------------------------------------------------

class S3OnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using conformance::RequireServers;
    PA_SETUP_BACKEND(conformance::LoadS3(env_));
    if (!env_.proxy) GTEST_SKIP() << "these tests need a plain-http endpoint for their proxy";
  }
  void TearDown() override {
    if (!env_.proxy) return;
    auto store = s3::Open(env_.options);
    if (store.ok()) conformance::DeleteAll(**store);
  }
  std::unique_ptr<ArtifactStore> OpenStore(const s3::Options& o) {
    auto store = s3::Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  conformance::S3Env env_;
};

TEST_F(S3OnlyTest, RetriesServerErrorsUntilTheySucceed) {
  s3::Options o = env_.options;
  o.max_retries = 4;
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  env_.proxy->FailNext(3, 503);
  const Status put = store->Put("retry/obj", "survived");
  EXPECT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(env_.proxy->injected_failures(), 3);
  env_.proxy->FailNext(2, 500);
  EXPECT_EQ(store->Get("retry/obj").value_or(""), "survived");
  env_.proxy->FailNext(4, 503);
  auto list = store->List("retry/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(env_.proxy->injected_failures(), 9);
}

TEST_F(S3OnlyTest, GivesUpAfterMaxRetriesAsUnavailable) {
  s3::Options o = env_.options;
  o.max_retries = 2;
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  env_.proxy->FailNext(1000, 503);
  const Status put = store->Put("retry/never", "x");
  EXPECT_EQ(put.code(), StatusCode::kUnavailable) << put.ToString();
  EXPECT_NE(put.message().find("SlowDown"), std::string::npos) << put.message();
  EXPECT_EQ(env_.proxy->injected_failures(), 3) << "one attempt and two retries";
  env_.proxy->FailNext(0);
  EXPECT_EQ(store->Stat("retry/never").status().code(), StatusCode::kNotFound);
}

TEST_F(S3OnlyTest, WrongAccessKeyIsPermissionDenied) {
  s3::Options o = env_.options;
  o.access_key = "NOT-A-KNOWN-KEY";
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  const Status put = store->Put("denied", "x");
  EXPECT_EQ(put.code(), StatusCode::kPermissionDenied) << put.ToString();
  EXPECT_NE(put.message().find("InvalidAccessKeyId"), std::string::npos) << put.message();
  EXPECT_EQ(put.message().find(o.secret_key), std::string::npos) << "no secret in messages";
  EXPECT_EQ(store->Ping().code(), StatusCode::kPermissionDenied);
}

TEST_F(S3OnlyTest, WrongSecretIsPermissionDenied) {
  // The proxy checks signatures as S3 does; s3rver alone would accept any secret.
  s3::Options o = env_.options;
  o.secret_key = "not-the-secret";
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  const Status put = store->Put("denied", "x");
  EXPECT_EQ(put.code(), StatusCode::kPermissionDenied) << put.ToString();
  EXPECT_NE(put.message().find("SignatureDoesNotMatch"), std::string::npos) << put.message();
  EXPECT_EQ(put.message().find("not-the-secret"), std::string::npos) << "no secret in messages";
  EXPECT_EQ(store->Get("denied").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store->Ping().code(), StatusCode::kPermissionDenied);
}

TEST_F(S3OnlyTest, UnreachableEndpointIsUnavailable) {
  // A bound socket that does not listen: connections are refused and nobody can take the port.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  s3::Options o = env_.options;
  o.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.max_retries = 2;
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  const Status put = store->Put("k", "x");
  EXPECT_EQ(put.code(), StatusCode::kUnavailable) << put.ToString();
  EXPECT_NE(put.message().find("3 attempts"), std::string::npos) << put.message();
  EXPECT_EQ(store->Ping().code(), StatusCode::kUnavailable);
  ::close(fd);
}

TEST_F(S3OnlyTest, MissingBucketIsFailedPrecondition) {
  s3::Options o = env_.options;
  o.bucket = "primoart-no-such-bucket";
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  const Status ping = store->Ping();
  EXPECT_EQ(ping.code(), StatusCode::kFailedPrecondition) << ping.ToString();
  EXPECT_NE(ping.message().find("primoart-no-such-bucket"), std::string::npos);
}

TEST_F(S3OnlyTest, VirtualHostedStyleWorks) {
  // <bucket>.s3.localhost reaches the loopback (libcurl resolves *.localhost itself), and the
  // test server takes the bucket from the host name (scripts/s3-test-server sets that up).
  s3::Options o = env_.options;
  o.path_style = false;
  o.endpoint = "http://s3.localhost:" + std::to_string(env_.proxy->port());
  auto store = OpenStore(o);
  ASSERT_NE(store, nullptr);
  const Status put = store->Put("vhost/a", "virtual");
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(store->Get("vhost/a").value_or(""), "virtual");
  auto list = store->List("vhost/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 1u);
  // The same object through a path-style store: both address the same bucket and key.
  auto path_style = OpenStore(env_.options);
  ASSERT_NE(path_style, nullptr);
  EXPECT_EQ(path_style->Get("vhost/a").value_or(""), "virtual");
  EXPECT_EQ(env_.proxy->bad_signatures(), 0) << env_.proxy->last_signature_error();
}

TEST_F(S3OnlyTest, UrlPrefixesKeepStoresApart) {
  s3::Options one = env_.options, two = env_.options;
  one.prefix += "/one";
  two.prefix += "/two";
  auto a = OpenStore(one), b = OpenStore(two), parent = OpenStore(env_.options);
  ASSERT_TRUE(a && b && parent);
  ASSERT_TRUE(a->Put("same/key", "from one").ok());
  ASSERT_TRUE(b->Put("same/key", "from two").ok());
  EXPECT_EQ(a->Get("same/key").value_or(""), "from one");
  EXPECT_EQ(b->Get("same/key").value_or(""), "from two");
  auto listed = a->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "same/key");
  auto all = parent->List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(env_.proxy->bad_signatures(), 0) << env_.proxy->last_signature_error();
}

}  // namespace
}  // namespace pa::storage
