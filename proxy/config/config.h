// The configuration snapshot: plain aggregates with their defaults, built once by
// ConfigLoader and then shared immutably (std::shared_ptr<const Config>) by every worker.
// Key names are the contract of ../shared/CONFIG.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attest/device_key.h"
#include "attest/measurement_log.h"
#include "parsers/http1/limits.h"
#include "parsers/uri/path_normalizer.h"
#include "proxy/config/endpoint.h"
#include "proxy/config/enum_names.h"
#include "proxy/config/inspect_config.h"
#include "proxy/config/tls_config.h"
#include "proxy/core/socket_address.h"
#include "sandbox/process_sandbox.h"

namespace dpuguard::proxy {

struct LimitsConfig {
  uint32_t max_header_bytes = 16384;
  uint32_t max_headers = 100;
  uint32_t max_uri_bytes = 8192;
  uint32_t max_header_name_bytes = 256;
  uint32_t max_header_value_bytes = 8192;
  uint32_t max_chunk_ext_bytes = 256;
  uint32_t max_trailer_bytes = 4096;
  uint64_t max_body_bytes = 1048576;  // 413 beyond
  // From accept, and from the end of the previous exchange on keep-alive, to the end of a
  // request head: 408 (a keep-alive connection that sent nothing is closed without one).
  uint32_t header_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 60000;  // no byte in either direction
  // The lingering close after a reply that ends a connection while request bytes may still
  // come (nginx's lingering_time): read and drop for at most this long and this many bytes,
  // and stop once nothing has come for kLingerIdleMs.
  uint32_t lingering_time_ms = 5000;
  uint64_t lingering_bytes = 64ull << 20;

