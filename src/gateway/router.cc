#include "gateway/router.h"

#include <array>
#include <map>

namespace pa::gateway {
namespace {

constexpr size_t kMethodCount = 7;
// A bound on parameters per pattern so Match() can keep its captures on the stack.
constexpr size_t kMaxParams = 16;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Splits "/a/b" into {"a", "b"}; "/" into {}. Empty segments are kept so callers can reject them.
std::vector<std::string_view> SplitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path == "/") return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

Access Access::Robot(std::string param, std::initializer_list<Permission> others) {
  Access a{static_cast<uint32_t>(Permission::kRobot), std::move(param)};
  for (Permission p : others) a.any_of |= static_cast<uint32_t>(p);
  return a;
}

std::string Access::ToString() const {
  static constexpr std::pair<Permission, std::string_view> kOrder[] = {
      {Permission::kPublic, "public"}, {Permission::kAuthenticated, "authenticated"},
      {Permission::kRobot, "robot"},   {Permission::kRead, "read"},
      {Permission::kWrite, "write"},   {Permission::kAdmin, "admin"},
      {Permission::kIngest, "ingest"}};
  std::string out;
  for (const auto& [p, name] : kOrder) {
    if (!Allows(p)) continue;
    if (!out.empty()) out += '|';
    out += name;
    if (p == Permission::kRobot && !robot_param.empty()) {
      out += '(';
      out += robot_param;
      out += ')';
    }
  }
  return out.empty() ? "none" : out;
}

struct RouteMatchState {
  size_t method;
  std::array<std::string_view, kMaxParams> captures{};
  size_t depth = 0;
  uint32_t allowed = 0;  // methods of paths that matched without the requested method
};

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::array<const Route*, kMethodCount> routes{};
  // Per method: the parameter names of that route's pattern, in path order. Two methods on the
  // same path may name their parameters differently.
  std::array<std::vector<std::string>, kMethodCount> param_names;
  uint32_t methods = 0;  // bitmask of methods with a route here

