// ConfigLoader: good files load into the expected snapshot; bad files give every error with
// its exact FILE:LINE:COL and a hint where one helps.
#include "proxy/loader/config_loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "proxy/inspect/signature_set.h"

namespace dpuguard::proxy {
namespace {

const char* kMinimal = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
clusters:
  - name: llm
    endpoints: ["127.0.0.1:8000"]
routes:
  - name: all
    cluster: llm
)";

// kMinimal with `top` inserted after the listeners (from line 4 on).
std::string minimalWith(const std::string& top) {
  const std::string m = kMinimal;
  const size_t clusters = m.find("clusters:");
  return m.substr(0, clusters) + top + m.substr(clusters);
}

std::string errorsOf(const std::string& yaml) {
  LoadResult r = ConfigLoader::loadString(yaml, "t.yaml");
  EXPECT_FALSE(r.ok());
  std::string s;
  for (const ConfigError& e : r.errors) s += e.toString() + "\n";
  return s;
}

TEST(ConfigLoaderTest, MinimalConfigGetsDefaults) {
  LoadResult r = ConfigLoader::loadString(kMinimal, "t.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  const Config& c = *r.config;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address.text, "127.0.0.1:8080");
  EXPECT_EQ(c.listeners[0].limits.max_header_bytes, 16384u);
  EXPECT_EQ(c.limits.max_body_bytes, 1048576u);
  EXPECT_EQ(c.workers, 0u);
  EXPECT_FALSE(c.admin.enabled);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].cluster_index, 0u);
  EXPECT_EQ(c.clusters[0].lb, LbPolicy::kRoundRobin);
  EXPECT_EQ(c.logging.flow_log, "stderr");
}

TEST(ConfigLoaderTest, InspectionKeysArePositioned) {
  const std::string y = std::string(kMinimal) + R"(identities:
  - cidr: 10.0.0.1/8
    identity: a
  - {cidr: 10.1.0.0/16}
policy:
  mode: enforse
  rules:
    - id: r1
      routes: [al]
      action: permit
)";
  EXPECT_EQ(errorsOf(y),
            "t.yaml:11:11: identity 'a': '10.0.0.1/8' has host bits set after /8\n"
            "t.yaml:13:5: identity #2 is missing required key 'identity'\n"
            "t.yaml:15:9: 'mode' must be off, rules, learn or enforce, got 'enforse' (did you mean "
            "'enforce'?)\n"
            "t.yaml:18:16: rule 'r1': unknown route 'al' (did you mean 'all'?)\n"
            "t.yaml:19:15: 'action' must be allow or deny, got 'permit'\n");
  const std::string enforce =
      std::string(kMinimal) + "policy: {mode: enforce, baseline_file: /nonexistent/edges}\n";
  EXPECT_EQ(errorsOf(enforce),
            "t.yaml:10:40: policy: cannot read baseline_file '/nonexistent/edges': No such file or "
            "directory (run with mode learn first to write it)\n");
}

TEST(ConfigLoaderTest, InferenceAndRateLimitKeysArePositioned) {
  const std::string y = std::string(kMinimal) + R"(inference:
  routes: [all, chat]
  models: {m1: llmm}
  limits:
    - identities: "*"
      models: [m2]
      max_tokens: 0
rate_limits:
  - id: r
    rate: 10/d
  - id: r
    rate: 5/s
    routes: [nope]
)";
  EXPECT_EQ(errorsOf(y),
            "t.yaml:11:17: inference: unknown route 'chat'\n"
            "t.yaml:12:16: inference: model 'm1': unknown cluster 'llmm' (did you mean 'llm'?)\n"
            "t.yaml:15:16: inference limit #1: model 'm2' is not under inference.models, so no "
            "request for it can pass\n"
            "t.yaml:16:19: 'max_tokens' must be between 1 and 16777216, got 0\n"
            "t.yaml:19:11: rate limit 'r': 'rate' must be COUNT/UNIT with a COUNT of 1 or more and "
            "UNIT s, m or h (\"10/s\", \"600/m\"), got '10/d'\n"
            "t.yaml:22:14: rate limit 'r': unknown route 'nope'\n"
            "t.yaml:20:5: duplicate rate limit id 'r'\n");
  LoadResult ok = ConfigLoader::loadString(
      std::string(kMinimal) +
          "inference: {routes: [all], models: {m1: llm}}\n"
          "rate_limits: [{id: r, rate: 600/m, burst: 20, per_route: true}]\n",
      "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.errors[0].toString();
  EXPECT_EQ(ok.config->inspect.inference.route_indexes.at(0), 0u);
  EXPECT_EQ(ok.config->inspect.rate_limits.at(0).rate.amount, 600u);
  EXPECT_EQ(ok.config->inspect.rate_limits.at(0).rate.period_ms, 60000u);
  EXPECT_TRUE(ok.config->inspect.rate_limits.at(0).per_route);
}

