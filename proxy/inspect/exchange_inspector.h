// ExchangeInspector: every inspection decision about one HTTP exchange, as phases the data
// path calls in order (Pingora's request_filter / response_filter / logging, Envoy's filter
// chain). Each phase returns a Verdict and the caller only acts on it; the inspector owns no
// socket, thread or clock (time, the worker's scratch and the shared buckets are passed in),
// so the proxied session, a TLS session and inline mode run the same code.
//
//   onRequestHead      identity (mTLS, API key, host label, address: the first that gives
//                      one), the route's API key (401), policy, head signatures, rate; and
//                      the body plan:
//                      collected whole (inference routes) or streamed through requestSink
//   requestSink        decorator over the next hop's sink: body signatures, blocks before the
//                      bytes that complete a match move on;  onRequestBody: its verdict
//   onRequestComplete  a collected body: inference validation, prompt signatures, routing by
//                      model, the token budget's reservation
//   onResponseHead     how the answer is followed (event by event, or whole)
//   responseSink       decorator over the client's sink: token metering, the budget cut,
//                      output guardrails (completion signatures and the route's canaries);
//                      onResponseBody: its verdict (kCut: end the stream with notice();
//                      kBlock: a held whole answer is refused, 502)
//   onLog              fills the flow record, settles the budget, records the edge
//   end                the exchange is over (an unsettled reservation is given back)
//
// One inspector is reused for many exchanges (the session's per-exchange state is pooled):
// begin() resets its plain state with `= {}`; its buffers keep their capacity.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/http1/body_sink.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/json/inference_request.h"
#include "proxy/core/ip_prefix.h"
#include "proxy/inspect/completion_scan.h"
#include "proxy/inspect/edge_table.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/inference_policy.h"
#include "proxy/inspect/inspecting_body_sink.h"
#include "proxy/inspect/metering_body_sink.h"
#include "proxy/inspect/pipeline.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/inspect/token_buckets.h"
#include "proxy/inspect/token_meter.h"
#include "proxy/inspect/verdict.h"
#include "proxy/telemetry/flow_record.h"

namespace dpuguard::proxy::inspect {

// What a phase may use that is not the exchange's own: the calling worker's scratch and JSON
// views, and the state shared across workers (rate and budget buckets, the edge table).
struct InspectContext {
  SignatureScratch& scratch;
  TokenBuckets& buckets;
  json::InferenceRequestParser& requests;
  json::CompletionChunkParser& completions;
  EdgeTable& edges;
};

// A routed request head. Views are valid for the onRequestHead call only.
struct RequestFacts {
  IpAddress client;
  std::shared_ptr<const IdentityMap> host_labels;  // the host's labels now (may be null)
  // The identity the connection proves (Transport::peerIdentity(): the SPIFFE ID of a
  // verified client certificate); empty: none. Valid for the exchange.
  std::string_view peer_identity;
  std::string_view authorization;  // the first Authorization field's value
  size_t authorizations = 0;       // how many Authorization fields the head has
  std::string_view route;          // config-owned
  size_t route_index = 0;
  std::string_view method;
  std::string_view path;  // normalized
  std::string_view query;
  std::string_view fields;  // the raw field lines of the head, contiguous
  bool has_body = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
};

// The facts of an answer's head the inspector decides on.
struct ResponseFacts {
  int status = 0;
  bool has_body = false;
  bool event_stream = false;  // Content-Type text/event-stream
  bool json = false;          // Content-Type application/json (or +json)
  bool encoded = false;       // a Content-Encoding other than identity (gzip, br ...)
};

// How the answer is forwarded, decided at its head.
struct ResponsePlan {
  bool event_by_event = false;  // forwarded one SSE event at a time: the framing is re-chunked
  // Held whole until onResponseBody(complete) judges it (completion rules on a whole answer):
  // the caller sends the head only then, with the length of heldAnswer().
  bool held = false;
};

class ExchangeInspector {
 public:
  ExchangeInspector() = default;
  ExchangeInspector(const ExchangeInspector&) = delete;
  ExchangeInspector& operator=(const ExchangeInspector&) = delete;

  // A new exchange under `pipeline` (the snapshot's, which outlives the exchange).
  void begin(const Pipeline& pipeline);