  // Depth-first, literal before parameter, backtracking so "/a/b/c" and "/a/{x}/d" both match.
  // `rest` is the path after this node's segment; a null data() means nothing is left.
  const Node* Walk(std::string_view rest, RouteMatchState& st, size_t* method_out) const;
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::Add(Method method, std::string pattern, Access access, Handler handler,
                   RouteOptions options, std::string owner) {
  const bool missing = !handler;
  return Insert(Route{method, std::move(pattern), std::move(access), std::move(handler), nullptr,
                      options, std::move(owner)},
                missing);
}

Status Router::AddAsync(Method method, std::string pattern, Access access, AsyncHandler handler,
                        RouteOptions options, std::string owner) {
  const bool missing = !handler;
  return Insert(Route{method, std::move(pattern), std::move(access), nullptr, std::move(handler),
                      options, std::move(owner)},
                missing);
}

Status Router::Insert(Route r, bool no_handler) {
  const Method method = r.method;
  const std::string& pattern = r.pattern;
  const Access& access = r.access;
  const RouteOptions& options = r.options;
  const std::string what = std::string(MethodName(method)) + " " + pattern;
  if (access.any_of == 0) {
    return InvalidArgumentError("route " + what + ": no access declared");
  }
  if (no_handler) return InvalidArgumentError("route " + what + ": no handler");
  if (options.max_body_bytes < 0) {
    return InvalidArgumentError("route " + what + ": max_body_bytes must not be negative");
  }
  if (pattern.empty() || pattern[0] != '/') {
    return InvalidArgumentError("route " + what + ": pattern must start with '/'");
  }
  Node* node = root_.get();
  std::vector<std::string> names;
  for (std::string_view seg : SplitSegments(pattern)) {
    if (seg.empty()) return InvalidArgumentError("route " + what + ": empty path segment");
    if (seg.front() == '{') {
      const std::string_view name = seg.substr(1, seg.size() - 1 - (seg.back() == '}'));
      bool valid = seg.size() > 2 && seg.back() == '}';
      for (char c : name) valid = valid && IsNameChar(c);
      if (!valid) {
        return InvalidArgumentError("route " + what + ": bad parameter segment '" +
                                    std::string(seg) + "' (expected {name} with [A-Za-z0-9_])");
      }
      for (const auto& n : names) {
        if (n == name) {
          return InvalidArgumentError("route " + what + ": parameter '" + std::string(name) +
                                      "' appears twice");
        }
      }
      if (names.size() == kMaxParams) {
        return InvalidArgumentError("route " + what + ": more than 16 parameters");
      }
      names.emplace_back(name);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
      continue;
    }
    if (seg.find_first_of("{}") != std::string_view::npos) {
      return InvalidArgumentError("route " + what + ": '{' or '}' inside literal segment '" +
                                  std::string(seg) + "'");
    }
    auto it = node->literals.find(seg);
    if (it == node->literals.end()) {
      it = node->literals.emplace(std::string(seg), std::make_unique<Node>()).first;
    }
    node = it->second.get();
  }
  if (access.Allows(Permission::kRobot) && !access.robot_param.empty()) {
    bool found = false;
    for (const auto& n : names) found = found || n == access.robot_param;
    if (!found) {
      return InvalidArgumentError("route " + what + ": robot parameter '" + access.robot_param +
                                  "' is not in the pattern");
    }
  }
  const auto m = static_cast<size_t>(method);
  if (node->routes[m] != nullptr) {
    return InvalidArgumentError("route " + what + ": already registered (as " +
                                node->routes[m]->pattern + ")");
  }
  auto route = std::make_unique<Route>(std::move(r));
  node->routes[m] = route.get();
  node->param_names[m] = std::move(names);
  node->methods |= 1u << m;
  routes_.push_back(std::move(route));
  return Status::Ok();
}

RouteMatch Router::Match(Method method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path[0] != '/') return result;
  RouteMatchState st{static_cast<size_t>(method)};
  size_t m = 0;
  const Node* node = root_->Walk(path == "/" ? std::string_view() : path.substr(1), st, &m);
  if (node != nullptr) {
    result.route = node->routes[m];
    const auto& names = node->param_names[m];
    result.params.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      result.params.emplace_back(names[i], std::string(st.captures[i]));
    }
    return result;
  }
  if (st.allowed & (1u << static_cast<size_t>(Method::kGet))) {
    st.allowed |= 1u << static_cast<size_t>(Method::kHead);
  }
  for (size_t i = 0; i < kMethodCount; ++i) {
    if (st.allowed & (1u << i)) result.allowed.push_back(static_cast<Method>(i));
  }
  return result;
}

const Router::Node* Router::Node::Walk(std::string_view rest, RouteMatchState& st,
                                       size_t* method_out) const {
  const Node* node = this;
  if (rest.data() == nullptr) {  // the whole path is consumed
    if (node->methods == 0) return nullptr;
    if (node->routes[st.method] != nullptr) {
      *method_out = st.method;
      return node;
    }
    constexpr size_t kHead = static_cast<size_t>(Method::kHead);
    constexpr size_t kGet = static_cast<size_t>(Method::kGet);
    if (st.method == kHead && node->routes[kGet] != nullptr) {
      *method_out = kGet;
      return node;
    }
    st.allowed |= node->methods;
    return nullptr;
  }
  const size_t slash = rest.find('/');
  const std::string_view seg = rest.substr(0, slash);
  // An empty but non-null `next` is an empty trailing segment ("/a/"), which matches nothing.
  const std::string_view next =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (seg.empty()) return nullptr;
  if (auto it = node->literals.find(seg); it != node->literals.end()) {
    if (const auto* found = it->second->Walk(next, st, method_out)) return found;
  }
  if (node->param && st.depth < kMaxParams) {
    st.captures[st.depth++] = seg;
    if (const auto* found = node->param->Walk(next, st, method_out)) return found;
    --st.depth;
  }
  return nullptr;
}

}  // namespace pa::gateway
