// ConfigLoader: YAML -> Config with positioned errors. yaml-cpp may throw; that is fine here
// (start-up / reload only) and every exception becomes a ConfigError.
#include "proxy/loader/config_loader.h"

#include <grp.h>
#include <pwd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "attest/regular_file.h"
#include "proxy/loader/canonical_yaml.h"
#include "proxy/loader/cluster_tls_loader.h"
#include "proxy/loader/host_channel_loader.h"
#include "proxy/loader/inference_config_loader.h"
#include "proxy/loader/inspect_config_loader.h"
#include "proxy/loader/listener_tls_loader.h"
#include "proxy/loader/map_reader.h"
#include "proxy/loader/tls_files.h"

namespace dpuguard::proxy {
namespace {

const Keys kTopKeys = {
    "listeners",  "admin",     "workers",      "max_connections",  "limits",      "clusters",
    "routes",     "logging",   "host_channel", "drain_timeout_ms", "identities",  "policy",
    "signatures", "inference", "rate_limits",  "api_keys",         "attestation", "sandbox"};
const Keys kLimitKeys = {
    "max_header_bytes",       "max_headers",         "max_uri_bytes",     "max_header_name_bytes",
    "max_header_value_bytes", "max_chunk_ext_bytes", "max_trailer_bytes", "max_body_bytes",
    "header_timeout_ms",      "idle_timeout_ms",     "lingering_time_ms", "lingering_bytes"};
const Keys kRouteLimitKeys = {
    "max_header_bytes",       "max_headers",         "max_uri_bytes",     "max_header_name_bytes",
    "max_header_value_bytes", "max_chunk_ext_bytes", "max_trailer_bytes", "max_body_bytes",
    "idle_timeout_ms"};

// The parser limits (http1::Limits), shared by listener and route `limits`.
template <typename L>
void readParserLimits(MapReader& r, L& l) {
  r.readUint("max_header_bytes", l.max_header_bytes, 256, 1u << 20);
  r.readUint("max_headers", l.max_headers, 1, http1::kMaxHeadersCapacity);
  r.readUint("max_uri_bytes", l.max_uri_bytes, 16, 1u << 20);
  r.readUint("max_header_name_bytes", l.max_header_name_bytes, 16, 1u << 16);
  r.readUint("max_header_value_bytes", l.max_header_value_bytes, 64, 1u << 20);
  r.readUint("max_chunk_ext_bytes", l.max_chunk_ext_bytes, 0, 1u << 16);
  r.readUint("max_trailer_bytes", l.max_trailer_bytes, 2, 1u << 20);
}

void readLimits(Context& ctx, const YAML::Node& node, const std::string& what, LimitsConfig& l) {
  MapReader r(ctx, node, what, kLimitKeys);
  readParserLimits(r, l);
  r.readUint("max_body_bytes", l.max_body_bytes, 0, 1ull << 40);
  r.readUint("header_timeout_ms", l.header_timeout_ms, 1, kMaxTimeoutMs);
  r.readUint("idle_timeout_ms", l.idle_timeout_ms, 1, kMaxTimeoutMs);
  r.readUint("lingering_time_ms", l.lingering_time_ms, 0, 600000);
  r.readUint("lingering_bytes", l.lingering_bytes, 0, 1ull << 40);
  if (l.max_uri_bytes >= l.max_header_bytes) {
    ctx.error(node.Mark(), what + ": max_uri_bytes must be smaller than max_header_bytes");
  }
}

void readPathNormalization(Context& ctx, const YAML::Node& node, const std::string& what,
                           PathNormalizationConfig& p) {
  MapReader r(ctx, node, what, {"merge_slashes", "escaped_slashes"});
  r.readBool("merge_slashes", p.merge_slashes);
  r.readEnum("escaped_slashes", p.escaped_slashes, kEscapedSlashNames);
}

void readListeners(Context& ctx, MapReader& top, Config& c) {
  forEachItem(ctx, top.get("listeners"), "listeners", [&](const YAML::Node& n, size_t i) {
    ListenerConfig l;
    l.limits = c.limits;
    MapReader r(ctx, n, "listener #" + std::to_string(i + 1),
                {"name", "address", "limits", "path_normalization", "tls"});
    r.require("name");
    r.require("address");
    r.readName("name", l.name);
    r.readAddress("address", l.address);
    if (YAML::Node lim = r.get("limits"); lim.IsDefined())
      readLimits(ctx, lim, "listener '" + l.name + "' limits", l.limits);
    if (YAML::Node pn = r.get("path_normalization"); pn.IsDefined()) {
      readPathNormalization(ctx, pn, "listener '" + l.name + "' path_normalization",
                            l.path_normalization);
    }
    if (YAML::Node t = r.get("tls"); t.IsDefined())
      readListenerTls(ctx, t, "listener '" + l.name + "' tls", l.tls);
    for (const ListenerConfig& other : c.listeners) {
      if (!l.name.empty() && other.name == l.name)
        ctx.error(n.Mark(), "duplicate listener name '" + l.name + "'");
      if (!l.address.text.empty() && other.address.text == l.address.text) {
        ctx.error(n.Mark(), "listeners '" + other.name + "' and '" + l.name +
                                "' use the same address " + l.address.text);
      }
    }
    c.listeners.push_back(std::move(l));
  });
  if (c.listeners.empty())
    ctx.error(top.mark(), "at least one listener is required under 'listeners'");
}

void readHealthCheck(Context& ctx, const YAML::Node& n, const std::string& what,
                     HealthCheckConfig& hc) {
  MapReader r(
      ctx, n, what,
      {"path", "host", "interval_ms", "timeout_ms", "healthy_threshold", "unhealthy_threshold"});
  if (!r.valid()) return;
  hc.enabled = true;
  r.readString("path", hc.path);
  r.readString("host", hc.host);
  r.readUint("interval_ms", hc.interval_ms, 100, kMaxTimeoutMs);
  r.readUint("timeout_ms", hc.timeout_ms, 1, kMaxTimeoutMs);
  r.readUint("healthy_threshold", hc.healthy_threshold, 1, 100);
  r.readUint("unhealthy_threshold", hc.unhealthy_threshold, 1, 100);
  const bool bad_path = hc.path.empty() || hc.path[0] != '/' ||
                        std::any_of(hc.path.begin(), hc.path.end(), [](char ch) {
                          return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f;
                        });
  if (bad_path) ctx.error(n.Mark(), what + ": 'path' must start with '/' and hold no spaces");
  if (hc.host.find_first_of(" \t\r\n/@?#") != std::string::npos)
    ctx.error(n.Mark(), what + ": 'host' must be a host name");
  if (hc.timeout_ms >= hc.interval_ms)
    ctx.error(n.Mark(), what + ": 'timeout_ms' must be shorter than 'interval_ms'");
}

// Each cluster's `fallback` names other clusters; resolved once all are read.
void resolveFallbacks(Context& ctx, const YAML::Node& seq, Config& c) {
  Keys names;
  for (const ClusterConfig& cl : c.clusters) names.push_back(cl.name);
  for (size_t i = 0; i < c.clusters.size(); ++i) {
    ClusterConfig& cl = c.clusters[i];
    for (const std::string& f : cl.fallback) {
      const auto it = std::find(names.begin(), names.end(), f);
      const YAML::Mark mark = seq[i]["fallback"].Mark();
      if (it == names.end()) {
        ctx.error(mark, "cluster '" + cl.name + "': unknown fallback cluster '" + f + "'" +
                            didYouMean(f, names));
      } else if (*it == cl.name) {
        ctx.error(mark, "cluster '" + cl.name + "' cannot be its own fallback");
      } else {
        cl.fallback_indexes.push_back(static_cast<size_t>(it - names.begin()));
      }
    }
  }
}

void readClusters(Context& ctx, MapReader& top, Config& c) {
  forEachItem(ctx, top.get("clusters"), "clusters", [&](const YAML::Node& n, size_t i) {
    ClusterConfig cl;
    MapReader r(ctx, n, "cluster #" + std::to_string(i + 1),
                {"name", "endpoints", "lb", "connect_timeout_ms", "max_idle_connections",
                 "eject_after_failures", "eject_ms", "max_ejection_percent", "health_check",
                 "fallback", "tls"});
    r.require("name");
    r.require("endpoints");
    r.readName("name", cl.name);
    r.readUint("connect_timeout_ms", cl.connect_timeout_ms, 1, kMaxTimeoutMs);
    r.readUint("max_idle_connections", cl.max_idle_connections, 0, 100000);
    r.readUint("eject_after_failures", cl.eject_after_failures, 0, 1000);
    r.readUint("eject_ms", cl.eject_ms, 1, kMaxTimeoutMs);
    r.readUint("max_ejection_percent", cl.max_ejection_percent, 0, 100);
    r.readEnum("lb", cl.lb, kLbPolicyNames);
    if (YAML::Node hc = r.get("health_check"); hc.IsDefined())
      readHealthCheck(ctx, hc, "cluster '" + cl.name + "' health_check", cl.health_check);
    if (YAML::Node fb = r.get("fallback"); fb.IsDefined()) {
      cl.fallback = readStringList(ctx, fb, "fallback");
      if (cl.fallback.empty())
        ctx.error(fb.Mark(), "cluster '" + cl.name + "': 'fallback' must list cluster names");
    }
    YAML::Node eps = r.get("endpoints");
    if (eps.IsDefined() && (!eps.IsSequence() || eps.size() == 0)) {
      ctx.error(eps.Mark(),
                "cluster '" + cl.name + "': 'endpoints' must be a non-empty list of HOST:PORT");
    } else if (eps.IsDefined()) {
      for (size_t k = 0; k < eps.size(); ++k) {
        const YAML::Node& e = eps[k];
        const std::string text = e.IsScalar() ? e.Scalar() : "";
        std::string why;
        if (std::optional<Endpoint> ep =
                e.IsScalar() ? Endpoint::parse(text, &why) : std::nullopt) {
          cl.endpoints.push_back(std::move(*ep));
        } else {
          ctx.error(e.Mark(), e.IsScalar() ? "endpoint '" + text + "': " + why
                                           : "cluster '" + cl.name +
                                                 "': an endpoint must be HOST:PORT or host://NAME");
        }
      }
    }
    if (YAML::Node t = r.get("tls"); t.IsDefined()) readClusterTls(ctx, t, cl);
    for (const ClusterConfig& other : c.clusters) {
      if (!cl.name.empty() && other.name == cl.name)
        ctx.error(n.Mark(), "duplicate cluster name '" + cl.name + "'");
    }
    c.clusters.push_back(std::move(cl));
  });
  if (YAML::Node seq = top.get("clusters"); seq.IsSequence() && seq.size() == c.clusters.size())
    resolveFallbacks(ctx, seq, c);
}

void readMatch(Context& ctx, const YAML::Node& n, RouteConfig& rt) {
  MapReader r(ctx, n, "route '" + rt.name + "' match",
              {"path_prefix", "path_exact", "host", "methods", "headers"});
  r.readString("path_prefix", rt.match.path_prefix);
  r.readString("path_exact", rt.match.path_exact);
  r.readString("host", rt.match.host);
  for (const char* key : {"path_prefix", "path_exact"}) {
    YAML::Node p = r.get(key);
    if (p.IsDefined() && p.IsScalar() && (p.Scalar().empty() || p.Scalar()[0] != '/')) {
      ctx.error(p.Mark(), std::string("'") + key + "' must start with '/'");
    }
  }
  if (!rt.match.path_prefix.empty() && !rt.match.path_exact.empty()) {
    ctx.error(n.Mark(), "route '" + rt.name + "': use path_prefix or path_exact, not both");
  }
  YAML::Node methods = r.get("methods");
  if (methods.IsDefined()) {
    if (!methods.IsSequence())
      ctx.error(methods.Mark(), "'methods' must be a list such as [GET, POST]");
    else
      for (const YAML::Node& m : methods) {
        const std::string v = m.IsScalar() ? m.Scalar() : "";
        if (!isToken(v) ||
            std::any_of(v.begin(), v.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; })) {
          ctx.error(m.Mark(), "method '" + v + "' must be an upper-case token such as GET");
        } else {
          rt.match.methods.push_back(v);
        }
      }
  }
  forEachItem(ctx, r.get("headers"), "headers", [&](const YAML::Node& h, size_t) {
    MapReader hr(ctx, h, "header match", {"name", "value", "present"});
    hr.require("name");
    HeaderMatch hm;
    hr.readString("name", hm.name);
    hr.readString("value", hm.value);
    hm.present_only = !hr.get("value").IsDefined();
    if (!hm.name.empty() && !isToken(hm.name))
      ctx.error(h.Mark(), "header name '" + hm.name + "' is not a valid token");
    rt.match.headers.push_back(std::move(hm));
  });
}

// A route's canaries: literal strings an answer must never contain (see RouteConfig). Errors
// never quote one: a canary is as secret as the prompt it is planted in.
void readCanaries(Context& ctx, const YAML::Node& n, RouteConfig& rt) {
  const std::string what = "route '" + rt.name + "' canaries: ";
  const std::string bytes = std::to_string(RouteConfig::kMinCanaryBytes) + "-" +
                            std::to_string(RouteConfig::kMaxCanaryBytes) + " bytes";
  if (!n.IsSequence() || n.size() == 0 || n.size() > RouteConfig::kMaxCanaries) {
    ctx.error(n.Mark(), what + "must be a list of 1-" + std::to_string(RouteConfig::kMaxCanaries) +
                            " strings");
    return;
  }
  for (const YAML::Node& c : n) {
    const std::string v = c.IsScalar() ? c.Scalar() : "";
    const bool control = std::any_of(v.begin(), v.end(), [](char ch) {
      return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (!c.IsScalar()) {
      ctx.error(c.Mark(), what + "each must be a string of " + bytes + ", got a non-string");
    } else if (v.size() < RouteConfig::kMinCanaryBytes || v.size() > RouteConfig::kMaxCanaryBytes) {
      // A short one would match ordinary answers, and an answer is cut on a match.
      ctx.error(c.Mark(), what + "each must be a string of " + bytes + ", got " +
                              std::to_string(v.size()) + " bytes");
    } else if (control) {
      ctx.error(c.Mark(), what + "control characters are not allowed");
    } else if (v.front() == ' ' || v.back() == ' ' ||
               std::count(v.begin(), v.end(), ' ') * 2 > static_cast<long>(v.size())) {
      // Mostly spaces, or spaces at an end: it would match ordinary text, or not the token.
      ctx.error(c.Mark(), what + "must not start or end with a space, nor be mostly spaces");
    } else if (c.Tag() != "?" && c.Tag() != "!" && c.Tag() != "tag:yaml.org,2002:str") {
      ctx.error(c.Mark(), what + "each must be a plain string (no YAML tag)");
    } else if (std::find(rt.canaries.begin(), rt.canaries.end(), v) != rt.canaries.end()) {
      ctx.error(c.Mark(), what + "listed twice");
    } else {
      rt.canaries.push_back(v);
    }
  }
}

// attestation: {key_file}: the Ed25519 device key, loaded now (a key readable by others, or not
// Ed25519, is an error at its line).
void readAttestation(Context& ctx, const YAML::Node& node, AttestationConfig& a) {
  MapReader r(ctx, node, "attestation", {"key_file"});
  r.require("key_file");
  std::string path;
  r.readString("key_file", path);
  if (path.empty()) return;
  a.key_file = resolveConfigPath(ctx, path);
  std::string why;
  a.key = attest::DeviceKey::load(a.key_file, &why);
  if (!a.key) ctx.error(r.get("key_file").Mark(), "attestation: " + why);
}

void readSandbox(Context& ctx, const YAML::Node& node, sandbox::SandboxSettings& s) {
  MapReader r(ctx, node, "sandbox", {"mode", "user", "group"});
  r.readEnum("mode", s.mode, kSandboxModeNames);
  r.readString("user", s.user);
  r.readString("group", s.group);
  if (!s.user.empty() && getpwnam(s.user.c_str()) == nullptr)
    ctx.error(r.get("user").Mark(), "sandbox: no user '" + s.user + "' on this machine");
  if (!s.group.empty() && getgrnam(s.group.c_str()) == nullptr)
    ctx.error(r.get("group").Mark(), "sandbox: no group '" + s.group + "' on this machine");
}

void readRoutes(Context& ctx, MapReader& top, Config& c) {
  Keys cluster_names;
  for (const ClusterConfig& cl : c.clusters) cluster_names.push_back(cl.name);
  forEachItem(ctx, top.get("routes"), "routes", [&](const YAML::Node& n, size_t i) {
    RouteConfig rt;
    MapReader r(ctx, n, "route #" + std::to_string(i + 1),
                {"name", "match", "cluster", "timeout_ms", "limits", "canaries", "api_key",
                 "pass_api_key"});
    r.require("name");
    r.require("cluster");
    r.readName("name", rt.name);
    r.readString("cluster", rt.cluster);
    r.readUint("timeout_ms", rt.timeout_ms, 0, kMaxTimeoutMs);
    if (YAML::Node m = r.get("match"); m.IsDefined()) readMatch(ctx, m, rt);
    if (YAML::Node lim = r.get("limits"); lim.IsDefined()) {
      // Head limits are checked again once the route is known, so a route can only tighten
      // the listener's; body-phase limits (chunk extensions, trailers) apply from then on.
      MapReader lr(ctx, lim, "route '" + rt.name + "' limits", kRouteLimitKeys);
      readParserLimits(lr, rt.limits);
      lr.readUint("max_body_bytes", rt.max_body_bytes, 0, 1ull << 40);
      lr.readUint("idle_timeout_ms", rt.idle_timeout_ms, 1, kMaxTimeoutMs);
    }
    if (YAML::Node cn = r.get("canaries"); cn.IsDefined()) readCanaries(ctx, cn, rt);
    r.readEnum("api_key", rt.api_key, kApiKeyModeNames);
    r.readBool("pass_api_key", rt.pass_api_key);
    if (YAML::Node k = r.get("api_key");
        rt.api_key != ApiKeyMode::kOff && !top.get("api_keys").IsDefined()) {
      ctx.error(k.Mark(), "route '" + rt.name + "': api_key " +
                              std::string(enumName(kApiKeyModeNames, rt.api_key)) +
                              " needs a key file (api_keys: {file: FILE})");
    }
    if (YAML::Node cn = r.get("cluster"); cn.IsDefined() && !rt.cluster.empty()) {
      auto it = std::find(cluster_names.begin(), cluster_names.end(), rt.cluster);
      if (it == cluster_names.end()) {
        ctx.error(cn.Mark(), "route '" + rt.name + "': unknown cluster '" + rt.cluster + "'" +
                                 didYouMean(rt.cluster, cluster_names));
      } else {
        rt.cluster_index = static_cast<size_t>(it - cluster_names.begin());
      }
    }
    for (const RouteConfig& other : c.routes) {
      if (!rt.name.empty() && other.name == rt.name)
        ctx.error(n.Mark(), "duplicate route name '" + rt.name + "'");
    }
    c.routes.push_back(std::move(rt));
  });
  if (c.routes.empty()) ctx.error(top.mark(), "at least one route is required under 'routes'");
}

}  // namespace

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

LoadResult ConfigLoader::loadString(const std::string& text, const std::string& name) {
  Context ctx(name);
  auto config = std::make_shared<Config>();
  config->source = name;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    ctx.error(e.mark, e.msg);
    return LoadResult{nullptr, std::move(ctx.errors())};
  }
  if (!root.IsDefined() || root.IsNull()) {
    ctx.error(YAML::Mark(),
              "the file is empty: it needs at least 'listeners', 'clusters' and 'routes'");
    return LoadResult{nullptr, std::move(ctx.errors())};
  }
  // The measurement log's config entry: the document as parsed, in canonical form.
  const std::optional<std::string> canonical = canonicalYaml(root);
  if (!canonical) {
    ctx.error(YAML::Mark(), "the document nests deeper than " + std::to_string(kCanonicalMaxDepth) +
                                " levels or its aliases expand "
                                "it past " +
                                std::to_string(kCanonicalMaxBytes >> 20) +
                                " MiB: refused (an alias loop or an alias bomb)");
    return LoadResult{nullptr, std::move(ctx.errors())};
  }
  ctx.measured("config", name, *canonical);
  try {
    MapReader top(ctx, root, "the top level", kTopKeys);
    if (top.valid()) {
      top.readUint("workers", config->workers, 0, 1024);
      top.readUint("max_connections", config->max_connections, 1, 10000000);
      top.readUint("drain_timeout_ms", config->drain_timeout_ms, 0, kMaxTimeoutMs);
      if (YAML::Node lim = top.get("limits"); lim.IsDefined())
        readLimits(ctx, lim, "limits", config->limits);
      readListeners(ctx, top, *config);
      if (YAML::Node admin = top.get("admin"); admin.IsDefined()) {
        MapReader ar(ctx, admin, "admin", {"address", "redact", "worker_stall_ms"});
        ar.require("address");
        ar.readAddress("address", config->admin.address);
        ar.readUint("worker_stall_ms", config->admin.worker_stall_ms, 100, kMaxTimeoutMs);
        if (YAML::Node red = ar.get("redact"); red.IsDefined()) {
          // Replaces the default list; an operator who wants it kept lists it too.
          if (!red.IsSequence())
            ctx.error(red.Mark(), "admin: 'redact' must be a list of key names or globs");
          config->admin.redact.clear();
          for (const YAML::Node& k : red) {
            if (!k.IsScalar() || k.Scalar().empty())
              ctx.error(k.Mark(), "admin: each 'redact' entry must be a non-empty string");
            else
              config->admin.redact.push_back(k.Scalar());
          }
        }
        config->admin.enabled = !config->admin.address.text.empty();
      }
      readClusters(ctx, top, *config);
      if (!top.get("clusters").IsDefined())
        ctx.error(top.mark(), "at least one cluster is required under 'clusters'");
      readRoutes(ctx, top, *config);
      readInspection(ctx, top, *config);
      readInferenceAndRates(ctx, top, *config);
      if (YAML::Node log = top.get("logging"); log.IsDefined()) {
        MapReader lr(ctx, log, "logging", {"flow_log", "flow_log_queue_bytes"});
        lr.readString("flow_log", config->logging.flow_log);
        lr.readUint("flow_log_queue_bytes", config->logging.flow_log_queue_bytes, 4096, 1ull << 30);
        const std::string& where = config->logging.flow_log;
        if (where.empty() || (where.rfind("unix:", 0) == 0 && where.size() == 5))
          ctx.error(lr.get("flow_log").Mark(),
                    "logging: 'flow_log' must be stderr, stdout, off, syslog, unix:PATH or a "
                    "file path");
      }
      if (YAML::Node hc = top.get("host_channel"); hc.IsDefined())
        readHostChannel(ctx, hc, config->host_channel);
      if (YAML::Node at = top.get("attestation"); at.IsDefined())
        readAttestation(ctx, at, config->attestation);
      if (YAML::Node sb = top.get("sandbox"); sb.IsDefined()) readSandbox(ctx, sb, config->sandbox);
    }
  } catch (const YAML::Exception& e) {
    ctx.error(e.mark, e.msg);
  }
  if (!ctx.errors().empty()) return LoadResult{nullptr, std::move(ctx.errors())};
  config->measured = std::move(ctx.measurements());
  return LoadResult{std::move(config), {}};
}

LoadResult ConfigLoader::loadFile(const std::string& path) {
  std::string text, why;
  if (!attest::readRegularFile(path, &text, &why))
    return LoadResult{nullptr, {ConfigError{path, 0, 0, "cannot read file: " + why}}};
  return loadString(text, path);
}

}  // namespace dpuguard::proxy