// Whether this loader takes signature rules on streamed answers (`where: [completion]`).
bool loaderHasCompletionRules() {
  const std::string rules = testing::TempDir() + "completion-probe-rules.yaml";
  std::ofstream(rules) << "rules:\n  - {id: probe, pattern: AKIA, where: [completion], action: "
                          "block, severity: high}\n";
  LoadResult r =
      ConfigLoader::loadString(minimalWith("signatures: {files: [" + rules + "]}\n"), "t.yaml");
  std::remove(rules.c_str());
  return r.ok();
}

// An example, as scripts/demo runs it: demo.yaml lists config/rules/completion.yaml (rules with
// `where: [completion]`); a loader without those rules gets the file without that line.
LoadResult loadExample(const std::string& path) {
  if (path.find("/demo.yaml") == std::string::npos || loaderHasCompletionRules())
    return ConfigLoader::loadFile(path);
  std::ifstream in(path);
  std::stringstream out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("rules/completion.yaml") == std::string::npos) out << line << "\n";
  }
  return ConfigLoader::loadString(out.str(), path);
}

TEST(ConfigLoaderTest, FaultKeysLoad) {
  const std::string yaml = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
admin:
  address: 127.0.0.1:9901
  redact: [key, "*pass*"]
  worker_stall_ms: 2000
max_connections: 500
limits:
  lingering_time_ms: 3000
  lingering_bytes: 1000000
clusters:
  - name: llm
    endpoints: ["127.0.0.1:8000"]
    max_ejection_percent: 30
    fallback: [spare]
    health_check: {path: /health, interval_ms: 1000, timeout_ms: 200, healthy_threshold: 1, unhealthy_threshold: 4}
  - name: spare
    endpoints: ["127.0.0.1:8001"]
routes:
  - name: all
    cluster: llm
logging:
  flow_log: unix:/run/ship.sock
  flow_log_queue_bytes: 65536
)";
  LoadResult r = ConfigLoader::loadString(yaml, "t.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  const Config& c = *r.config;
  EXPECT_EQ(c.admin.redact, (std::vector<std::string>{"key", "*pass*"}));
  EXPECT_EQ(c.admin.worker_stall_ms, 2000u);
  EXPECT_EQ(c.max_connections, 500u);
  EXPECT_EQ(c.listeners[0].limits.lingering_time_ms, 3000u);
  EXPECT_EQ(c.listeners[0].limits.lingering_bytes, 1000000u);
  EXPECT_EQ(c.clusters[0].max_ejection_percent, 30u);
  EXPECT_EQ(c.clusters[0].fallback_indexes, (std::vector<size_t>{1}));
  EXPECT_TRUE(c.clusters[0].health_check.enabled);
  EXPECT_EQ(c.clusters[0].health_check.unhealthy_threshold, 4u);
  EXPECT_FALSE(c.clusters[1].health_check.enabled);
  EXPECT_EQ(c.logging.flow_log_queue_bytes, 65536u);
}

