#include "storage/s3/s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_xml.h"

namespace pa::storage::s3 {
namespace {

// S3 allows at most this many parts per multipart upload.
constexpr int64_t kMaxParts = 10000;

// A List prefix: key characters, no leading '/', and no empty, "." or ".." segment before the
// last '/' (the same rule as the filesystem backend, so both refuse the same prefixes).
Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  const size_t slash = prefix.rfind('/');
  if (slash == std::string_view::npos) return ValidateArtifactKey(prefix);
  PA_RETURN_IF_ERROR(ValidateArtifactKey(prefix.substr(0, slash)).WithContext("list prefix"));
  if (slash + 1 < prefix.size()) {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(prefix.substr(slash + 1)).WithContext("list prefix"));
  }
  return Status::Ok();
}

// Reads exactly `n` bytes from `read` into a new buffer. With `must_end`, the source must also
// be exhausted afterwards. kInvalidArgument for a short or long source.
Result<std::string> ReadExactly(const ReadChunk& read, int64_t n, bool must_end, int64_t offset,
                                int64_t total) {
  std::string buf(static_cast<size_t>(n), '\0');
  size_t got = 0;
  while (got < buf.size()) {
    PA_ASSIGN_OR_RETURN(size_t r, read(buf.data() + got, buf.size() - got));
    if (r == 0) {
      return InvalidArgumentError("the source ended after " +
                                  std::to_string(offset + static_cast<int64_t>(got)) + " of " +
                                  std::to_string(total) + " bytes; nothing was stored");
    }
    if (r > buf.size() - got) return InternalError("the source overfilled its buffer");
    got += r;
  }
  if (must_end) {
    char extra;
    PA_ASSIGN_OR_RETURN(size_t more, read(&extra, 1));
    if (more != 0) {
      return InvalidArgumentError("the source has more than the announced " +
                                  std::to_string(total) + " bytes; nothing was stored");
    }
  }
  return buf;
}

class S3Store final : public ArtifactStore {
 public:
  explicit S3Store(Options options) : client_(std::move(options)) {}

  std::string_view backend() const override { return "s3"; }

  std::string description() const override {
    const Options& o = client_.options();
    return "s3://" + o.bucket + (o.prefix.empty() ? "" : "/" + o.prefix) +
           "?endpoint=" + o.endpoint + "&region=" + o.region +
           "&path_style=" + (o.path_style ? "true" : "false");
  }

  Status Put(std::string_view key, std::string_view data) override {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
    if (static_cast<int64_t>(data.size()) > client_.options().part_size) {
      size_t offset = 0;
      return PutStream(key, static_cast<int64_t>(data.size()),
                       [&](char* buf, size_t max) -> Result<size_t> {
                         const size_t n = std::min(max, data.size() - offset);
                         std::copy_n(data.data() + offset, n, buf);
                         offset += n;
                         return n;
                       });
    }
    return PutObject(key, std::string(data));
  }

  Status PutStream(std::string_view key, int64_t size, const ReadChunk& read) override {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
    if (size < 0) return InvalidArgumentError("artifact size must not be negative");
    if (size <= client_.options().part_size) {
      Result<std::string> body = ReadExactly(read, size, /*must_end=*/true, 0, size);
      if (!body.ok()) return body.status().WithContext("artifact '" + std::string(key) + "'");
      return PutObject(key, std::move(body).value());
    }
    return MultipartUpload(key, size, read);
  }

  Result<std::string> Get(std::string_view key) override {
    std::string out;
    PA_RETURN_IF_ERROR(GetStream(key, [&](std::string_view chunk) {
      out.append(chunk);
      return Status::Ok();
    }));
    return out;
  }

  Status GetStream(std::string_view key, const WriteChunk& write) override {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
    PA_ASSIGN_OR_RETURN(
        HttpResponse resp,
        client_.Send({.method = "GET", .object = Object(key), .sink = write, .large = true}));
    return client_.ErrorFor(resp, "GET " + std::string(key));
  }

