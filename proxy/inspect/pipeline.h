// Pipeline: the inspection phases of one config snapshot. The session calls a phase with the
// parsed facts and acts on the returned Verdict; the pipeline touches no socket, thread or
// clock, so the later DPDK inline path can call it unchanged.
//
//   identify         the client's identity and where it came from: the transport's mTLS
//                    identity, else an API key's (checkApiKey), else identityOf: config
//                    labels merged with the host's
//   onRequestHead    identity x route x method x path -> policy; then signatures over the
//                    normalized path, the query (raw and decoded) and the header section
//   admitRate        rate_limits: a token per matching rule, else 429 (after the head passed)
//   body scan        signatures over the request body, streamed across chunks (BodyScan,
//                    started by startBody, fed by the session, verdict by signatureVerdict)
//   inference        an inference route's whole body (json::InferenceRequest): `prompt`
//                    signatures over its decoded strings (scanPrompt; `body` ones do not
//                    read prompts), then model, caps, routing by model, the token budget's
//                    reservation (InferencePolicy)
//   response body    a streamed answer's tokens, cut at the allowance (TokenMeter, fed by
//                    the session's MeteringBodySink); usage settles the reservation
// Mutable state (rate and budget buckets) is passed in by the caller, as is the time.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/inspect/api_key_table.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/inference_policy.h"
#include "proxy/inspect/policy_engine.h"
#include "proxy/inspect/rate_limiter.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

// A client's identity and its source. `name` is owned by the snapshot, the host's labels or
// the connection's transport (an mTLS identity).
struct Identity {
  std::string_view name;
  IdentitySource source = IdentitySource::kAddress;
};

struct RequestHeadFacts {
  PolicyInput who;  // identity, route, method, normalized path
  std::string_view query;
  std::string_view decoded_query;  // the query form-decoded (uri::decodeQuery); empty: no escapes
  std::string_view headers;        // the raw field lines of the head, contiguous
};

class Pipeline {
 public:
  explicit Pipeline(const Config& config);

  // Anything to do: identities labelled (addresses, the host, API keys, mTLS listeners) or a
  // policy on. When false the session skips it all.
  bool active() const { return active_; }
  // The config's label or the host's (host_channel.labels; may be null), longest prefix first,
  // the host's on a tie; else the unknown identity. Valid while `host` and this pipeline live.
  // `source`, if given: kHostLabel or kAddress.
  std::string_view identityOf(const IpAddress& client, const IdentityMap* host,
                              IdentitySource* source = nullptr) const;
  // By precedence: `peer` (the verified mTLS identity of the connection; empty: none), then
  // `api_key` (a known key's identity; empty: none), then identityOf.
  Identity identify(std::string_view peer, std::string_view api_key, const IpAddress& client,
                    const IdentityMap* host) const;
  // routes[].api_key of route `route_index`.
  ApiKeyMode apiKeyMode(size_t route_index) const {
    return route_index < key_modes_.size() ? key_modes_[route_index] : ApiKeyMode::kOff;
  }
  // A request's `count` Authorization fields (the first one's value): a known key's
  // identity, or why not. Without a key file every key is unknown.
  ApiKeyResult checkApiKey(std::string_view authorization, size_t count) const;
  // The 401 (OpenAI's invalid_api_key) for a key that is missing, malformed or unknown.
  static Verdict refuseApiKey(ApiKeyStatus status);
  // `scratch` is the calling worker's; DPI matches are added to `m`.
  Verdict onRequestHead(const RequestHeadFacts& facts, SignatureScratch& scratch, Matches& m) const;
  // Rate limits, once the head is allowed: `head` back, or a 429.
  Verdict admitRate(std::string_view identity, std::string_view route, int64_t now_ms,
                    TokenBuckets& buckets, const Verdict& head) const {
    return rates_.active() ? rates_.admit(identity, route, now_ms, buckets, head) : head;
  }
  const InferencePolicy& inference() const { return inference_; }
  // Begins a body scan for this snapshot's body signatures (inactive when there are none).
  void startBody(BodyScan& scan, SignatureScratch& scratch) const;
  // Scans an inference request's decoded strings (NUL-separated) with the `prompt` signatures.
  void scanPrompt(std::string_view strings, SignatureScratch& scratch, Matches& m) const;
  // The verdict once body signatures have matched: block on the first blocking rule.
  Verdict signatureVerdict(const Matches& m, const Verdict& head) const;
  const SignatureSet* signatures() const { return signatures_.get(); }

 private:
  static bool mtlsListener(const Config& config);
  static std::vector<ApiKeyMode> keyModes(const Config& config);

  IdentityMap identities_;
  PolicyEngine policy_;
  std::shared_ptr<const SignatureSet> signatures_;
  RateLimiter rates_;
  InferencePolicy inference_;
  std::shared_ptr<const ApiKeyTable> api_keys_;
  std::vector<ApiKeyMode> key_modes_;  // per route
  bool active_;
};

}  // namespace dpuguard::proxy::inspect
