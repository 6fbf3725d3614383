// Router matching: path (exact or prefix), host (case-insensitive, port ignored), method,
// headers (presence or exact value).
#include "proxy/router/router.h"

#include "parsers/uri/request_target.h"

namespace dpuguard::proxy {

bool Router::matches(const RouteMatch& m, const RouteRequest& req) {
  if (!m.path_exact.empty() && req.path != m.path_exact) return false;
  if (!m.path_prefix.empty() && !req.path.starts_with(m.path_prefix)) return false;
  if (!m.host.empty() && !http1::equalsIgnoreCase(uri::hostWithoutPort(req.host), m.host))
    return false;
  if (!m.methods.empty()) {
    bool found = false;
    for (const std::string& method : m.methods) found = found || method == req.method;
    if (!found) return false;
  }
  for (const HeaderMatch& hm : m.headers) {
    bool ok = false;
    for (const http1::HeaderField& f : req.headers) {
      if (http1::equalsIgnoreCase(f.name, hm.name) && (hm.present_only || f.value == hm.value)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

const RouteConfig* Router::match(const RouteRequest& req) const {
  for (const RouteConfig& r : config_->routes) {
    if (matches(r.match, req)) return &r;
  }
  return nullptr;
}

}  // namespace dpuguard::proxy