TEST(ConfigLoaderTest, FaultKeyErrorsArePositioned) {
  const std::string base = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
clusters:
  - name: llm
    endpoints: ["127.0.0.1:8000"]
    fallback: [spair, llm]
    health_check: {path: health, interval_ms: 100, timeout_ms: 500}
routes:
  - name: all
    cluster: llm
)";
  const std::string e = errorsOf(base);
  EXPECT_NE(e.find("t.yaml:7:15: cluster 'llm': unknown fallback cluster 'spair'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("cannot be its own fallback"), std::string::npos) << e;
  EXPECT_NE(e.find("'path' must start with '/'"), std::string::npos) << e;
  EXPECT_NE(e.find("'timeout_ms' must be shorter than 'interval_ms'"), std::string::npos) << e;
}

TEST(ConfigLoaderTest, NamesHoldNoControlOrQuoteBytes) {
  const std::string bad =
      "listeners:\n  - name: \"a\\\"b\\nc\"\n    address: 127.0.0.1:8080\n"
      "clusters:\n  - name: \"up\\u0000\"\n    endpoints: [\"127.0.0.1:8000\"]\n"
      "routes:\n  - name: \"all routes\"\n    cluster: up\n";
  const std::string e = errorsOf(bad);
  EXPECT_NE(e.find("t.yaml:2:11: 'name' must be 1-128 letters, digits and . _ - : / @"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:5:11: 'name' must be"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:8:11: 'name' must be"), std::string::npos) << e;
}

TEST(ConfigLoaderTest, ShippedExamplesLoad) {
  for (const char* name :
       {"demo.yaml", "inference-gateway.yaml", "host-backend.yaml", "secure-inference.yaml"}) {
    const std::string path = std::string(DPUGUARD_SOURCE_DIR) + "/config/examples/" + name;
    LoadResult r = loadExample(path);
    ASSERT_TRUE(r.ok()) << name << ": " << (r.errors.empty() ? "" : r.errors[0].toString());
    // Ports users rely on in every example.
    EXPECT_EQ(r.config->listeners[0].address.text, "127.0.0.1:8080") << name;
    EXPECT_EQ(r.config->admin.address.text, "127.0.0.1:9901") << name;
    EXPECT_EQ(r.config->clusters[0].endpoints[0].text, "127.0.0.1:8000") << name;
  }
  LoadResult gw = ConfigLoader::loadFile(std::string(DPUGUARD_SOURCE_DIR) +
                                         "/config/examples/inference-gateway.yaml");
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(gw.config->clusters[0].lb, LbPolicy::kLeastRequest);
  EXPECT_EQ(gw.config->routes[0].match.headers.at(0).name, "x-dpuguard-canary");
  EXPECT_EQ(gw.config->routes[3].max_body_bytes, 8388608u);
}

TEST(ConfigLoaderTest, UnknownKeyHasPositionAndHint) {
  std::string y = kMinimal;
  y += "loging:\n  flow_log: off\n";
  EXPECT_EQ(errorsOf(y),
            "t.yaml:10:1: unknown key 'loging' in the top level (did you mean 'logging'?)\n");
}

TEST(ConfigLoaderTest, NestedUnknownKey) {
  std::string y = kMinimal;
  y.replace(y.find("address:"), 8, "adress:");
  const std::string e = errorsOf(y);
  EXPECT_NE(e.find("t.yaml:3:5: unknown key 'adress' in listener #1 (did you mean 'address'?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:2:5: listener #1 is missing required key 'address'"), std::string::npos)
      << e;
}

TEST(ConfigLoaderTest, BadValuesPointAtTheValue) {
  const std::string y = R"(listeners:
  - name: public
    address: 127.0.0.1:99999
limits:
  max_headers: lots
  max_body_bytes: -1
clusters:
  - name: llm
    endpoints: ["localhost:8000", "host://Inference/x"]
    lb: random
routes:
  - name: all
    match: {path_prefix: v1/, methods: [get]}
    cluster: lm
)";
  const std::string e = errorsOf(y);
  EXPECT_NE(
      e.find("t.yaml:3:14: 'address': '127.0.0.1:99999' port must be a number from 0 to 65535"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:5:16: 'max_headers' must be a whole number, got 'lots'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:6:19: 'max_body_bytes' must be a whole number, got '-1'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:9:17: endpoint 'localhost:8000': not a numeric IPv4 address"),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find("t.yaml:9:35: endpoint 'host://Inference/x': a host backend name is 1-64 of a-z"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:10:9: 'lb' must be round_robin or least_request, got 'random'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:13:26: 'path_prefix' must start with '/'"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:13:41: method 'get' must be an upper-case token"), std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:14:14: route 'all': unknown cluster 'lm' (did you mean 'llm'?)"),
            std::string::npos)
      << e;
}

