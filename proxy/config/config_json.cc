// configToJson: a faithful, redacted view of the running snapshot.
#include "proxy/config/config_json.h"

#include "proxy/core/json_escape.h"

namespace dpuguard::proxy {
namespace {

std::string str(std::string_view s) {
  std::string out = "\"";
  appendJsonEscaped(out, s);
  return out + "\"";
}

std::string limitsJson(const LimitsConfig& l) {
  return "{\"max_header_bytes\":" + std::to_string(l.max_header_bytes) +
         ",\"max_headers\":" + std::to_string(l.max_headers) +
         ",\"max_uri_bytes\":" + std::to_string(l.max_uri_bytes) +
         ",\"max_header_name_bytes\":" + std::to_string(l.max_header_name_bytes) +
         ",\"max_header_value_bytes\":" + std::to_string(l.max_header_value_bytes) +
         ",\"max_chunk_ext_bytes\":" + std::to_string(l.max_chunk_ext_bytes) +
         ",\"max_trailer_bytes\":" + std::to_string(l.max_trailer_bytes) +
         ",\"max_body_bytes\":" + std::to_string(l.max_body_bytes) +
         ",\"header_timeout_ms\":" + std::to_string(l.header_timeout_ms) +
         ",\"idle_timeout_ms\":" + std::to_string(l.idle_timeout_ms) + "}";
}

std::string pathNormalizationJson(const PathNormalizationConfig& p) {
  return std::string("{\"merge_slashes\":") + (p.merge_slashes ? "true" : "false") +
         ",\"escaped_slashes\":" + str(enumName(kEscapedSlashNames, p.escaped_slashes)) + "}";
}

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

}  // namespace

std::string configToJson(const Config& c) {
  std::vector<std::string> listeners, clusters, routes;
  for (const ListenerConfig& l : c.listeners) {
    listeners.push_back("{\"name\":" + str(l.name) + ",\"address\":" + str(l.address.text) +
                        ",\"limits\":" + limitsJson(l.limits) + ",\"path_normalization\":" +
                        pathNormalizationJson(l.path_normalization) + "}");
  }
  for (const ClusterConfig& cl : c.clusters) {
    std::vector<std::string> eps;
    for (const Endpoint& e : cl.endpoints) eps.push_back(str(e.text));
    clusters.push_back("{\"name\":" + str(cl.name) + ",\"endpoints\":" + list(eps) +
                       ",\"lb\":" + str(enumName(kLbPolicyNames, cl.lb)) +
                       ",\"connect_timeout_ms\":" + std::to_string(cl.connect_timeout_ms) +
                       ",\"max_idle_connections\":" + std::to_string(cl.max_idle_connections) +
                       ",\"eject_after_failures\":" + std::to_string(cl.eject_after_failures) +
                       ",\"eject_ms\":" + std::to_string(cl.eject_ms) + "}");
  }
  for (const RouteConfig& r : c.routes) {
    std::vector<std::string> methods, headers;
    for (const std::string& m : r.match.methods) methods.push_back(str(m));
    for (const HeaderMatch& h : r.match.headers) {
      headers.push_back("{\"name\":" + str(h.name) +
                        (h.present_only ? "" : ",\"value\":" + str(h.value)) + "}");
    }
    routes.push_back(
        "{\"name\":" + str(r.name) + ",\"match\":{\"path_prefix\":" + str(r.match.path_prefix) +
        ",\"path_exact\":" + str(r.match.path_exact) + ",\"host\":" + str(r.match.host) +
        ",\"methods\":" + list(methods) + ",\"headers\":" + list(headers) +
        "},\"cluster\":" + str(r.cluster) + ",\"timeout_ms\":" + std::to_string(r.timeout_ms) +
        ",\"max_body_bytes\":" + std::to_string(r.max_body_bytes) +
        ",\"idle_timeout_ms\":" + std::to_string(r.idle_timeout_ms) +
        ",\"api_key\":" + str(enumName(kApiKeyModeNames, r.api_key)) +
        ",\"pass_api_key\":" + (r.pass_api_key ? "true" : "false") + "}");
  }
  return "{\"source\":" + str(c.source) + ",\"workers\":" + std::to_string(c.workers) +
         ",\"drain_timeout_ms\":" + std::to_string(c.drain_timeout_ms) +
         ",\"limits\":" + limitsJson(c.limits) + ",\"listeners\":" + list(listeners) +
         ",\"admin\":" +
         (c.admin.enabled ? "{\"address\":" + str(c.admin.address.text) + "}"
                          : std::string("null")) +
         ",\"clusters\":" + list(clusters) + ",\"routes\":" + list(routes) +
         // The key file's path only: it holds digests, and keys are never in the config.
         ",\"api_keys\":" +
         (c.inspect.api_keys.file.empty() ? std::string("null")
                                          : "{\"file\":" + str(c.inspect.api_keys.file) + "}") +
         ",\"logging\":{\"flow_log\":" + str(c.logging.flow_log) + "}}\n";
}

}  // namespace dpuguard::proxy