  Result<ObjectInfo> Stat(std::string_view key) override {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
    PA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Send({.method = "HEAD", .object = Object(key)}));
    PA_RETURN_IF_ERROR(client_.ErrorFor(resp, "HEAD " + std::string(key)));
    ObjectInfo info{.key = std::string(key)};
    const std::string length = resp.Header("content-length").value_or("");
    auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), info.size);
    if (ec != std::errc() || ptr != length.data() + length.size()) {
      return InternalError("s3 HEAD " + std::string(key) + ": no valid Content-Length");
    }
    if (auto modified = resp.Header("last-modified")) {
      const time_t t = curl_getdate(modified->c_str(), nullptr);
      if (t >= 0) info.modified_ms = static_cast<int64_t>(t) * 1000;
    }
    return info;
  }

  Status Delete(std::string_view key) override {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(key));
    PA_ASSIGN_OR_RETURN(HttpResponse resp,
                        client_.Send({.method = "DELETE", .object = Object(key)}));
    if (resp.status == 404 && ParseError(resp.body).code != "NoSuchBucket") return Status::Ok();
    return client_.ErrorFor(resp, "DELETE " + std::string(key));
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    PA_RETURN_IF_ERROR(ValidatePrefix(prefix));
    const std::string& store_prefix = client_.options().prefix;
    const std::string full =
        store_prefix.empty() ? std::string(prefix) : store_prefix + "/" + std::string(prefix);
    std::vector<ObjectInfo> out;
    std::string token;
    do {
      PA_ASSIGN_OR_RETURN(ListPage page, ListPageAt(full, token, client_.options().list_page_size));
      for (ObjectInfo& info : page.objects) {
        if (!store_prefix.empty()) info.key.erase(0, store_prefix.size() + 1);
        out.push_back(std::move(info));
      }
      if (page.truncated && page.next_token == token) {
        return InternalError("s3 list: the server repeated its continuation token");
      }
      token = page.truncated ? page.next_token : "";
    } while (!token.empty());
    // S3 lists in UTF-8 binary order already; sorting keeps the promise for servers that do not.
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Ping() override {
    // Listing at most one key proves the endpoint answers, the bucket exists and the credentials
    // are accepted, for the price of one small request.
    const std::string& p = client_.options().prefix;
    return ListPageAt(p.empty() ? "" : p + "/", "", 1).status();
  }

 private:
  std::string Object(std::string_view key) const {
    const std::string& p = client_.options().prefix;
    return p.empty() ? std::string(key) : p + "/" + std::string(key);
  }

  Result<ListPage> ListPageAt(const std::string& prefix, const std::string& token, int max_keys) {
    S3Call call{.method = "GET",
                .query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}}};
    if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    PA_ASSIGN_OR_RETURN(HttpResponse resp, client_.Send(std::move(call)));
    PA_RETURN_IF_ERROR(client_.ErrorFor(resp, "LIST " + prefix));
    return ParseListPage(resp.body);
  }

  Status PutObject(std::string_view key, std::string body) {
    PA_ASSIGN_OR_RETURN(
        HttpResponse resp,
        client_.Send(
            {.method = "PUT", .object = Object(key), .body = std::move(body), .large = true}));
    return client_.ErrorFor(resp, "PUT " + std::string(key));
  }

  // Initiate, upload parts one at a time (each held in memory, so each can be retried), complete;
  // on failure the upload is aborted so that nothing is stored.
  Status MultipartUpload(std::string_view key, int64_t size, const ReadChunk& read) {
    const std::string object = Object(key);
    const std::string what = "multipart upload of " + std::string(key);
    PA_ASSIGN_OR_RETURN(
        HttpResponse init,
        client_.Send({.method = "POST", .object = object, .query = {{"uploads", ""}}}));
    PA_RETURN_IF_ERROR(client_.ErrorFor(init, what));
    PA_ASSIGN_OR_RETURN(std::string upload_id, ParseUploadId(init.body));
    Status s = UploadParts(key, object, upload_id, size, read);
    if (!s.ok()) {
      // Best effort: if the abort is lost too, the parts stay invisible (never completed) until
      // the bucket's lifecycle rule for incomplete uploads removes them.
      (void)client_.Send(
          {.method = "DELETE", .object = object, .query = {{"uploadId", upload_id}}});
    }
    return s;
  }

  Status UploadParts(std::string_view key, const std::string& object, const std::string& upload_id,
                     int64_t size, const ReadChunk& read) {
    const int64_t part_size =
        std::max(client_.options().part_size, (size + kMaxParts - 1) / kMaxParts);
    const std::string what = "multipart upload of " + std::string(key);
    std::vector<CompletedPart> parts;
    for (int64_t done = 0; done < size;) {
      const int64_t n = std::min(part_size, size - done);
      Result<std::string> body = ReadExactly(read, n, done + n == size, done, size);
      if (!body.ok()) return body.status().WithContext("artifact '" + std::string(key) + "'");
      const int number = static_cast<int>(parts.size()) + 1;
      PA_ASSIGN_OR_RETURN(
          HttpResponse resp,
          client_.Send({.method = "PUT",
                        .object = object,
                        .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                        .body = std::move(body).value(),
                        .large = true}));
      PA_RETURN_IF_ERROR(client_.ErrorFor(resp, what));
      std::optional<std::string> etag = resp.Header("etag");
      if (!etag || etag->empty()) return InternalError("s3 " + what + ": a part has no ETag");
      parts.push_back({.number = number, .etag = *etag});
      done += n;
    }
    PA_ASSIGN_OR_RETURN(HttpResponse done, client_.Send({.method = "POST",
                                                         .object = object,
                                                         .query = {{"uploadId", upload_id}},
                                                         .body = CompleteMultipartXml(parts)}));
    PA_RETURN_IF_ERROR(client_.ErrorFor(done, what));
    // S3 may report a failed completion inside a 200 response.
    const S3Error err = ParseError(done.body);
    if (!err.code.empty()) {
      return UnavailableError("s3 " + what + ": " + err.code + ": " + err.message);
    }
    return Status::Ok();
  }

  S3Client client_;
};

}  // namespace

Result<std::unique_ptr<ArtifactStore>> Open(const Options& options) {
  PA_ASSIGN_OR_RETURN(Options checked, CheckOptions(options));
  return std::unique_ptr<ArtifactStore>(std::make_unique<S3Store>(std::move(checked)));
}

}  // namespace pa::storage::s3
