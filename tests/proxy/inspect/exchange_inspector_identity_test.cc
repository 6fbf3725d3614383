// ExchangeInspector's identities: the precedence of their sources (an mTLS peer identity set
// directly in RequestFacts, an API key, a host label, an address label), the routes' API keys
// (401 in OpenAI's shape), identity_from, and the same identity reaching policy, rate limits,
// the flow record and the graph. A real config (loader) and key file; no session or socket.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "proxy/inspect/exchange_inspector.h"
#include "proxy/loader/config_loader.h"

namespace dpuguard::proxy::inspect {
namespace {

constexpr std::string_view kOperator = "spiffe://test/ns/ops/sa/operator";
constexpr std::string_view kWorkload = "spiffe://test/ns/serving/sa/frontend";  // its certificate
constexpr std::string_view kKeyA = "dpg_team-a-key";
constexpr std::string_view kKeyB = "dpg_team-b-key";

enum Route : size_t { kKeyed, kOptional, kStrong, kOpen };

std::string keyLine(std::string_view key, std::string_view identity) {
  ApiKeyTable::Digest d{};
  EXPECT_TRUE(ApiKeyTable::digest(key, d));
  return ApiKeyTable::digestText(d) + " " + std::string(identity) + "\n";
}

class IdentityTest : public ::testing::Test {
 protected:
  IdentityTest() {
    const std::string keys = ::testing::TempDir() + "/identity_test_keys.txt";
    std::ofstream(keys) << "# test keys\n" << keyLine(kKeyA, "team-a") << keyLine(kKeyB, "team-b");
    const std::string yaml =
        "listeners: [{name: public, address: \"127.0.0.1:1\"}]\n"
        "clusters: [{name: llm, endpoints: [\"127.0.0.1:2\"]}]\n"
        "routes:\n"
        "  - {name: keyed, match: {path_prefix: /keyed}, cluster: llm, api_key: required}\n"
        "  - {name: optional, match: {path_prefix: /optional}, cluster: llm, api_key: optional}\n"
        "  - {name: strong, match: {path_prefix: /strong}, cluster: llm, api_key: optional}\n"
        "  - {name: open, match: {path_prefix: /}, cluster: llm}\n"
        "identities: [{cidr: 10.0.0.1/32, identity: \"spiffe://test/ns/ops/sa/operator\"}]\n"
        "api_keys: {file: \"" +
        keys +
        "\"}\n"
        "policy: {mode: rules, default: allow, rules: [{id: strong-only, routes: [strong],\n"
        "         identity_from: [mtls, api_key], action: allow}]}\n"
        "rate_limits: [{id: team-a-rate, identities: [team-a], rate: 1/m, burst: 1}]\n";
    const LoadResult r = ConfigLoader::loadString(yaml, "identity-test.yaml");
    if (!r.ok()) ADD_FAILURE() << r.errors[0].toString();
    config_ = r.config;
    pipeline_ = std::make_unique<Pipeline>(*config_);
    IpPrefix pods = *IpPrefix::parse("10.0.5.0/24", nullptr);
    host_ = std::make_shared<IdentityMap>(
        std::vector<IdentityLabel>{{"10.0.5.0/24", pods, "host-pod"}}, "unknown");
  }

  RequestFacts facts(const char* client, Route route, std::string_view authorization = {},
                     size_t authorizations = 1) {
    static constexpr std::string_view kNames[] = {"keyed", "optional", "strong", "open"};
    RequestFacts f;
    f.client = IpAddress::of(*SocketAddress::parse(std::string(client) + ":5000"));
    f.host_labels = host_;
    f.route = kNames[route];
    f.route_index = route;
    f.method = "GET";
    f.path = "/x";
    f.fields = "Host: test";
    f.authorization = authorization;
    f.authorizations = authorization.empty() ? 0 : authorizations;
    return f;
  }

  std::string bearer(std::string_view key) { return "Bearer " + std::string(key); }