  // The request head is routed. kBlock: answer the verdict's status, nothing goes upstream.
  Verdict onRequestHead(const RequestFacts& facts, int64_t now_ms, InspectContext& ctx);
  // After the head is allowed and the session's own limits passed: how the body is read.
  // kBlock: an inference route's body is missing or declared too large.
  Verdict planBody(const RequestFacts& facts, InspectContext& ctx);
  // After planBody: the body is read whole (up to collectLimit()) and judged by
  // onRequestComplete before anything goes upstream (inference routes).
  bool collectsBody() const { return s_.inference; }
  uint64_t collectLimit() const;
  // A collected body went over collectLimit(): the OpenAI-style 413.
  Verdict bodyTooLarge();
  // The streamed body's bytes pass through this on their way to `next` (the decorator, or
  // `next` itself when no body signature applies). scansBody(): a decorator is in place; it
  // holds up to InspectingBodySink::kMaxHeld bytes, forwarded at the latest when the body ends.
  http1::BodySink& requestSink(http1::BodySink& next);
  bool scansBody() const { return body_scan_.active(); }
  // Set by requestSink's decorator: room the caller leaves in the next hop's output.
  static constexpr size_t kRequestHeld = InspectingBodySink::kMaxHeld;
  // After each feed through requestSink; `complete`: the body ended with it. kBlock: a body
  // signature decided, the bytes that completed the match were not forwarded.
  Verdict onRequestBody(bool complete);
  // A collected body, `capacity` bytes readable from body.data() (json padding).
  Verdict onRequestComplete(std::string_view body, size_t capacity, int64_t now_ms,
                            InspectContext& ctx);
  // Output guardrails read this route's answers: they must come uncompressed (the request
  // goes without Accept-Encoding; an encoded answer is refused as unreadable).
  bool readsAnswers() const;
  // Routing by model: the cluster the request goes to instead of the route's (-1: the route's).
  int routedCluster() const { return s_.routed_cluster; }

  // The answer's head.
  ResponsePlan onResponseHead(const ResponseFacts& facts, InspectContext& ctx);
  // The answer's body passes through this on its way to `next`; called once per answer.
  http1::BodySink& responseSink(http1::BodySink& next);
  // Bytes the response sink holds (a partial SSE event): the caller keeps room for them and
  // for the cut notice.
  size_t responseHeld() const;
  static constexpr size_t kMaxNoticeBytes = MeteringBodySink::kMaxNoticeBytes;
  // After each feed through responseSink; `complete`: the body ended with it. kCut: end the
  // stream now with notice() (nothing more of the upstream's is forwarded). kBlock: the held
  // answer is refused (502, the OpenAI-style body kBlockedAnswer).
  Verdict onResponseBody(bool complete);
  // Writes the notice that ends a cut stream to the response sink's `next`.
  void notice() { metering_.notice(); }
  // The held answer, once onResponseBody(true) let it pass.
  std::string_view heldAnswer() const { return metering_.heldAnswer(); }
  bool budgetCut() const { return metering_.stopped() == MeteringBodySink::Stop::kBudget; }
  bool guardrailStopped() const {
    return metering_.stopped() == MeteringBodySink::Stop::kGuardrail;
  }

  // The exchange is logged: inspection's fields of `rec` (views valid until the next begin()),
  // the budget settled with the answer's tokens (`answered`: a response reached the client),
  // the edge recorded.
  void onLog(FlowRecord& rec, bool answered, int64_t now_ms, int64_t unix_ms, InspectContext& ctx);
  // The exchange is over: an unsettled reservation goes back whole; buffers are trimmed.
  void end(int64_t now_ms, TokenBuckets& buckets);
  bool inference() const { return s_.inference; }

  const Verdict& verdict() const { return s_.verdict; }
  std::string_view identity() const { return s_.identity; }
  IdentitySource identitySource() const { return s_.source; }

 private:
  bool scanPrompt(InspectContext& ctx);
  // The verdict of a stream or answer the output guardrails stopped.
  Verdict guardrailVerdict(bool held) const;

  // Plain per-exchange state, reset with `= {}`.
  struct State {
    const Pipeline* pipeline = nullptr;
    std::string_view identity;  // owned by the pipeline, host_labels_ or the transport
    IdentitySource source = IdentitySource::kAddress;
    std::string_view route;
    int route_index = -1;
    Verdict verdict;
    Matches matches;
    bool inference = false;         // the body is collected and validated, the answer metered
    bool stream_requested = false;  // the inference request asked for a streamed answer
    json::InferenceApi api = json::InferenceApi::kChatCompletions;
    int routed_cluster = -1;
    uint64_t prompt_estimate = 0;
    Reservation reservation;
    MeteringBodySink::Mode answer = MeteringBodySink::Mode::kOff;
    size_t answer_copy = 0;  // kWholeAnswer, kHeldAnswer: bytes kept for usage and the scan
    size_t matches_before_answer = 0;
  };
  State s_;
  TokenMeter meter_;
  json::CompletionChunkParser* parser_ = nullptr;  // the worker's, from onResponseHead
  // Buffers kept across exchanges.
  std::shared_ptr<const IdentityMap> host_labels_;
  BodyScan body_scan_;
  InspectingBodySink scanning_{body_scan_, s_.matches};
  MeteringBodySink metering_{meter_};
  CompletionScan completion_;
  std::string decoded_query_;
  std::string model_;
  std::string dpi_ids_;
};

}  // namespace dpuguard::proxy::inspect
