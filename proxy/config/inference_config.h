// Inference-API and limit settings of a config snapshot (CONFIG.md "inference",
// "rate_limits"): which routes carry OpenAI-compatible requests, what each identity may ask
// of them (models, max_tokens, prompt size, a token budget), routing by model, and request
// rates. Plain aggregates; the pipeline (proxy/inspect/) applies them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dpuguard::proxy {

// A token bucket's refill: `amount` per `period_ms` (written "10/s", "600/m", "5000/h").
struct Rate {
  uint64_t amount = 0;
  uint64_t period_ms = 1000;
  double perMs() const { return static_cast<double>(amount) / static_cast<double>(period_ms); }
};

struct RateLimitRule {
  std::string id;
  std::vector<std::string> identities;  // empty = any; every identity gets its own bucket
  std::vector<std::string> routes;      // empty = any
  bool per_route = false;               // a bucket per identity and route, not per identity
  Rate rate;
  uint64_t burst = 0;                   // bucket size; 0 = rate.amount
};

// What one group of identities may ask of the inference routes (first match wins).
struct InferenceLimit {
  std::vector<std::string> identities;  // empty = any
  std::vector<std::string> models;      // allowed models; empty = any
  uint64_t max_tokens = 0;              // cap on max_tokens (x n); 0 = none
  uint64_t max_prompt_bytes = 0;        // 0 = none
  uint64_t tokens_per_minute = 0;       // token budget (prompt + completion); 0 = none
};

struct ModelRoute {
  std::string model;
  std::string cluster;
  size_t cluster_index = 0;  // resolved by the loader
};

struct InferenceConfig {
  std::vector<std::string> routes;      // route names whose POST bodies are validated
  std::vector<size_t> route_indexes;    // the same, resolved
  uint64_t max_body_bytes = 1 << 20;    // bodies are buffered up to this for validation (413 beyond)
  std::vector<ModelRoute> models;       // routing by "model"; when set, other models get 404
  std::vector<InferenceLimit> limits;
  uint64_t max_response_bytes = 4 << 20;  // non-streamed answers read for "usage" up to this

  bool enabled() const { return !routes.empty(); }
};

}  // namespace dpuguard::proxy
