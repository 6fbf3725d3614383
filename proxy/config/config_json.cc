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

std::string boolean(bool b) {
  return b ? "true" : "false";
}

// Paths and settings only: the files' contents (keys above all) are never shown.
std::string listenerTlsJson(const ListenerTlsConfig& t) {
  if (!t.enabled) return "null";
  std::vector<std::string> certs, domains, names;
  for (const TlsCertificateConfig& c : t.certificates) {
    names.clear();
    for (const std::string& n : c.names) names.push_back(str(n));
    certs.push_back("{\"cert_file\":" + str(c.cert_file) + ",\"key_file\":" + str(c.key_file) +
                    ",\"names\":" + list(names) + "}");
  }
  for (const std::string& d : t.client_auth.trust_domains) domains.push_back(str(d));
  const std::string auth =
      t.client_auth.mode == ClientAuthMode::kNone
          ? std::string("null")
          : "{\"mode\":" + str(enumName(kClientAuthModeNames, t.client_auth.mode)) +
                ",\"ca_file\":" + str(t.client_auth.ca_file) +
                ",\"trust_domains\":" + list(domains) + "}";
  return "{\"certificates\":" + list(certs) +
         ",\"min_version\":" + str(enumName(kTlsVersionNames, t.min_version)) +
         ",\"ciphers\":" + str(t.ciphers) + ",\"ciphersuites\":" + str(t.ciphersuites) +
         ",\"groups\":" + str(t.groups) +
         ",\"handshake_timeout_ms\":" + std::to_string(t.handshake_timeout_ms) +
         ",\"max_pending_handshakes\":" + std::to_string(t.max_pending_handshakes) +
         ",\"session_tickets\":" + boolean(t.session_tickets) +
         ",\"ticket_key_rotate_s\":" + std::to_string(t.ticket_key_rotate_s) +
         ",\"client_auth\":" + auth + ",\"ktls\":" + boolean(t.ktls) + "}";
}

// clusters[].tls: the settings and the files' paths; never what is in them.
std::string clusterTlsJson(const ClusterTlsConfig& t) {
  if (!t.enabled) return "null";
  return "{\"ca_file\":" + str(t.ca_file) + ",\"verify\":" + boolean(t.verify) +
         ",\"server_name\":" + str(t.server_name) + ",\"cert_file\":" + str(t.cert_file) +
         ",\"key_file\":" + str(t.key_file) +
         ",\"min_version\":" + str(enumName(kTlsVersionNames, t.min_version)) + "}";
}

}  // namespace

std::string configToJson(const Config& c) {
  std::vector<std::string> listeners, clusters, routes;
  for (const ListenerConfig& l : c.listeners) {
    listeners.push_back("{\"name\":" + str(l.name) + ",\"address\":" + str(l.address.text) +
                        ",\"limits\":" + limitsJson(l.limits) +
                        ",\"path_normalization\":" + pathNormalizationJson(l.path_normalization) +
                        ",\"tls\":" + listenerTlsJson(l.tls) + "}");
  }
  for (const ClusterConfig& cl : c.clusters) {
    std::vector<std::string> eps;
    for (const Endpoint& e : cl.endpoints) eps.push_back(str(e.text));
    clusters.push_back("{\"name\":" + str(cl.name) + ",\"endpoints\":" + list(eps) +
                       ",\"lb\":" + str(enumName(kLbPolicyNames, cl.lb)) +
                       ",\"connect_timeout_ms\":" + std::to_string(cl.connect_timeout_ms) +
                       ",\"max_idle_connections\":" + std::to_string(cl.max_idle_connections) +
                       ",\"eject_after_failures\":" + std::to_string(cl.eject_after_failures) +
                       ",\"eject_ms\":" + std::to_string(cl.eject_ms) +
                       ",\"tls\":" + clusterTlsJson(cl.tls) + "}");
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
