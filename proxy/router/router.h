// Router: picks the first route (in config order) whose match block fits a request.
// Built once per config snapshot; match() is read-only and allocation-free.
#pragma once

#include <span>
#include <string_view>

#include "parsers/http1/message_head.h"
#include "proxy/config/config.h"

namespace dpuguard::proxy {

struct RouteRequest {
  std::string_view method;
  std::string_view host;  // Host header or absolute-form authority, port included or not
  std::string_view path;  // path only, no query
  std::span<const http1::HeaderField> headers;
};

class Router {
 public:
  explicit Router(const Config& config) : config_(&config) {}
  // The matching route, or nullptr (404).
  const RouteConfig* match(const RouteRequest& req) const;
  // Whether one route's match block fits `req`.
  static bool matches(const RouteMatch& m, const RouteRequest& req);

 private:
  const Config* config_;
};

}  // namespace dpuguard::proxy