  // One exchange's head, then its log: the verdict, and the record in `rec`.
  Verdict run(const RequestFacts& f, FlowRecord& rec) {
    in_.begin(*pipeline_);
    const Verdict v = in_.onRequestHead(f, now_, ctx_);
    in_.onLog(rec, !v.blocked(), now_, 5000, ctx_);
    in_.end(now_, buckets_);
    return v;
  }
  Verdict run(const RequestFacts& f) {
    FlowRecord rec;
    return run(f, rec);
  }

  std::shared_ptr<const Config> config_;
  std::unique_ptr<Pipeline> pipeline_;
  std::shared_ptr<const IdentityMap> host_;
  SignatureScratch scratch_;
  TokenBuckets buckets_;
  json::InferenceRequestParser requests_{1 << 20};
  json::CompletionChunkParser completions_{1 << 20};
  EdgeTable edges_;
  InspectContext ctx_{scratch_, buckets_, requests_, completions_, edges_};
  ExchangeInspector in_;
  int64_t now_ = 1000;
};

TEST_F(IdentityTest, SourcesTakePrecedenceMtlsApiKeyHostLabelAddress) {
  const std::string key = bearer(kKeyB);
  struct Case {
    RequestFacts f;
    std::string_view identity, source;
  };
  RequestFacts mtls = facts("10.0.5.7", kOptional, key);
  mtls.peer_identity = kWorkload;
  const Case cases[] = {
      {mtls, kWorkload, "mtls"},
      {facts("10.0.5.7", kOptional, key), "team-b", "api_key"},
      {facts("10.0.5.7", kOptional), "host-pod", "host_label"},
      {facts("10.0.0.1", kOptional), kOperator, "address"},
      {facts("10.9.9.9", kOptional), "unknown", "address"},
  };
  for (const Case& c : cases) {
    FlowRecord rec;
    EXPECT_FALSE(run(c.f, rec).blocked()) << c.identity;
    EXPECT_EQ(rec.identity, c.identity);
    EXPECT_EQ(rec.identity_source, c.source) << c.identity;
  }
  // The graph says where each identity came from.
  EdgeMap edges;
  RuleVerdictMap rules;
  uint64_t dropped = 0;
  edges_.mergeInto(edges, rules, dropped);
  EXPECT_EQ(edges.at({std::string(kWorkload), "optional"}).sources,
            sourceBit(IdentitySource::kMtls));
  EXPECT_EQ(edges.at({"team-b", "optional"}).sources, sourceBit(IdentitySource::kApiKey));
  EXPECT_EQ(edges.at({"host-pod", "optional"}).sources, sourceBit(IdentitySource::kHostLabel));
  EXPECT_EQ(edges.at({"unknown", "optional"}).sources, sourceBit(IdentitySource::kAddress));
}

TEST_F(IdentityTest, ARequiredKeyIsMissingMalformedUnknownOrKnown) {
  struct Case {
    RequestFacts f;
    std::string_view tag;
  };
  const std::string two = bearer(kKeyA);
  const Case refused[] = {
      {facts("10.0.0.1", kKeyed), "api_key_missing"},
      {facts("10.0.0.1", kKeyed, "Basic dXNlcjpwYXNz"), "api_key_malformed"},
      {facts("10.0.0.1", kKeyed, "Bearer"), "api_key_malformed"},
      {facts("10.0.0.1", kKeyed, two, 2), "api_key_malformed"},  // two Authorization fields
      {facts("10.0.0.1", kKeyed, "Bearer dpg_not-a-key"), "api_key_unknown"},
  };
  for (const Case& c : refused) {
    FlowRecord rec;
    const Verdict v = run(c.f, rec);
    ASSERT_TRUE(v.blocked()) << c.tag;
    EXPECT_EQ(v.status, 401);
    EXPECT_EQ(v.rule, "api_key");
    EXPECT_EQ(v.tag, c.tag);
    EXPECT_EQ(v.code, "invalid_api_key");
    EXPECT_EQ(v.error_type, "invalid_request_error");
    EXPECT_TRUE(v.param.empty());
    EXPECT_EQ(v.message.find("dpg_"), std::string_view::npos);  // never quotes the key
    EXPECT_EQ(rec.identity, kOperator);                         // who tried: its address
    EXPECT_EQ(rec.verdict, c.tag);
  }
  FlowRecord rec;
  EXPECT_FALSE(run(facts("10.0.0.1", kKeyed, "bearer  " + std::string(kKeyA)), rec).blocked());
  EXPECT_EQ(rec.identity, "team-a");
  EXPECT_EQ(rec.identity_source, "api_key");
  // A certificate does not replace the key a route requires; it still names the client.
  RequestFacts mtls = facts("10.0.0.1", kKeyed);
  mtls.peer_identity = kWorkload;
  EXPECT_EQ(run(mtls, rec).tag, "api_key_missing");
  EXPECT_EQ(rec.identity, kWorkload);
  mtls.authorization = "Bearer dpg_team-b-key";
  mtls.authorizations = 1;
  EXPECT_FALSE(run(mtls, rec).blocked());
  EXPECT_EQ(rec.identity_source, "mtls");
}

TEST_F(IdentityTest, AnOptionalKeyMayBeAbsentButNotWrong) {
  EXPECT_FALSE(run(facts("10.0.0.1", kOptional)).blocked());
  EXPECT_EQ(run(facts("10.0.0.1", kOptional, "Bearer dpg_nope")).tag, "api_key_unknown");
  EXPECT_EQ(run(facts("10.0.0.1", kOptional, "Token abc")).tag, "api_key_malformed");
}

TEST_F(IdentityTest, ARouteWithoutApiKeysLeavesAuthorizationAlone) {
  FlowRecord rec;
  EXPECT_FALSE(run(facts("10.0.0.1", kOpen, "Bearer dpg_nope"), rec).blocked());
  EXPECT_EQ(rec.identity, kOperator);
  EXPECT_EQ(run(facts("10.0.0.1", kOpen, bearer(kKeyA)), rec).tag, "allow");
  EXPECT_EQ(rec.identity_source, "address");  // not read: the upstream's header
}

TEST_F(IdentityTest, IdentityFromDeniesAddressAndHostLabelIdentities) {
  for (const char* client : {"10.0.0.1", "10.0.5.7", "10.9.9.9"}) {
    FlowRecord rec;
    const Verdict v = run(facts(client, kStrong), rec);
    ASSERT_TRUE(v.blocked()) << client;
    EXPECT_EQ(v.status, 403);
    EXPECT_EQ(v.rule, "strong-only");
    EXPECT_EQ(rec.verdict, "untrusted_identity");
  }
  EXPECT_EQ(run(facts("10.0.0.1", kStrong, bearer(kKeyB))).rule, "strong-only");
  EXPECT_FALSE(run(facts("10.0.0.1", kStrong, bearer(kKeyB))).blocked());
  RequestFacts mtls = facts("10.9.9.9", kStrong);
  mtls.peer_identity = kWorkload;
  EXPECT_FALSE(run(mtls).blocked());
}

TEST_F(IdentityTest, RateLimitsCountTheKeysIdentity) {
  // team-a may make one request a minute, wherever it comes from; the operator's address
  // identity has no limit even from the same client.
  EXPECT_FALSE(run(facts("10.0.0.1", kOptional, bearer(kKeyA))).blocked());
  const Verdict v = run(facts("10.0.0.9", kOptional, bearer(kKeyA)));
  EXPECT_EQ(v.status, 429);
  EXPECT_EQ(v.rule, "team-a-rate");
  EXPECT_FALSE(run(facts("10.0.0.1", kOptional)).blocked());
  EXPECT_FALSE(run(facts("10.0.0.1", kOptional)).blocked());
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
