// InferencePolicy, RateLimiter, TokenBuckets and TokenMeter: decisions on parsed facts, with
// the time passed in (no clock), so refill, settlement and cut-off are exact.
#include "proxy/inspect/inference_policy.h"

#include <gtest/gtest.h>

#include "proxy/inspect/rate_limiter.h"
#include "proxy/inspect/token_meter.h"

namespace dpuguard::proxy::inspect {
namespace {

using json::InferenceApi;
using json::InferenceRequest;

InferenceRequest request(std::string_view model, uint64_t max_tokens = 0, uint64_t prompt_bytes = 4,
                         uint32_t n = 1) {
  InferenceRequest r;
  r.model = model;
  r.has_max_tokens = max_tokens != 0;
  r.max_tokens = max_tokens;
  r.n = n;
  r.message_count = 1;
  r.prompt_bytes = prompt_bytes;
  return r;
}

TEST(TokenBuckets, StartFullRefillContinuouslyAndReportTheWait) {
  TokenBuckets b;
  const BucketShape shape{1.0 / 1000, 2};  // 1 per second, burst 2
  EXPECT_EQ(b.take("k", shape, 1, 0), 0);
  EXPECT_EQ(b.take("k", shape, 1, 0), 0);
  EXPECT_EQ(b.take("k", shape, 1, 0), 1000);  // empty: a second until the next token
  EXPECT_EQ(b.take("k", shape, 1, 400), 600);
  EXPECT_EQ(b.take("k", shape, 1, 1000), 0);
  EXPECT_EQ(b.take("other", shape, 1, 1000), 0);  // keys are independent
  b.give("k", shape, -3, 1000);                   // a debt
  EXPECT_DOUBLE_EQ(b.level("k", shape, 1000), -3);
  b.give("k", shape, 100, 1000);  // never above capacity
  EXPECT_DOUBLE_EQ(b.level("k", shape, 1000), 2);
  int64_t wait = 0;
  EXPECT_DOUBLE_EQ(b.takeUpTo("k", shape, 1, 10, 1000, wait), 2);
  EXPECT_DOUBLE_EQ(b.takeUpTo("k", shape, 1, 10, 1000, wait), 0);
  EXPECT_EQ(wait, 1000);
}

TEST(TokenBuckets, AFullMapDropsBucketsAtRestAndRefusesNewKeysWhenAllAreInUse) {
  TokenBuckets b(2);
  const BucketShape shape{1.0 / 1000, 2};  // 1 per second, burst 2
  EXPECT_EQ(b.take("a", shape, 2, 0), 0);
  EXPECT_EQ(b.take("b", shape, 1, 0), 0);
  // Full of live buckets: a new key waits (fail closed), and "a" keeps its state.
  EXPECT_EQ(b.take("c", shape, 1, 500), TokenBuckets::kFullRetryMs);
  EXPECT_EQ(b.refusedFull(), 1u);
  EXPECT_EQ(b.take("a", shape, 1, 500), 500);  // still empty-ish: 0.5 tokens
  // No sweep again within the second, even though "b" is at rest by 1000.
  EXPECT_EQ(b.take("c", shape, 1, 1200), TokenBuckets::kFullRetryMs);
  // At 1600 "b" has refilled to its burst: dropping it loses nothing, and "c" gets its place.
  EXPECT_EQ(b.take("c", shape, 1, 1600), 0);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_DOUBLE_EQ(b.level("a", shape, 1600), 1.6);
  EXPECT_EQ(b.take("b", shape, 2, 4000), 0);  // "b" comes back as new: full, as it was
  EXPECT_EQ(b.refusedFull(), 2u);
}

TEST(RateLimiter, EveryMatchingRuleNeedsATokenAndARefusalTakesNone) {
  std::vector<RateLimitRule> rules(2);
  rules[0].id = "per-identity";
  rules[0].rate = {2, 60000};
  rules[1].id = "chat-only";
  rules[1].routes = {"chat"};
  rules[1].per_route = true;
  rules[1].rate = {1, 1000};
  RateLimiter limiter(rules);
  TokenBuckets b;
  const Verdict head = Verdict::allow("policy-rule", "allow");
  EXPECT_EQ(limiter.admit("a", "chat", 0, b, head).rule, "policy-rule");
  Verdict v = limiter.admit("a", "chat", 0, b, head);  // chat-only is empty
  ASSERT_TRUE(v.blocked());
  EXPECT_EQ((v.status), 429);
  EXPECT_EQ(v.rule, "chat-only");
  EXPECT_EQ(v.retry_after_s, 1u);
  // The refusal took nothing from per-identity: one request is still left there.
  EXPECT_FALSE(limiter.admit("a", "other", 0, b, head).blocked());
  v = limiter.admit("a", "other", 0, b, head);
  EXPECT_EQ(v.rule, "per-identity");
  EXPECT_EQ(v.retry_after_s, 30u);
  EXPECT_FALSE(limiter.admit("b", "other", 0, b, head).blocked());  // each identity its own bucket
}

InferenceConfig inferenceConfig() {
  InferenceConfig c;
  c.routes = {"chat"};
  c.route_indexes = {3};
  c.models = {{"small", "up", 0}, {"big", "big", 1}};
  InferenceLimit notebook;
  notebook.identities = {"notebook"};
  notebook.models = {"small"};
  notebook.max_tokens = 100;
  notebook.max_prompt_bytes = 1000;
  notebook.tokens_per_minute = 60;
  c.limits = {notebook, InferenceLimit{}};
  return c;
}

TEST(InferencePolicy, ModelsCapsAndRouting) {
  const InferenceConfig c = inferenceConfig();
  InferencePolicy p(c);
  TokenBuckets b;
  Reservation r;
  EXPECT_TRUE(p.validates(3));
  EXPECT_FALSE(p.validates(0));
  json::InferenceApi api;
  EXPECT_TRUE(InferencePolicy::apiFor("/v1/embeddings", api));
  EXPECT_EQ(api, InferenceApi::kEmbeddings);
  EXPECT_FALSE(InferencePolicy::apiFor("/v1/models", api));

  auto decide = [&](std::string_view who, const InferenceRequest& req) {
    r = {};
    return p.decide(who, InferenceApi::kChatCompletions, req, 0, b, r);
  };
  EXPECT_EQ(decide("notebook", request("nope")).verdict.code, "model_not_found");
  EXPECT_EQ(decide("notebook", request("big")).verdict.status, 403);
  EXPECT_EQ(decide("notebook", request("small", 101)).verdict.code, "max_tokens_exceeded");
  EXPECT_EQ(decide("notebook", request("small", 30, 4, 4)).verdict.code,
            "max_tokens_exceeded");  // 30 x 4
  const InferenceDecision big = decide("notebook", request("small", 10, 1001));
  EXPECT_EQ((big.verdict.code), "prompt_too_large");
  EXPECT_EQ(big.verdict.param, "messages");
  const InferenceDecision ok = decide("someone", request("big", 5000));
  EXPECT_FALSE(ok.verdict.blocked());
  EXPECT_EQ(ok.cluster, 1);
  EXPECT_FALSE(r.active());  // no budget for the catch-all limit
}

TEST(InferencePolicy, BudgetReservesSettlesAndRefuses) {
  const InferenceConfig c = inferenceConfig();
  InferencePolicy p(c);
  TokenBuckets b;
  Reservation r;
  // 40 prompt bytes = 10 tokens, plus max_tokens 20: 30 reserved of 60.
  InferenceDecision d =
      p.decide("notebook", InferenceApi::kChatCompletions, request("small", 20, 40), 0, b, r);
  ASSERT_FALSE(d.verdict.blocked());
  EXPECT_EQ((r.reserved), 30u);
  EXPECT_EQ(r.allowance, 20u);
  // Usage: 12 prompt + 5 completion; 13 go back.
  InferencePolicy::settle(r, 12, 5, 0, b);
  EXPECT_FALSE(r.active());
  Reservation r2;
  // No max_tokens: the cap (100) stands in, which is more than the budget holds: 400.
  d = p.decide("notebook", InferenceApi::kChatCompletions, request("small", 0, 40), 0, b, r2);
  EXPECT_EQ(d.verdict.code, "exceeds_token_budget");
  // 43 left: max_tokens 40 + 10 prompt needs 50 -> 429, Retry-After for the 7 missing (7 s).
  d = p.decide("notebook", InferenceApi::kChatCompletions, request("small", 40, 40), 0, b, r2);
  EXPECT_EQ(d.verdict.status, 429);
  EXPECT_EQ(d.verdict.retry_after_s, 7u);
  EXPECT_FALSE(r2.active());
  d = p.decide("notebook", InferenceApi::kChatCompletions, request("small", 40, 40), 7000, b, r2);
  EXPECT_FALSE(d.verdict.blocked());
}

TEST(InferencePolicy, WithoutAnyCapTheAnswerGetsWhatIsLeft) {
  InferenceConfig c = inferenceConfig();
  c.limits[0].max_tokens = 0;
  InferencePolicy p(c);
  TokenBuckets b;
  Reservation r;
  ASSERT_FALSE(
      p.decide("notebook", InferenceApi::kChatCompletions, request("small", 0, 80), 0, b, r)
          .verdict.blocked());
  EXPECT_EQ(r.reserved, 60u);
  EXPECT_EQ(r.allowance, 40u);  // 60 minus the prompt's 20
}

TEST(TokenMeter, CountsPiecesPrefersUsageAndCutsAtTheAllowance) {
  json::CompletionChunkParser parser(1 << 16);
  TokenMeter m;
  m.start(2);
  const std::string_view token = R"({"choices":[{"delta":{"content":"x"}}]})";
  EXPECT_TRUE(m.admitEvent(R"({"choices":[{"delta":{"role":"assistant"}}]})", parser));  // no token
  EXPECT_TRUE(m.admitEvent(token, parser));
  EXPECT_TRUE(m.admitEvent(token, parser));
  EXPECT_FALSE(m.admitEvent(token, parser));  // the third would exceed 2
  EXPECT_TRUE(m.cut());
  EXPECT_EQ(m.completionTokens(), 2u);
  m.start(UINT64_MAX);
  EXPECT_TRUE(m.admitEvent(token, parser));
  EXPECT_TRUE(m.admitEvent("[DONE]", parser));
  EXPECT_TRUE(
      m.admitEvent(R"({"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}})", parser));
  EXPECT_EQ(m.completionTokens(), 3u);  // usage wins over the count
  EXPECT_EQ(m.promptTokens(99), 7u);
  m.start(UINT64_MAX);
  EXPECT_EQ(m.promptTokens(99), 99u);  // no usage: the estimate
  const std::string whole =
      R"({"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":2,"completion_tokens":1}})";
  m.onWholeAnswer(whole, whole.size(), parser);
  EXPECT_EQ(m.completionTokens(), 1u);
}

// One parse for the meter and the output guardrails: the caller's chunk counts the same.
TEST(TokenMeter, AdmitsAChunkTheCallerParsed) {
  json::CompletionChunkParser parser(1 << 16);
  json::GeneratedText text;
  TokenMeter m;
  m.start(1);
  json::CompletionChunk chunk;
  const std::string_view token = R"({"choices":[{"delta":{"content":"x"}}]})";
  EXPECT_TRUE(m.admitChunk(parser.parse(token, token.size(), chunk, &text), chunk));
  EXPECT_EQ(text.pieces.size(), 1u);
  EXPECT_TRUE(m.admitChunk(parser.parse("[DONE]", 6, chunk, &text), chunk));  // not JSON: passes
  EXPECT_FALSE(m.admitChunk(parser.parse(token, token.size(), chunk, &text), chunk));
  EXPECT_EQ(m.completionTokens(), 1u);
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
