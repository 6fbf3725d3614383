// Pipeline: the inspection phases of one config snapshot. The session calls a phase with the
// parsed facts and acts on the returned Verdict; the pipeline touches no socket, thread or
// clock, so the later DPDK inline path can call it unchanged.
//
//   identityOf       the client's identity: config labels merged with the host's
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

#include "proxy/config/config.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/inference_policy.h"
#include "proxy/inspect/policy_engine.h"
#include "proxy/inspect/rate_limiter.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

struct RequestHeadFacts {
  PolicyInput who;  // identity, route, method, normalized path
  std::string_view query;
  std::string_view decoded_query;  // the query form-decoded (uri::decodeQuery); empty: no escapes
  std::string_view headers;        // the raw field lines of the head, contiguous
};

class Pipeline {
 public:
  explicit Pipeline(const Config& config);

  // Anything to do: identities labelled or a policy on. When false the session skips it all.
  bool active() const { return active_; }
  // The config's label or the host's (host_channel.labels; may be null), longest prefix first,
  // the host's on a tie; else the unknown identity. Valid while `host` and this pipeline live.
  std::string_view identityOf(const IpAddress& client, const IdentityMap* host) const;
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
  IdentityMap identities_;
  PolicyEngine policy_;
  std::shared_ptr<const SignatureSet> signatures_;
  RateLimiter rates_;
  InferencePolicy inference_;
  bool active_;
};

}  // namespace dpuguard::proxy::inspect