TEST(ConfigLoaderTest, RangesAndDuplicates) {
  const std::string y = R"(listeners:
  - {name: a, address: 127.0.0.1:8080}
  - {name: a, address: 127.0.0.1:8080}
limits:
  max_headers: 1000
clusters:
  - {name: llm, endpoints: ["127.0.0.1:8000"]}
routes:
  - {name: r, cluster: llm}
  - {name: r, cluster: llm}
)";
  const std::string e = errorsOf(y);
  EXPECT_NE(e.find("t.yaml:5:16: 'max_headers' must be between 1 and 256, got 1000"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:3:5: duplicate listener name 'a'"), std::string::npos) << e;
  EXPECT_NE(e.find("use the same address 127.0.0.1:8080"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:10:5: duplicate route name 'r'"), std::string::npos) << e;
}

TEST(ConfigLoaderTest, RouteLimitsTightenParserLimitsButNotTheHeaderTimeout) {
  std::string y = kMinimal;
  y += "    limits: {max_headers: 5, max_trailer_bytes: 100, header_timeout_ms: 5}\n";
  // The header timeout runs before a route is known: not a route key.
  EXPECT_NE(errorsOf(y).find("t.yaml:10:54: unknown key 'header_timeout_ms' in route 'all' limits"),
            std::string::npos)
      << errorsOf(y);
  EXPECT_EQ(errorsOf(y).find("max_trailer_bytes"), std::string::npos);
  std::string ok = kMinimal;
  ok += "    limits: {max_headers: 5, max_trailer_bytes: 100}\n";
  LoadResult r = ConfigLoader::loadString(ok, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_EQ(r.config->routes[0].limits.max_headers, 5u);
  EXPECT_EQ(r.config->routes[0].limits.max_trailer_bytes, 100u);
  EXPECT_EQ(r.config->routes[0].limits.max_uri_bytes, UINT32_MAX);  // not set: no extra bound
}

// A route's canaries become blocking completion signatures of that route only, compiled into
// the snapshot's set (with the rule files' ones, or alone).
TEST(ConfigLoaderTest, RouteCanariesAreCompletionSignaturesOfTheirRoute) {
  std::string y = kMinimal;
  y += "    canaries: [\"CANARY-7f3a-9b21\", 'sys-prompt-canary-2']\n";
  y += "  - name: other\n    cluster: llm\n";
  LoadResult r = ConfigLoader::loadString(y, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_EQ(r.config->routes[0].canaries.size(), 2u);
  const auto& set = r.config->inspect.signatures.set;
  ASSERT_NE(set, nullptr);
  ASSERT_EQ(set->signatures().size(), 2u);
  EXPECT_EQ(set->signatures()[1].id, "dpg-leak-all-2");
  EXPECT_EQ(set->signatures()[1].route, 0);
  EXPECT_EQ(set->signatures()[1].severity, "critical");
  EXPECT_TRUE(set->scans(inspect::Where::kCompletion));
  EXPECT_FALSE(set->scans(inspect::Where::kBody));
  EXPECT_TRUE(set->scansCompletion(0));
  EXPECT_FALSE(set->scansCompletion(1));
  // Without canaries or signatures there is no set at all.
  EXPECT_EQ(ConfigLoader::loadString(kMinimal, "t.yaml").config->inspect.signatures.set, nullptr);

  std::string bad = kMinimal;
  bad +=
      "    canaries: [short, \"CANARY-7f3a-9b21\", \"CANARY-7f3a-9b21\", [x], \"tab\\tcanary\"]\n";
  const std::string e = errorsOf(bad);
  const std::string what = "route 'all' canaries: ";
  EXPECT_NE(e.find("t.yaml:10:16: " + what + "each must be a string of 8-256 bytes, got 5 bytes"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:10:43: " + what + "listed twice"), std::string::npos) << e;
  EXPECT_NE(
      e.find("t.yaml:10:63: " + what + "each must be a string of 8-256 bytes, got a non-string"),
      std::string::npos)
      << e;
  EXPECT_NE(e.find(what + "control characters are not allowed"), std::string::npos) << e;
  EXPECT_EQ(e.find("CANARY-7f3a"), std::string::npos) << "a canary is a secret: " << e;
  for (const char* spacey : {"\"        \"", "\" CANARY-7f3a\"", "\"a  b  c  d\""}) {
    EXPECT_NE(errorsOf(std::string(kMinimal) + "    canaries: [" + spacey + "]\n")
                  .find(what + "must not start or end with a space, nor be mostly spaces"),
              std::string::npos)
        << spacey;
  }
  EXPECT_NE(
      errorsOf(std::string(kMinimal) + "    canaries: [!!binary \"Q0FOQVJZLTdmM2EtOWIyMQ==\"]\n")
          .find(what + "each must be a plain string (no YAML tag)"),
      std::string::npos);
  EXPECT_NE(errorsOf(std::string(kMinimal) + "    canaries: []\n")
                .find("t.yaml:10:15: " + what + "must be a list of 1-64 strings"),
            std::string::npos);
}

TEST(ConfigLoaderTest, PathNormalizationPerListener) {
  std::string y = kMinimal;
  const std::string listener = "    address: 127.0.0.1:8080\n";
  y.replace(
      y.find(listener), listener.size(),
      listener + "    path_normalization: {merge_slashes: true, escaped_slashes: unescape}\n");
  LoadResult r = ConfigLoader::loadString(y, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_TRUE(r.config->listeners[0].path_normalization.merge_slashes);
  EXPECT_EQ(r.config->listeners[0].path_normalization.escaped_slashes,
            uri::EscapedSlashAction::kUnescape);
  std::string bad = kMinimal;
  bad.replace(bad.find(listener), listener.size(),
              listener + "    path_normalization: {escaped_slashes: decode}\n");
  EXPECT_NE(errorsOf(bad).find("'escaped_slashes' must be reject, keep or unescape, got 'decode'"),
            std::string::npos)
      << errorsOf(bad);
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasPosition) {
  const std::string e = errorsOf("listeners:\n  - name: [unclosed\n");
  EXPECT_EQ(e.rfind("t.yaml:", 0), 0u);
  EXPECT_NE(e.find(":3:"), std::string::npos) << e;
}

TEST(ConfigLoaderTest, EmptyAndMissingFile) {
  EXPECT_NE(errorsOf("").find("the file is empty"), std::string::npos);
  LoadResult r = ConfigLoader::loadFile("/nonexistent/dpuguard.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].toString(),
            "/nonexistent/dpuguard.yaml:0:0: cannot read file: No such file or directory");
}

TEST(ConfigLoaderTest, EditDistance) {
  EXPECT_EQ(editDistance("listners", "listeners"), 1u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("same", "same"), 0u);
}

TEST(ConfigLoaderTest, HostEndpointsAndHostChannel) {
  const std::string good = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
host_channel:
  socket_dir: /tmp/dpuguard-test
  ring_slots: 128
clusters:
  - name: host-llm
    endpoints: ["host://inference"]
routes:
  - name: all
    cluster: host-llm
)";
  auto r = ConfigLoader::loadString(good, "t.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].message);
  const Endpoint& ep = r.config->clusters[0].endpoints[0];
  EXPECT_EQ(ep.kind, Endpoint::Kind::kHost);
  EXPECT_EQ(ep.backend, "inference");
  EXPECT_EQ(ep.text, "host://inference");
  EXPECT_EQ(r.config->host_channel.socket_dir, "/tmp/dpuguard-test");
  EXPECT_EQ(r.config->host_channel.ring_slots, 128u);
  const std::string bad = R"(listeners:
  - name: public
    address: 127.0.0.1:8080
host_channel:
  ring_slots: 100
  ring_slot_bytes: 1000
  stall_ms: 5
clusters:
  - name: c
    endpoints: ["host://"]
routes:
  - name: all
    cluster: c
)";
  const std::string e = errorsOf(bad);
  EXPECT_NE(e.find("t.yaml:7:3: unknown key 'stall_ms' in host_channel"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:6:20: 'ring_slot_bytes' must be between 1024"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:5:3: host_channel: 'ring_slots' must be a power of two, got 100"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:10:17: endpoint 'host://': a host backend name"), std::string::npos)
      << e;
}

TEST(ConfigLoaderTest, EndpointsAreResolvedOnceWithPositionedErrors) {
  std::string y = kMinimal;
  const std::string eps = R"(endpoints: ["127.0.0.1:8000"])";
  y.replace(y.find(eps), eps.size(),
            R"(endpoints: ["[::1]:8001", "host://llm", "127.0.0.1:8000"])");
  LoadResult r = ConfigLoader::loadString(y, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  const std::vector<Endpoint>& got = r.config->clusters[0].endpoints;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(got[0].address.port(), 8001);
  EXPECT_EQ(got[1].kind, Endpoint::Kind::kHost);
  EXPECT_EQ(got[1].authority(), "llm");
  EXPECT_EQ(got[2].address.text, "127.0.0.1:8000");
  std::string bad = kMinimal;
  bad.replace(bad.find(eps), eps.size(), R"(endpoints: ["127.0.0.1:8000", {host: x}, "10.0.0.1"])");
  EXPECT_EQ(errorsOf(bad),
            "t.yaml:6:35: cluster 'llm': an endpoint must be HOST:PORT or host://NAME\n"
            "t.yaml:6:46: endpoint '10.0.0.1': expected HOST:PORT\n");
}

TEST(ConfigLoaderTest, HostLabelsAreDelegatedNetworks) {
  const std::string good = minimalWith(R"(host_channel:
  labels:
    from: labeler
    within: [10.0.0.0/8, "fd00::/8"]
    max_labels: 64
)");
  auto r = ConfigLoader::loadString(good, "t.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].toString());
  const HostLabelsConfig& l = r.config->host_channel.labels;
  EXPECT_EQ(l.from, "labeler");
  ASSERT_EQ(l.within.size(), 2u);
  EXPECT_EQ(l.within[1].bits, 8);
  EXPECT_EQ(l.max_labels, 64u);
  const std::string bad = minimalWith(R"(host_channel:
  labels:
    from: Labeler
    within: [10.0.0.1/8, 10.0.0.0/8]
    max_labels: 0
    ttl: 5
)");
  const std::string e = errorsOf(bad);
  EXPECT_NE(e.find("t.yaml:6:11: host_channel.labels: 'from' must be a host backend name"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:7:14: host_channel.labels: 'within' entry '10.0.0.1/8': "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:8:17: 'max_labels' must be between 1"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:9:5: unknown key 'ttl' in host_channel.labels"), std::string::npos) << e;
  const std::string missing = minimalWith(R"(host_channel:
  labels:
    from: labeler
)");
  EXPECT_NE(
      errorsOf(missing).find("t.yaml:6:5: host_channel.labels is missing required key 'within'"),
      std::string::npos)
      << errorsOf(missing);
}

}  // namespace
}  // namespace dpuguard::proxy