  http1::Limits parserLimits() const {
    return {max_header_bytes,       max_headers,         max_uri_bytes,    max_header_name_bytes,
            max_header_value_bytes, max_chunk_ext_bytes, max_trailer_bytes};
  }
};

// How request paths are normalized before routing (parsers/uri/path_normalizer.h).
using PathNormalizationConfig = uri::NormalizeOptions;
inline constexpr EnumName<uri::EscapedSlashAction> kEscapedSlashNames[] = {
    {"reject", uri::EscapedSlashAction::kReject},
    {"keep", uri::EscapedSlashAction::kKeep},
    {"unescape", uri::EscapedSlashAction::kUnescape},
};

struct ListenerConfig {
  std::string name;
  SocketAddress address;
  LimitsConfig limits;  // the top-level limits, overridden by the listener's own `limits`
  PathNormalizationConfig path_normalization;
  ListenerTlsConfig tls;
};

struct AdminConfig {
  bool enabled = false;
  SocketAddress address;
  // /config renders every config key whose name matches one of these (case-insensitive glob
  // over the whole name or one of its `_`-separated words) as "[redacted]"; header-match
  // values always are.
  std::vector<std::string> redact = {"key",         "apikey",        "token",
                                     "secret*",     "password",      "passwd",
                                     "credential*", "authorization", "cookie"};
  // /healthz answers 503 when a worker's event loop has not turned for this long.
  uint32_t worker_stall_ms = 5000;
};

// clusters[].health_check: an HTTP GET sent to every endpoint every `interval_ms` by the
// process's health checker; a 2xx within `timeout_ms` is a pass. An endpoint turns unhealthy
// after `unhealthy_threshold` failures in a row and healthy again after `healthy_threshold`
// passes in a row. Unhealthy endpoints get no requests while a healthy one is left.
struct HealthCheckConfig {
  bool enabled = false;
  std::string path = "/health";
  std::string host;  // Host header; empty = the endpoint's address
  uint32_t interval_ms = 5000;
  uint32_t timeout_ms = 1000;
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;
};

enum class LbPolicy : uint8_t { kRoundRobin, kLeastRequest };
inline constexpr EnumName<LbPolicy> kLbPolicyNames[] = {
    {"round_robin", LbPolicy::kRoundRobin},
    {"least_request", LbPolicy::kLeastRequest},
};

struct ClusterConfig {
  std::string name;
  std::vector<Endpoint> endpoints;  // TCP addresses and host://NAME backends, resolved
  LbPolicy lb = LbPolicy::kRoundRobin;
  uint32_t connect_timeout_ms = 1000;
  uint32_t max_idle_connections = 64;  // per endpoint and worker, kept for reuse
  uint32_t eject_after_failures = 5;   // consecutive connect failures / resets / 5xx-less errors
  uint32_t eject_ms = 10000;           // how long an ejected endpoint sits out
  // Passive ejection never takes out more than this share of the endpoints, and never the
  // last one left (Envoy's max_ejection_percent); 100 lets every endpoint go (then 503).
  uint32_t max_ejection_percent = 50;
  HealthCheckConfig health_check;
  // Clusters tried in order when this one refuses a request (429 or 503 before any response
  // byte went to the client, or the connect fails) and the request can be sent again.
  std::vector<std::string> fallback;
  std::vector<size_t> fallback_indexes;  // resolved by the loader
  ClusterTlsConfig tls;
};

struct HeaderMatch {
  std::string name;
  std::string value;  // exact value; empty with `present` = only presence is required
  bool present_only = false;
};

struct RouteMatch {
  std::string path_prefix;           // empty = any
  std::string path_exact;            // empty = not used
  std::string host;                  // empty = any; compared without port, case-insensitively
  std::vector<std::string> methods;  // empty = any
  std::vector<HeaderMatch> headers;
};

struct RouteConfig {
  std::string name;
  RouteMatch match;
  std::string cluster;
  size_t cluster_index = 0;      // index into Config::clusters, resolved by the loader
  uint32_t timeout_ms = 0;       // whole exchange; 0 = none (streams); idle timeout still applies
  uint64_t max_body_bytes = 0;   // 0 = the listener's limit
  uint32_t idle_timeout_ms = 0;  // 0 = the listener's limit
  // Parser limits this route tightens; checked after routing (head) or from then on (body).
  http1::Limits limits = http1::Limits::unbounded();
  // Strings that must never appear in an answer on this route (planted in its system prompt):
  // each is a blocking `completion` signature of this route, dpg-leak-<name>-<n>, compiled
  // into the snapshot's SignatureSet. Literal, case-sensitive, kMinCanaryBytes..kMaxCanaryBytes.
  std::vector<std::string> canaries;
  static constexpr size_t kMinCanaryBytes = 8;  // shorter ones would cut ordinary answers
  static constexpr size_t kMaxCanaryBytes = 256;
  static constexpr size_t kMaxCanaries = 64;
  // API keys (api_keys.file): whether this route reads `Authorization: Bearer KEY`, and
  // whether the header then goes on upstream (by default it is removed).
  ApiKeyMode api_key = ApiKeyMode::kOff;
  bool pass_api_key = false;
};

// The shared-memory host channel (SHM_DESIGN.md): where `host://NAME` endpoints are found
// (dpuguard-host listens on SOCKET_DIR/NAME.sock) and the shape of the rings each worker opens.
// host_channel.labels: a host backend whose IdentityLabel messages label client networks at
// runtime, inside the networks delegated to it here. Each worker keeps a channel to it open.
struct HostLabelsConfig {
  std::string from;              // a host backend name; empty = no runtime labels
  std::vector<IpPrefix> within;  // a label must lie inside one of these (required with `from`)
  uint32_t max_labels = 4096;    // per worker; labels past it are refused
};

struct HostChannelConfig {
  std::string socket_dir = "/run/dpuguard";
  uint32_t ring_slots = 256;         // per direction; a power of two
  uint32_t ring_slot_bytes = 16384;  // largest message + 16; a multiple of 64
  uint32_t stall_timeout_ms = 2000;  // a host that shows no progress this long is torn down
  uint32_t handshake_timeout_ms = 500;
  std::string events;  // a host backend name: every exchange's flow event also goes there
  HostLabelsConfig labels;
};

struct LoggingConfig {
  // "stderr", "stdout", "off", "syslog" (/dev/log), "unix:PATH" (a datagram socket, one line
  // per datagram) or a file path. Written by a writer thread, never by a worker.
  std::string flow_log = "stderr";
  // Per worker: lines waiting for the writer beyond this are dropped and counted.
  uint64_t flow_log_queue_bytes = 4u << 20;
};

// attestation: the device key that signs quotes (GET /attestation, ATTESTATION.md). Without
// it the process still measures itself (the flow log's measurement id) but signs nothing.
struct AttestationConfig {
  std::string key_file;                          // as resolved; PEM Ed25519, mode 0600
  std::shared_ptr<const attest::DeviceKey> key;  // loaded with each snapshot; null: none
};

// sandbox: {mode: off|audit|enforce, user, group} (sandbox/process_sandbox.h). Taken at
// start-up only; a reload that changes it logs that the change waits for a restart.
inline constexpr EnumName<sandbox::Mode> kSandboxModeNames[] = {
    {"off", sandbox::Mode::kOff},
    {"audit", sandbox::Mode::kAudit},
    {"enforce", sandbox::Mode::kEnforce},
};

struct Config {
  std::string source;  // file it was loaded from
  std::vector<ListenerConfig> listeners;
  AdminConfig admin;
  uint32_t workers = 0;  // 0 = one per core
  // Per worker: at this many open client connections the worker stops accepting until one
  // closes; new connections wait in the kernel's listen queue meanwhile.
  uint32_t max_connections = 16384;
  LimitsConfig limits;
  std::vector<ClusterConfig> clusters;
  std::vector<RouteConfig> routes;
  LoggingConfig logging;
  HostChannelConfig host_channel;
  uint32_t drain_timeout_ms = 30000;  // SIGTERM: time in-flight requests get to finish
  InspectConfig inspect;              // identities and policy
  AttestationConfig attestation;
  sandbox::SandboxSettings sandbox;
  // What the loader read to build this snapshot, in the order it read it: the config's
  // canonical form, then the API-key file, the baseline and the rule files (the bytes it
  // parsed, not a second read). The snapshot's measurement log is built from it.
  std::vector<attest::Measurement> measured;
};

}  // namespace dpuguard::proxy
