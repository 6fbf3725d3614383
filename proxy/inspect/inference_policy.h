// InferencePolicy: what an identity may ask of an OpenAI-compatible route, decided on the
// parsed body (json::InferenceRequest): the model (allowed for the identity, routed to a
// cluster), max_tokens against the cap, prompt size, and the token budget. A budget reserves
// before the request goes upstream (the prompt estimated from its bytes, plus max_tokens x n,
// or all that is left when max_tokens is absent) and is settled when the answer's usage is
// known; the reservation's completion part is the allowance the token meter enforces on a
// streamed answer. Refusals are OpenAI-style (400/403/404/429).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/json/inference_request.h"
#include "proxy/config/inference_config.h"
#include "proxy/inspect/token_buckets.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

// Tokens held against an identity's budget for one exchange.
struct Reservation {
  const InferenceLimit* limit = nullptr;  // null: no budget applies
  std::string_view identity;              // the budget's owner, as long as the exchange
  uint64_t reserved = 0;                  // taken from the bucket
  uint64_t prompt_estimate = 0;           // part of `reserved` for the prompt
  uint64_t allowance = UINT64_MAX;        // completion tokens the answer may carry

  bool active() const { return limit != nullptr; }
};

struct InferenceDecision {
  Verdict verdict;       // kContinue, or the refusal
  int cluster = -1;      // routing by model: the cluster's index; -1 keeps the route's
};

class InferencePolicy {
 public:
  explicit InferencePolicy(const InferenceConfig& config) : config_(config) {}

  bool active() const { return config_.enabled(); }
  const InferenceConfig& config() const { return config_; }
  // Is route `route_index` one whose POST bodies are validated?
  bool validates(size_t route_index) const;
  // The API a normalized path names (/v1/chat/completions, /v1/completions, /v1/embeddings).
  static bool apiFor(std::string_view path, json::InferenceApi& api);

  // The verdict on a body the parser accepted. On kContinue with a budget, `reservation` holds
  // what was taken; the caller settles it (settle) whatever happens next.
  InferenceDecision decide(std::string_view identity, json::InferenceApi api, const json::InferenceRequest& req,
                           int64_t now_ms, TokenBuckets& buckets, Reservation& reservation) const;
  // A body the parser refused: 400 (413 when too large) naming the parameter.
  static Verdict refuseBody(json::RequestError e);
  // Returns the unused part of a reservation (or takes the overrun) once usage is known.
  static void settle(Reservation& r, uint64_t prompt_tokens, uint64_t completion_tokens, int64_t now_ms,
                     TokenBuckets& buckets);

 private:
  const InferenceLimit* limitFor(std::string_view identity) const;

  const InferenceConfig& config_;  // owned by the snapshot's Config
};

}  // namespace dpuguard::proxy::inspect
