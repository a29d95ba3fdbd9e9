#include "base/go_regex.h"

#include <vector>

#include "fmt/format.h"
#include "re2/re2.h"

namespace pa {
namespace {

bool IsNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

Result<GoRegex> GoRegex::Compile(std::string_view pattern) {
  const std::string anchored = "^(?:" + std::string(pattern) + ")$";
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(anchored, options);
  if (!re->ok()) {
    return InvalidArgumentError(
        fmt::format("error parsing regexp: {}: `{}`", re->error(), anchored));
  }
  GoRegex out;
  out.re_ = std::move(re);
  return out;
}

bool GoRegex::FullMatch(std::string_view s) const {
  return re_->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, nullptr, 0);
}

std::optional<std::string> GoRegex::Replace(std::string_view s,
                                            std::string_view replacement) const {
  const int ngroups = re_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  if (!re_->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, groups.data(),
                  ngroups)) {
    return std::nullopt;
  }
  auto group = [&](int i) -> std::string_view {
    if (i < 0 || i >= ngroups || groups[static_cast<size_t>(i)].data() == nullptr) return {};
    return std::string_view(groups[static_cast<size_t>(i)].data(),
                            groups[static_cast<size_t>(i)].size());
  };
  const std::map<std::string, int>& names = re_->NamedCapturingGroups();
  // Go's regexp.Expand.
  std::string out;
  std::string_view t = replacement;
  while (!t.empty()) {
    const size_t dollar = t.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(t.substr(0, dollar));
    t.remove_prefix(dollar + 1);
    if (!t.empty() && t[0] == '$') {
      out += '$';
      t.remove_prefix(1);
      continue;
    }
    // extract(): a name of letters, digits and '_', optionally in braces.
    std::string_view rest = t;
    const bool brace = !rest.empty() && rest[0] == '{';
    if (brace) rest.remove_prefix(1);
    size_t n = 0;
    while (n < rest.size() && IsNameChar(rest[n])) ++n;
    if (n == 0 || (brace && (n >= rest.size() || rest[n] != '}'))) {
      out += '$';  // malformed: the '$' is literal text
      continue;
    }
    const std::string_view name = rest.substr(0, n);
    t = rest.substr(n + (brace ? 1 : 0));
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num >= 0) {
      out.append(group(num));
    } else if (auto it = names.find(std::string(name)); it != names.end()) {
      out.append(group(it->second));
    }
  }
  out.append(t);
  return out;
}

}  // namespace pa
