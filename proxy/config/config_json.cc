// configToJson: a faithful, redacted view of the running snapshot. Every value is written
// under its key through JsonObject, which applies admin.redact, so a key added later is
// redacted by its name without anyone remembering to.
#include "proxy/config/config_json.h"

#include <fnmatch.h>

#include "proxy/core/json_escape.h"

namespace dpuguard::proxy {
namespace {

std::string str(std::string_view s) {
  std::string out = "\"";
  appendJsonEscaped(out, s);
  return out + "\"";
}

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

// One JSON object, built key by key; a key admin.redact names gets "[redacted]".
class JsonObject {
 public:
  explicit JsonObject(const std::vector<std::string>& redact) : redact_(redact) {}
  JsonObject& raw(std::string_view key, const std::string& json) {
    out_ += out_.size() > 1 ? "," : "";
    out_ += str(key) + ":" + (redactedKey(key, redact_) ? str(kRedacted) : json);
    return *this;
  }
  // A value this renderer knows is no secret although its key's name matches admin.redact
  // (api_key: the route's mode).
  JsonObject& shown(std::string_view key, const std::string& json) {
    out_ += out_.size() > 1 ? "," : "";
    out_ += str(key) + ":" + json;
    return *this;
  }
  JsonObject& text(std::string_view key, std::string_view v) { return raw(key, str(v)); }
  JsonObject& num(std::string_view key, uint64_t v) { return raw(key, std::to_string(v)); }
  JsonObject& flag(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonObject& texts(std::string_view key, const std::vector<std::string>& v) {
    std::vector<std::string> quoted;
    for (const std::string& s : v) quoted.push_back(str(s));
    return raw(key, list(quoted));
  }
  std::string done() { return out_ + "}"; }

 private:
  const std::vector<std::string>& redact_;
  std::string out_ = "{";
};

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
                ",\"trust_domains\":" + list(domains) +
                ",\"verify_depth\":" + std::to_string(t.client_auth.verify_depth) + "}";
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

std::string limitsJson(const LimitsConfig& l, const std::vector<std::string>& r) {
  return JsonObject(r)
      .num("max_header_bytes", l.max_header_bytes)
      .num("max_headers", l.max_headers)
      .num("max_uri_bytes", l.max_uri_bytes)
      .num("max_header_name_bytes", l.max_header_name_bytes)
      .num("max_header_value_bytes", l.max_header_value_bytes)
      .num("max_chunk_ext_bytes", l.max_chunk_ext_bytes)
      .num("max_trailer_bytes", l.max_trailer_bytes)
      .num("max_body_bytes", l.max_body_bytes)
      .num("header_timeout_ms", l.header_timeout_ms)
      .num("idle_timeout_ms", l.idle_timeout_ms)
      .num("lingering_time_ms", l.lingering_time_ms)
      .num("lingering_bytes", l.lingering_bytes)
      .done();
}

std::string clusterJson(const ClusterConfig& cl, const std::vector<std::string>& r) {
  std::vector<std::string> eps;
  for (const Endpoint& e : cl.endpoints) eps.push_back(e.text);
  JsonObject o(r);
  o.text("name", cl.name)
      .texts("endpoints", eps)
      .text("lb", enumName(kLbPolicyNames, cl.lb))
      .num("connect_timeout_ms", cl.connect_timeout_ms)
      .num("max_idle_connections", cl.max_idle_connections)
      .num("eject_after_failures", cl.eject_after_failures)
      .num("eject_ms", cl.eject_ms)
      .num("max_ejection_percent", cl.max_ejection_percent)
      .texts("fallback", cl.fallback)
      .raw("tls", clusterTlsJson(cl.tls));
  const HealthCheckConfig& hc = cl.health_check;
  o.raw("health_check", !hc.enabled ? std::string("null")
                                    : JsonObject(r)
                                          .text("path", hc.path)
                                          .text("host", hc.host)
                                          .num("interval_ms", hc.interval_ms)
                                          .num("timeout_ms", hc.timeout_ms)
                                          .num("healthy_threshold", hc.healthy_threshold)
                                          .num("unhealthy_threshold", hc.unhealthy_threshold)
                                          .done());
  return o.done();
}

std::string routeJson(const RouteConfig& rt, const std::vector<std::string>& r) {
  std::vector<std::string> headers;
  for (const HeaderMatch& h : rt.match.headers) {
    // The value a route matches on is often a credential (x-api-key: sk-live-...): never shown.
    JsonObject hm(r);
    hm.text("name", h.name);
    if (!h.present_only) hm.text("value", kRedacted);
    headers.push_back(hm.done());
  }
  const std::string match = JsonObject(r)
                                .text("path_prefix", rt.match.path_prefix)
                                .text("path_exact", rt.match.path_exact)
                                .text("host", rt.match.host)
                                .texts("methods", rt.match.methods)
                                .raw("headers", list(headers))
                                .done();
  return JsonObject(r)
      .text("name", rt.name)
      .raw("match", match)
      .text("cluster", rt.cluster)
      .num("timeout_ms", rt.timeout_ms)
      .num("max_body_bytes", rt.max_body_bytes)
      .num("idle_timeout_ms", rt.idle_timeout_ms)
      // Canaries are as secret as the prompt they are planted in: only their number.
      .num("canaries", rt.canaries.size())
      // Modes, not keys (their names would match the default redact list).
      .shown("api_key", str(enumName(kApiKeyModeNames, rt.api_key)))
      .shown("pass_api_key", rt.pass_api_key ? "true" : "false")
      .done();
}

}  // namespace

bool redactedKey(std::string_view name, const std::vector<std::string>& patterns) {
  const std::string whole(name);
  for (const std::string& p : patterns) {
    if (fnmatch(p.c_str(), whole.c_str(), FNM_CASEFOLD) == 0) return true;
    size_t start = 0;
    while (start <= whole.size()) {
      const size_t end = whole.find_first_of("_-.", start);
      const std::string word =
          whole.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!word.empty() && fnmatch(p.c_str(), word.c_str(), FNM_CASEFOLD) == 0) return true;
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return false;
}

std::string configToJson(const Config& c) {
  const std::vector<std::string>& r = c.admin.redact;
  std::vector<std::string> listeners, clusters, routes;
  for (const ListenerConfig& l : c.listeners) {
    const std::string pn =
        JsonObject(r)
            .flag("merge_slashes", l.path_normalization.merge_slashes)
            .text("escaped_slashes",
                  enumName(kEscapedSlashNames, l.path_normalization.escaped_slashes))
            .done();
    listeners.push_back(JsonObject(r)
                            .text("name", l.name)
                            .text("address", l.address.text)
                            .raw("limits", limitsJson(l.limits, r))
                            .raw("path_normalization", pn)
                            .raw("tls", listenerTlsJson(l.tls))
                            .done());
  }
  for (const ClusterConfig& cl : c.clusters) clusters.push_back(clusterJson(cl, r));
  for (const RouteConfig& rt : c.routes) routes.push_back(routeJson(rt, r));
  const std::string admin = !c.admin.enabled ? std::string("null")
                                             : JsonObject(r)
                                                   .text("address", c.admin.address.text)
                                                   .texts("redact", c.admin.redact)
                                                   .num("worker_stall_ms", c.admin.worker_stall_ms)
                                                   .done();
  return JsonObject(r)
             .text("source", c.source)
             .num("workers", c.workers)
             .num("max_connections", c.max_connections)
             .num("drain_timeout_ms", c.drain_timeout_ms)
             .raw("limits", limitsJson(c.limits, r))
             .raw("listeners", list(listeners))
             .raw("admin", admin)
             .raw("clusters", list(clusters))
             .raw("routes", list(routes))
             // The key file's path only: it holds digests, and keys are never in the config.
             .raw("api_keys", c.inspect.api_keys.file.empty()
                                  ? std::string("null")
                                  : JsonObject(r).text("file", c.inspect.api_keys.file).done())
             .raw("logging", JsonObject(r)
                                 .text("flow_log", c.logging.flow_log)
                                 .num("flow_log_queue_bytes", c.logging.flow_log_queue_bytes)
                                 .done())
             .done() +
         "\n";
}

}  // namespace dpuguard::proxy
