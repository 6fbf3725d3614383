// InferencePolicy: model, max_tokens, prompt size, then the budget, in that order (a request
// refused for its shape never takes budget).
#include "proxy/inspect/inference_policy.h"

#include <algorithm>

#include "proxy/inspect/name_list.h"

namespace dpuguard::proxy::inspect {
namespace {

constexpr std::string_view kInvalid = "invalid_request_error";
constexpr std::string_view kRule = "inference";

BucketShape budgetShape(const InferenceLimit& l) {
  return {static_cast<double>(l.tokens_per_minute) / 60000.0, static_cast<double>(l.tokens_per_minute)};
}

std::string_view budgetKey(std::string_view identity, std::string& key) {
  return key.assign("budget\x1f").append(identity);
}

std::string_view promptParam(json::InferenceApi api) {
  return api == json::InferenceApi::kChatCompletions ? "messages"
         : api == json::InferenceApi::kCompletions   ? "prompt"
                                                     : "input";
}

}  // namespace

bool InferencePolicy::validates(size_t route_index) const {
  return std::find(config_.route_indexes.begin(), config_.route_indexes.end(), route_index) != config_.route_indexes.end();
}

bool InferencePolicy::apiFor(std::string_view path, json::InferenceApi& api) {
  if (path == "/v1/chat/completions") api = json::InferenceApi::kChatCompletions;
  else if (path == "/v1/completions") api = json::InferenceApi::kCompletions;
  else if (path == "/v1/embeddings") api = json::InferenceApi::kEmbeddings;
  else return false;
  return true;
}

const InferenceLimit* InferencePolicy::limitFor(std::string_view identity) const {
  for (const InferenceLimit& l : config_.limits) {
    if (anyOrContains(l.identities, identity)) return &l;
  }
  return nullptr;
}

Verdict InferencePolicy::refuseBody(json::RequestError e) {
  if (e == json::RequestError::kTooLarge) {
    return Verdict::refuse(413, kRule, "body_too_large", kInvalid, {}, "request body larger than inference.max_body_bytes");
  }
  const std::string_view param = json::requestErrorParam(e);
  return Verdict::refuse(400, kRule, json::requestErrorName(e), kInvalid, param,
                         param.empty() ? "the request body is not a valid JSON object"
                                       : "a parameter of the request is missing or invalid (see param)");
}

InferenceDecision InferencePolicy::decide(std::string_view identity, json::InferenceApi api,
                                          const json::InferenceRequest& req, int64_t now_ms, TokenBuckets& buckets,
                                          Reservation& reservation) const {
  InferenceDecision d;
  d.verdict = Verdict::allow(kRule, "inference_ok");
  if (!config_.models.empty()) {
    const auto it = std::find_if(config_.models.begin(), config_.models.end(),
                                 [&](const ModelRoute& m) { return m.model == req.model; });
    if (it == config_.models.end()) {
      d.verdict = Verdict::refuse(404, kRule, "model_not_found", kInvalid, "model", "the model does not exist");
      return d;
    }
    d.cluster = static_cast<int>(it->cluster_index);
  }
  const InferenceLimit* lim = limitFor(identity);
  if (lim == nullptr) return d;
  if (!anyOrContains(lim->models, req.model)) {
    d.verdict = Verdict::refuse(403, kRule, "model_not_allowed", "permission_error", "model",
                                "this identity may not use the requested model");
    return d;
  }
  const uint64_t asked = req.has_max_tokens ? req.max_tokens * req.n : 0;
  if (lim->max_tokens != 0 && asked > lim->max_tokens) {
    d.verdict = Verdict::refuse(400, kRule, "max_tokens_exceeded", kInvalid, "max_tokens",
                                "max_tokens (times n) is above the limit for this identity");
    return d;
  }
  if (lim->max_prompt_bytes != 0 && req.prompt_bytes > lim->max_prompt_bytes) {
    d.verdict = Verdict::refuse(400, kRule, "prompt_too_large", kInvalid, promptParam(api),
                                "the prompt is larger than the limit for this identity");
    return d;
  }
  if (lim->tokens_per_minute == 0) return d;

  // Budget: the prompt's estimate plus what the answer may use. Without max_tokens the answer
  // gets the identity's cap, or else all that is left (the meter cuts it there).
  const uint64_t prompt = (req.prompt_bytes + json::kBytesPerToken - 1) / json::kBytesPerToken;
  const bool embeddings = api == json::InferenceApi::kEmbeddings;
  const uint64_t answer = embeddings ? 0 : asked != 0 ? asked : lim->max_tokens * req.n;
  thread_local std::string key;
  const BucketShape shape = budgetShape(*lim);
  const double capacity = shape.capacity;
  const double least = static_cast<double>(prompt + (answer != 0 || embeddings ? answer : 1));
  if (least > capacity) {
    d.verdict = Verdict::refuse(400, kRule, "exceeds_token_budget", kInvalid, answer != 0 ? "max_tokens" : promptParam(api),
                                "this request needs more tokens than the identity's whole budget per minute");
    return d;
  }
  const double most = answer != 0 || embeddings ? least : capacity;
  int64_t wait_ms = 0;
  const double taken = buckets.takeUpTo(budgetKey(identity, key), shape, least, most, now_ms, wait_ms);
  if (taken <= 0) {
    d.verdict = Verdict::refuse(429, kRule, "token_budget_exceeded", "rate_limit_error", {},
                                "the token budget of this identity is used up; retry after the time in Retry-After");
    d.verdict.tag = "budget_exhausted";
    d.verdict.retry_after_s = static_cast<uint32_t>((wait_ms + 999) / 1000);
    return d;
  }
  reservation.limit = lim;
  reservation.identity = identity;
  reservation.reserved = static_cast<uint64_t>(taken);
  reservation.prompt_estimate = prompt;
  reservation.allowance = embeddings ? 0 : reservation.reserved - std::min(prompt, reservation.reserved);
  return d;
}

void InferencePolicy::settle(Reservation& r, uint64_t prompt_tokens, uint64_t completion_tokens, int64_t now_ms,
                             TokenBuckets& buckets) {
  if (!r.active()) return;
  thread_local std::string key;
  const double used = static_cast<double>(prompt_tokens + completion_tokens);
  buckets.give(budgetKey(r.identity, key), budgetShape(*r.limit), static_cast<double>(r.reserved) - used, now_ms);
  r.limit = nullptr;
}

}  // namespace dpuguard::proxy::inspect
