// PolicyEngine: first matching rule wins, then the default; shadow rules tag and never
// decide; enforce mode blocks (or alerts on) edges missing from the baseline.
#include "proxy/inspect/policy_engine.h"

#include <gtest/gtest.h>

namespace dpuguard::proxy::inspect {
namespace {

PolicyRule rule(std::string id, std::vector<std::string> identities,
                std::vector<std::string> routes, RuleAction action, bool shadow = false) {
  PolicyRule r;
  r.id = std::move(id);
  r.identities = std::move(identities);
  r.routes = std::move(routes);
  r.action = action;
  r.shadow = shadow;
  return r;
}

PolicyInput in(std::string_view identity, std::string_view route, std::string_view method = "GET",
               std::string_view path = "/v1/chat/completions") {
  return {identity, route, method, path};
}

TEST(PolicyEngineTest, FirstMatchThenDefault) {
  PolicyConfig c;
  c.mode = PolicyMode::kRules;
  c.rules = {rule("a", {"nb"}, {"chat"}, RuleAction::kAllow),
             rule("b", {}, {"chat"}, RuleAction::kDeny)};
  PolicyEngine p(c, nullptr);
  EXPECT_EQ(p.decide(in("nb", "chat")).rule, "a");
  EXPECT_FALSE(p.decide(in("nb", "chat")).blocked());
  const Verdict v = p.decide(in("other", "chat"));
  EXPECT_TRUE(v.blocked());
  EXPECT_EQ(v.status, 403);
  EXPECT_EQ(v.rule, "b");
  EXPECT_EQ(p.decide(in("nb", "admin")).rule, "default");  // default deny
  EXPECT_TRUE(p.decide(in("nb", "admin")).blocked());
  c.default_action = RuleAction::kAllow;
  EXPECT_FALSE(p.decide(in("nb", "admin")).blocked());
}

TEST(PolicyEngineTest, MethodAndPathPrefixNarrowARule) {
  PolicyConfig c;
  c.mode = PolicyMode::kRules;
  PolicyRule r = rule("emb", {}, {}, RuleAction::kAllow);
  r.methods = {"POST"};
  r.path_prefix = "/v1/embeddings";
  c.rules = {r};
  PolicyEngine p(c, nullptr);
  EXPECT_FALSE(p.decide(in("x", "any", "POST", "/v1/embeddings")).blocked());
  EXPECT_TRUE(p.decide(in("x", "any", "GET", "/v1/embeddings")).blocked());
  EXPECT_TRUE(p.decide(in("x", "any", "POST", "/v1/embedding")).blocked());
}

TEST(PolicyEngineTest, ShadowDenyTagsButDoesNotDecide) {
  PolicyConfig c;
  c.mode = PolicyMode::kRules;
  c.default_action = RuleAction::kAllow;
  c.rules = {rule("soon", {}, {"admin"}, RuleAction::kDeny, true)};
  PolicyEngine p(c, nullptr);
  const Verdict v = p.decide(in("x", "admin"));
  EXPECT_FALSE(v.blocked());
  EXPECT_EQ(v.rule, "soon");
  EXPECT_EQ(v.tag, "shadow_deny");
  // A real deny still wins over the shadow tag.
  c.rules.push_back(rule("now", {}, {"admin"}, RuleAction::kDeny));
  EXPECT_TRUE(p.decide(in("x", "admin")).blocked());
  EXPECT_EQ(p.decide(in("x", "admin")).rule, "now");
}

TEST(PolicyEngineTest, EnforceBlocksOrAlertsOnEdgesMissingFromTheBaseline) {
  std::vector<ConfigError> errors;
  auto baseline = std::make_shared<EdgeBaseline>(EdgeBaseline::parse("nb chat\n", "b", &errors));
  ASSERT_TRUE(errors.empty());
  PolicyConfig c;
  c.mode = PolicyMode::kEnforce;
  c.default_action = RuleAction::kAllow;
  PolicyEngine p(c, baseline);
  EXPECT_FALSE(p.decide(in("nb", "chat")).blocked());
  Verdict v = p.decide(in("nb", "admin"));
  EXPECT_TRUE(v.blocked());
  EXPECT_EQ(v.tag, "unknown_edge");
  c.unknown_edge_block = false;
  v = p.decide(in("nb", "admin"));
  EXPECT_FALSE(v.blocked());
  EXPECT_EQ(v.tag, "unknown_edge");
  // A policy deny comes before the baseline.
  c.default_action = RuleAction::kDeny;
  EXPECT_EQ(p.decide(in("nb", "admin")).tag, "deny");
}

PolicyInput from(IdentitySource source, std::string_view route = "chat") {
  PolicyInput i = in("spiffe://c/ns/a/sa/b", route);
  i.source = source;
  return i;
}

TEST(PolicyEngineTest, IdentityFromDeniesIdentitiesFromOtherSourcesByThatRule) {
  PolicyConfig c;
  c.mode = PolicyMode::kRules;
  c.default_action = RuleAction::kAllow;
  PolicyRule strong = rule("chat-strong", {}, {"chat"}, RuleAction::kAllow);
  strong.identity_from = kCryptographicSources;
  c.rules = {strong};
  PolicyEngine p(c, nullptr);
  EXPECT_FALSE(p.decide(from(IdentitySource::kMtls)).blocked());
  EXPECT_FALSE(p.decide(from(IdentitySource::kApiKey)).blocked());
  for (IdentitySource weak : {IdentitySource::kAddress, IdentitySource::kHostLabel}) {
    // The rule matched: its allow does not apply, and the default (allow) is not reached.
    const Verdict v = p.decide(from(weak));
    EXPECT_TRUE(v.blocked());
    EXPECT_EQ(v.status, 403);
    EXPECT_EQ(v.rule, "chat-strong");
    EXPECT_EQ(v.tag, "untrusted_identity");
  }
  // A route the rule does not match is not its business.
  EXPECT_FALSE(p.decide(from(IdentitySource::kAddress, "admin")).blocked());
  // A deny rule denies whatever the source; with identity_from it is still a plain deny.
  c.rules[0].action = RuleAction::kDeny;
  EXPECT_EQ(p.decide(from(IdentitySource::kMtls)).tag, "deny");
  EXPECT_EQ(p.decide(from(IdentitySource::kAddress)).tag, "untrusted_identity");
}

TEST(PolicyEngineTest, AShadowIdentityFromRuleOnlyTagsWouldDeny) {
  PolicyConfig c;
  c.mode = PolicyMode::kRules;
  c.default_action = RuleAction::kAllow;
  PolicyRule soon = rule("mtls-soon", {}, {"chat"}, RuleAction::kAllow, true);
  soon.identity_from = sourceBit(IdentitySource::kMtls);
  c.rules = {soon};
  PolicyEngine p(c, nullptr);
  Verdict v = p.decide(from(IdentitySource::kApiKey));
  EXPECT_FALSE(v.blocked());
  EXPECT_EQ(v.rule, "mtls-soon");
  EXPECT_EQ(v.tag, "shadow_deny");
  v = p.decide(from(IdentitySource::kMtls));
  EXPECT_EQ(v.tag, "allow");  // a trusted source: the shadow allow says nothing
  EXPECT_EQ(v.rule, "default");
}

TEST(PolicyEngineTest, OffAllowsEverythingWithoutARule) {
  PolicyConfig c;
  c.rules = {rule("x", {}, {}, RuleAction::kDeny)};
  PolicyEngine p(c, nullptr);
  EXPECT_FALSE(p.decide(in("a", "b")).blocked());
  EXPECT_TRUE(p.decide(in("a", "b")).rule.empty());
}

TEST(EdgeBaselineTest, ParsesCommentsAndReportsBadLines) {
  std::vector<ConfigError> errors;
  const EdgeBaseline b = EdgeBaseline::parse(
      "# header\n\nspiffe://c/ns/a/sa/b  chat # note\nlonely\na b c\n", "f", &errors);
  EXPECT_TRUE(b.contains("spiffe://c/ns/a/sa/b", "chat"));
  EXPECT_EQ(b.edges().size(), 1u);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].toString(), "f:4:1: a baseline line is 'IDENTITY ROUTE', got 1 fields");
  EXPECT_EQ(errors[1].toString(), "f:5:1: a baseline line is 'IDENTITY ROUTE', got 3 fields");
  // format() round-trips.
  std::vector<ConfigError> none;
  const EdgeBaseline again = EdgeBaseline::parse(EdgeBaseline::format(b.edges()), "g", &none);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(again.edges(), b.edges());
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
