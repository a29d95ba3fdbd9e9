// Url: the parsed form of the URLs that name PrimoART's stores and peers
// (`postgresql://user:pass@host:5432/db`, `s3://bucket?endpoint=http://h:9000&region=x`,
// `sqlite:///abs/path.db`, `file://./data/artifacts`).
//
// Parsing is strict: a malformed URL is an InvalidArgument whose message says what is wrong, so
// configuration errors can name the key and the problem. Userinfo and query values are
// percent-decoded. `Masked()` renders the URL with the password replaced, for logs and
// `primoart config print`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace pa {

struct Url {
  std::string scheme;    // lower-cased, e.g. "postgresql"
  std::string user;      // decoded; empty when absent
  std::string password;  // decoded; empty when absent
  bool has_password = false;
  std::string host;  // empty for scheme:///path forms; IPv6 without brackets
  int port = 0;      // 0 when absent
  std::string path;  // decoded; for "sqlite://./x.db" the path is "./x.db"
  std::multimap<std::string, std::string> query;  // decoded

  // The first value of query parameter `key`, if present.
  std::optional<std::string> Param(std::string_view key) const;

  // The URL re-rendered with the password (if any) shown as "****".
  std::string Masked() const;
};

Result<Url> ParseUrl(std::string_view text);

// Percent-decoding; '+' is kept as is. Fails on a malformed escape.
Result<std::string> PercentDecode(std::string_view in);
std::string PercentEncode(std::string_view in, std::string_view keep = "-_.~");

}  // namespace pa
