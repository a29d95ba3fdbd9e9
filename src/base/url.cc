#include "base/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/strings.h"

namespace pa {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return InvalidArgumentError("truncated percent-escape");
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("bad percent-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view in, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> Url::Param(std::string_view key) const {
  auto it = query.find(std::string(key));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Url::Masked() const {
  std::string out = scheme + "://";
  if (!user.empty() || has_password) {
    out += PercentEncode(user);
    if (has_password) out += ":****";
    out += '@';
  }
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  if (port != 0) out += ":" + std::to_string(port);
  out += path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    out += sep;
    sep = '&';
    out += PercentEncode(k) + "=" + PercentEncode(v, "-_.~:/");
  }
  return out;
}

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a URL (expected scheme://...)");
  }
  std::string_view scheme = text.substr(0, colon);
  if (!std::all_of(scheme.begin(), scheme.end(), IsSchemeChar)) {
    return InvalidArgumentError("bad URL scheme '" + std::string(scheme) + "'");
  }
  url.scheme.assign(scheme);
  url.scheme = AsciiLower(url.scheme);
  std::string_view rest = text.substr(colon + 3);

  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (size_t h = rest.find('#'); h != std::string_view::npos) rest = rest.substr(0, h);

  // Authority runs to the first '/', except for relative file paths such as "sqlite://./x.db".
  std::string_view authority;
  std::string_view path;
  if (!rest.empty() && rest[0] == '.') {
    path = rest;
  } else {
    const size_t slash = rest.find('/');
    authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = userinfo;
    if (size_t c = userinfo.find(':'); c != std::string_view::npos) {
      user = userinfo.substr(0, c);
      PA_ASSIGN_OR_RETURN(url.password, PercentDecode(userinfo.substr(c + 1)));
      url.has_password = true;
    }
    PA_ASSIGN_OR_RETURN(url.user, PercentDecode(user));
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unclosed '[' in URL host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return InvalidArgumentError("unexpected text after IPv6 host");
      port = after.substr(1);
    }
  } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  url.host.assign(host);
  if (!port.empty() || authority.ends_with(":")) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return InvalidArgumentError("bad port '" + std::string(port) + "' in URL");
    }
    url.port = value;
  }
  PA_ASSIGN_OR_RETURN(url.path, PercentDecode(path));

  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    PA_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      PA_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1)));
    }
    url.query.emplace(std::move(key), std::move(value));
  }
  return url;
}

}  // namespace pa
