// Router: the route table of the gateway. Every role registers its routes here at init, each with
// the access it requires — the table is what the server matches, what the authorisation layer
// enforces, and what the route-table test walks.
//
// Patterns are literal segments and `{name}` parameters, each parameter matching one non-empty
// segment: "/api/v1/robots/{id}/config". A literal segment wins over a parameter at the same
// position. GET routes also answer HEAD.
//
// Thread-safety: Add() only during start-up (module init); Match() from any thread afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http.h"

namespace pa::gateway {

// The permission a route needs. Every route declares one; the router refuses to register a route
// without it. Users get permissions from their role (viewer: read; editor: read, write; admin:
// everything); API tokens from their scopes.
enum class Permission : uint32_t {
  kNone = 0,
  kPublic = 1 << 0,         // anyone, no credentials
  kAuthenticated = 1 << 1,  // any valid credential
  kRead = 1 << 2,
  kWrite = 1 << 3,
  kAdmin = 1 << 4,
  kIngest = 1 << 5,
  kRobot = 1 << 6,  // a robot token; bound to the robot named by the route's `robot_param`
};

struct Access {
  uint32_t any_of = 0;      // bitmask of Permission: any one of them grants access
  std::string robot_param;  // for kRobot: the path parameter holding the robot id ("" = none)

  static Access Public() { return {static_cast<uint32_t>(Permission::kPublic), ""}; }
  static Access Authenticated() { return {static_cast<uint32_t>(Permission::kAuthenticated), ""}; }
  static Access Read() { return {static_cast<uint32_t>(Permission::kRead), ""}; }
  static Access Write() { return {static_cast<uint32_t>(Permission::kWrite), ""}; }
  static Access Admin() { return {static_cast<uint32_t>(Permission::kAdmin), ""}; }
  static Access Ingest() { return {static_cast<uint32_t>(Permission::kIngest), ""}; }
  // A robot token bound to the robot in path parameter `param`, or any of `others`.
  static Access Robot(std::string param, std::initializer_list<Permission> others = {});
  Access Or(Permission p) const {
    Access a = *this;
    a.any_of |= static_cast<uint32_t>(p);
    return a;
  }
  bool Allows(Permission p) const { return (any_of & static_cast<uint32_t>(p)) != 0; }
  bool is_public() const { return Allows(Permission::kPublic); }
  std::string ToString() const;  // "public", "read|write", "robot(id)|write"
};

using Handler = std::function<Response(Request&)>;

// For handlers that wait on other work (a group commit, a remote call) without holding a server
// thread: the handler returns at once and the answer is given later, from any thread, by calling
// `respond` exactly once (later calls are ignored). The Request stays valid until then.
using Responder = std::function<void(Response)>;
using AsyncHandler = std::function<void(Request&, Responder respond)>;

struct RouteOptions {
  // Overrides the server's body limit for this route (bytes, after decompression); 0 = default.
  int64_t max_body_bytes = 0;
};

struct Route {
  Method method;
  std::string pattern;
  Access access;
  Handler handler;             // or
  AsyncHandler async_handler;  // exactly one of the two is set
  RouteOptions options;
  std::string owner;  // the module that registered it, for /api/v1/status and docs
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method and path
  std::vector<std::pair<std::string, std::string>> params;
  // When route is null but the path exists with other methods: those methods (for 405 + Allow).
  std::vector<Method> allowed;
};

class Router {
 public:
  Router();
  ~Router();

  // Registers a route. Returns InvalidArgument for a malformed pattern, a missing access
  // declaration, or a duplicate (method, pattern); start-up fails on it.
  Status Add(Method method, std::string pattern, Access access, Handler handler,
             RouteOptions options = {}, std::string owner = "");
  // The same for a handler that answers later (see AsyncHandler).
  Status AddAsync(Method method, std::string pattern, Access access, AsyncHandler handler,
                  RouteOptions options = {}, std::string owner = "");

  // Finds the route for a request; `path` is already percent-decoded.
  RouteMatch Match(Method method, std::string_view path) const;

  // Every registered route, in registration order.
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  struct Node;
  Status Insert(Route route, bool no_handler);
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace pa::gateway
