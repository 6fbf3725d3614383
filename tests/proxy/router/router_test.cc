// Router: first match in config order; path, host, method and header conditions.
#include "proxy/router/router.h"

#include <gtest/gtest.h>

#include "proxy/loader/config_loader.h"

namespace dpuguard::proxy {
namespace {

std::shared_ptr<const Config> load(const std::string& routes) {
  const std::string yaml =
      "listeners: [{name: p, address: 127.0.0.1:1}]\n"
      "clusters: [{name: a, endpoints: [\"127.0.0.1:2\"]}, {name: b, endpoints: "
      "[\"127.0.0.1:3\"]}]\n"
      "routes:\n" +
      routes;
  LoadResult r = ConfigLoader::loadString(yaml, "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  return r.config;
}

std::string routeFor(const Router& router, std::string_view method, std::string_view path,
                     std::string_view host = "h",
                     std::span<const http1::HeaderField> headers = {}) {
  const RouteConfig* r = router.match(RouteRequest{method, host, path, headers});
  return r == nullptr ? "none" : r->name;
}

TEST(RouterTest, FirstMatchInOrder) {
  auto c = load(
      "  - {name: exact, match: {path_exact: /v1/models}, cluster: a}\n"
      "  - {name: chat, match: {path_prefix: /v1/chat/, methods: [POST]}, cluster: b}\n"
      "  - {name: v1, match: {path_prefix: /v1/}, cluster: a}\n");
  Router router(*c);
  EXPECT_EQ(routeFor(router, "GET", "/v1/models"), "exact");
  EXPECT_EQ(routeFor(router, "GET", "/v1/models/x"), "v1");
  EXPECT_EQ(routeFor(router, "POST", "/v1/chat/completions"), "chat");
  EXPECT_EQ(routeFor(router, "GET", "/v1/chat/completions"), "v1");
  EXPECT_EQ(routeFor(router, "GET", "/v2/x"), "none");
  EXPECT_EQ(routeFor(router, "GET", "/v1"), "none");  // the prefix is /v1/, with its slash
}

TEST(RouterTest, HostIgnoresPortAndCase) {
  auto c = load("  - {name: api, match: {host: api.example}, cluster: a}\n");
  Router router(*c);
  EXPECT_EQ(routeFor(router, "GET", "/", "API.Example:8080"), "api");
  EXPECT_EQ(routeFor(router, "GET", "/", "api.example"), "api");
  EXPECT_EQ(routeFor(router, "GET", "/", "other.example"), "none");
}

TEST(RouterTest, HeaderPresenceAndValue) {
  auto c = load(
      "  - name: canary\n    match: {headers: [{name: x-canary, value: \"1\"}]}\n    cluster: b\n"
      "  - name: tagged\n    match: {headers: [{name: x-tag}]}\n    cluster: a\n");
  Router router(*c);
  const http1::HeaderField canary[] = {{"X-Canary", "1"}};
  const http1::HeaderField wrong[] = {{"x-canary", "2"}};
  const http1::HeaderField tagged[] = {{"X-TAG", ""}};
  EXPECT_EQ(routeFor(router, "GET", "/", "h", canary), "canary");
  EXPECT_EQ(routeFor(router, "GET", "/", "h", wrong), "none");
  EXPECT_EQ(routeFor(router, "GET", "/", "h", tagged), "tagged");
}

}  // namespace
}  // namespace dpuguard::proxy
