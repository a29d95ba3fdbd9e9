// OptionsFromUrl and the checks on Options shared by it and Open().
#include <algorithm>
#include <set>

#include "storage/s3/s3_client.h"
#include "storage/s3/s3_store.h"

namespace pa::storage::s3 {
namespace {

constexpr std::string_view kForm =
    "s3://bucket[/prefix]?endpoint=http://host:port&region=us-east-1&path_style=true|false";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Status ValidateBucket(const std::string& bucket) {
  if (bucket.empty()) {
    return InvalidArgumentError("s3 URL has no bucket (expected " + std::string(kForm) + ")");
  }
  const bool chars_ok = std::all_of(bucket.begin(), bucket.end(),
                                    [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; });
  if (bucket.size() < 3 || bucket.size() > 63 || !chars_ok || !IsLowerAlnum(bucket.front()) ||
      !IsLowerAlnum(bucket.back())) {
    return InvalidArgumentError("s3 bucket name '" + bucket +
                                "' is not valid: 3-63 characters of a-z 0-9 . -, starting and "
                                "ending with a letter or digit");
  }
  return Status::Ok();
}

// "http://host:port" from a user's endpoint URL; InvalidArgument names what is wrong.
Result<std::string> NormalizeEndpoint(const std::string& text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("s3 endpoint '" + text + "' " + std::string(why) +
                                " (expected http://host:port or https://host)");
  };
  Result<Url> parsed = ParseUrl(text);
  if (!parsed.ok()) return bad("is not a URL: " + parsed.status().message());
  const Url& url = *parsed;
  if (url.scheme != "http" && url.scheme != "https") return bad("must use http or https");
  if (url.host.empty()) return bad("has no host");
  if (!url.user.empty() || url.has_password) return bad("must not carry credentials");
  if (!url.path.empty() && url.path != "/") return bad("must not have a path");
  if (!url.query.empty()) return bad("must not have a query");
  std::string out = url.scheme + "://";
  out += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != 0) out += ":" + std::to_string(url.port);
  return out;
}

}  // namespace

Result<Options> OptionsFromUrl(const Url& url) {
  if (url.scheme != "s3") {
    return InvalidArgumentError("not an s3:// URL (expected " + std::string(kForm) + ")");
  }
  if (!url.user.empty() || url.has_password) {
    return InvalidArgumentError(
        "s3 URL must not carry credentials; set the S3 access and secret key options instead");
  }
  if (url.port != 0) {
    return InvalidArgumentError("s3 URL names a bucket, not a host: put host:port in ?endpoint=");
  }
  static const std::set<std::string> kKnown = {"endpoint", "region", "path_style"};
  for (const auto& [k, v] : url.query) {
    if (!kKnown.count(k)) {
      return InvalidArgumentError("s3 URL has unknown parameter '" + k +
                                  "' (known: endpoint, region, path_style)");
    }
  }

  Options o;
  o.bucket = url.host;
  PA_RETURN_IF_ERROR(ValidateBucket(o.bucket));
  std::string_view prefix = url.path;
  while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  o.prefix = std::string(prefix);
  if (!o.prefix.empty()) {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(o.prefix).WithContext("s3 URL prefix"));
  }

  if (auto region = url.Param("region")) {
    const bool ok = !region->empty() && std::all_of(region->begin(), region->end(), [](char c) {
      return IsLowerAlnum(c) || c == '-';
    });
    if (!ok) return InvalidArgumentError("s3 region '" + *region + "' is not valid");
    o.region = *region;
  }
  if (auto endpoint = url.Param("endpoint")) {
    PA_ASSIGN_OR_RETURN(o.endpoint, NormalizeEndpoint(*endpoint));
  } else {
    o.endpoint = "https://s3." + o.region + ".amazonaws.com";
  }
  if (auto path_style = url.Param("path_style")) {
    if (*path_style != "true" && *path_style != "false") {
      return InvalidArgumentError("s3 path_style must be true or false, not '" + *path_style + "'");
    }
    o.path_style = *path_style == "true";
  }
  return o;
}

Result<Options> CheckOptions(Options o) {
  PA_RETURN_IF_ERROR(ValidateBucket(o.bucket));
  if (!o.prefix.empty()) {
    PA_RETURN_IF_ERROR(ValidateArtifactKey(o.prefix).WithContext("s3 prefix"));
  }
  if (o.endpoint.empty()) return InvalidArgumentError("s3 endpoint is empty");
  PA_ASSIGN_OR_RETURN(o.endpoint, NormalizeEndpoint(o.endpoint));
  if (o.region.empty()) return InvalidArgumentError("s3 region is empty");
  if (o.access_key.empty() != o.secret_key.empty()) {
    return InvalidArgumentError(
        "s3 needs both an access key and a secret key, or neither (anonymous access)");
  }
  if (o.max_retries < 0) return InvalidArgumentError("s3 max_retries must not be negative");
  if (o.list_page_size < 1 || o.list_page_size > 1000) {
    return InvalidArgumentError("s3 list_page_size must be 1..1000");
  }
  if (o.part_size < (int64_t{5} << 20)) {
    return InvalidArgumentError("s3 part_size must be at least 5 MiB (the S3 minimum)");
  }
  if (o.timeout.count() <= 0) return InvalidArgumentError("s3 timeout must be positive");
  return o;
}

}  // namespace pa::storage::s3
