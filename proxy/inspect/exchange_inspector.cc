// ExchangeInspector: the phases of one exchange's inspection, in the order they are called.
#include "proxy/inspect/exchange_inspector.h"

#include "parsers/uri/query_decoder.h"

namespace dpuguard::proxy::inspect {

void ExchangeInspector::begin(const Pipeline& pipeline) {
  s_ = {};
  model_.clear();  // the buffers keep their capacity, never their content
  dpi_ids_.clear();
  decoded_query_.clear();
  s_.pipeline = &pipeline;
  meter_.start(UINT64_MAX);
}

Verdict ExchangeInspector::onRequestHead(const RequestFacts& f, int64_t now_ms,
                                         InspectContext& ctx) {
  const Pipeline& p = *s_.pipeline;
  s_.route = f.route;
  s_.route_index = static_cast<int>(f.route_index);
  if (!p.active()) return s_.verdict;
  host_labels_ = f.host_labels;
  // An API key is checked on a route that reads them even when mTLS names the client: the
  // route asks for one. The identity is still the strongest source's (Pipeline::identify).
  const ApiKeyMode key_mode = p.apiKeyMode(f.route_index);
  ApiKeyResult key;
  if (key_mode != ApiKeyMode::kOff) key = p.checkApiKey(f.authorization, f.authorizations);
  const Identity id = p.identify(f.peer_identity, key.identity, f.client, host_labels_.get());
  s_.identity = id.name;
  s_.source = id.source;
  if (key_mode != ApiKeyMode::kOff && key.status != ApiKeyStatus::kKnown &&
      (key.status != ApiKeyStatus::kMissing || key_mode == ApiKeyMode::kRequired)) {
    s_.verdict = Pipeline::refuseApiKey(key.status);  // a wrong key is never let through
    return s_.verdict;
  }
  std::string_view decoded_query;
  if (p.signatures() != nullptr && p.signatures()->scans(Where::kQuery) &&
      uri::decodeQuery(f.query, decoded_query_)) {
    decoded_query = decoded_query_;
  }
  s_.verdict = p.onRequestHead(
      {{s_.identity, f.route, f.method, f.path, s_.source}, f.query, decoded_query, f.fields},
      ctx.scratch, s_.matches);
  if (!s_.verdict.blocked())
    s_.verdict = p.admitRate(s_.identity, f.route, now_ms, ctx.buckets, s_.verdict);
  return s_.verdict;
}

Verdict ExchangeInspector::planBody(const RequestFacts& f, InspectContext& ctx) {
  const Pipeline& p = *s_.pipeline;
  s_.route = f.route;
  s_.route_index = static_cast<int>(f.route_index);
  const InferencePolicy& inference = p.inference();
  if (inference.active() && f.method == "POST" && inference.validates(f.route_index) &&
      InferencePolicy::apiFor(f.path, s_.api)) {
    const uint64_t max = inference.config().max_body_bytes;
    if (!f.has_body || (f.has_content_length && f.content_length > max)) {
      s_.verdict = InferencePolicy::refuseBody(f.has_body ? json::RequestError::kTooLarge
                                                          : json::RequestError::kNotJson);
      return s_.verdict;
    }
    s_.inference = true;  // read whole, then judged by onRequestComplete
  } else if (f.has_body && p.active()) {
    p.startBody(body_scan_, ctx.scratch);  // streamed through the body signatures
  }
  return s_.verdict;
}

bool ExchangeInspector::readsAnswers() const {
  const SignatureSet* set = s_.pipeline->signatures();
  return set != nullptr && set->scansCompletion(s_.route_index);
}

uint64_t ExchangeInspector::collectLimit() const {
  return s_.pipeline->inference().config().max_body_bytes;
}

Verdict ExchangeInspector::bodyTooLarge() {
  s_.verdict = InferencePolicy::refuseBody(json::RequestError::kTooLarge);
  return s_.verdict;
}

http1::BodySink& ExchangeInspector::requestSink(http1::BodySink& next) {
  if (!body_scan_.active()) return next;
  scanning_.start(&next);
  return scanning_;
}

Verdict ExchangeInspector::onRequestBody(bool complete) {
  if (!body_scan_.active()) return s_.verdict;
  if (complete) scanning_.finish();
  if (scanning_.blocked() || (complete && s_.matches.count > 0)) {
    s_.verdict = s_.pipeline->signatureVerdict(s_.matches, s_.verdict);
  }
  return s_.verdict;
}

Verdict ExchangeInspector::onRequestComplete(std::string_view body, size_t capacity, int64_t now_ms,
                                             InspectContext& ctx) {
  json::InferenceRequest req;
  const json::RequestError e = ctx.requests.parse(s_.api, body, capacity, req);
  if (e != json::RequestError::kNone) {
    s_.verdict = InferencePolicy::refuseBody(e);
    return s_.verdict;
  }
  model_.assign(req.model);
  s_.stream_requested = req.stream;
  if (scanPrompt(ctx)) return s_.verdict;
  s_.prompt_estimate = (req.prompt_bytes + json::kBytesPerToken - 1) / json::kBytesPerToken;
  const InferenceDecision d = s_.pipeline->inference().decide(s_.identity, s_.api, req, now_ms,
                                                              ctx.buckets, s_.reservation);
  if (d.verdict.blocked()) {
    s_.verdict = d.verdict;
    return s_.verdict;
  }
  s_.routed_cluster = d.cluster;
  meter_.start(s_.reservation.allowance);
  return s_.verdict;
}

bool ExchangeInspector::scanPrompt(InspectContext& ctx) {
  // One pass over the strings, a NUL after each: like the quotes between strings in the raw
  // body, a NUL is neither space nor word, so a phrase does not run on into the next string.
  s_.pipeline->scanPrompt(ctx.requests.strings(), ctx.scratch, s_.matches);
  if (s_.matches.count > 0) s_.verdict = s_.pipeline->signatureVerdict(s_.matches, s_.verdict);
  return s_.matches.block >= 0;
}

ResponsePlan ExchangeInspector::onResponseHead(const ResponseFacts& f, InspectContext& ctx) {
  const SignatureSet* set = s_.pipeline->signatures();
  const bool guarded = f.has_body && readsAnswers();
  if (!f.has_body || (!s_.inference && !guarded)) return {};
  parser_ = &ctx.completions;
  if (guarded) {
    completion_.start(set, ctx.scratch.forSet(*set), s_.route_index);
    s_.matches_before_answer = s_.matches.count;
    if (f.encoded && (f.event_stream || f.json)) {
      // Compressed text the guardrails cannot read is not let through: held with no room,
      // its first byte refuses it (completion_unreadable).
      s_.answer = MeteringBodySink::Mode::kHeldAnswer;
      s_.answer_copy = 0;
      return {.held = true};
    }
  }
  const size_t max_copy = s_.pipeline->inference().config().max_response_bytes;
  bool event_stream = f.event_stream;
  bool json = f.json;
  if (guarded && s_.inference && f.status == 200 && !event_stream && !json) {
    // A model's answer, whatever its Content-Type says (or that it says none): clients read
    // a requested stream as SSE regardless, so it is read as one; anything else whole.
    event_stream = s_.stream_requested;
    json = !s_.stream_requested;
  }
  if (event_stream) {
    s_.answer = MeteringBodySink::Mode::kEventStream;
    return {.event_by_event = true};
  }
  if (f.status != 200) return {};
  if (guarded && json) {  // judged whole before a byte of it is sent
    s_.answer = MeteringBodySink::Mode::kHeldAnswer;
    s_.answer_copy = max_copy;
    return {.held = true};
  }
  if (s_.inference) {
    s_.answer = MeteringBodySink::Mode::kWholeAnswer;
    s_.answer_copy = max_copy;
  }
  return {};
}

http1::BodySink& ExchangeInspector::responseSink(http1::BodySink& next) {
  if (s_.answer == MeteringBodySink::Mode::kOff) return next;
  metering_.start(s_.answer, &next, parser_, s_.answer_copy, &completion_, &s_.matches);
  return metering_;
}

size_t ExchangeInspector::responseHeld() const {
  return metering_.held();
}

Verdict ExchangeInspector::onResponseBody(bool complete) {
  if (s_.answer == MeteringBodySink::Mode::kOff) return s_.verdict;
  if (metering_.stopped() == MeteringBodySink::Stop::kNone && complete) metering_.finish();
  switch (metering_.stopped()) {
    case MeteringBodySink::Stop::kBudget:
      s_.verdict = Verdict::cut("inference", "budget_cut");
      return s_.verdict;
    case MeteringBodySink::Stop::kGuardrail:
      s_.verdict = guardrailVerdict(s_.answer == MeteringBodySink::Mode::kHeldAnswer);
      return s_.verdict;
    case MeteringBodySink::Stop::kNone:
      break;
  }
  // Alerts of the output guardrails are logged and counted, like body signatures'.
  if (complete && completion_.active() && s_.matches.count > s_.matches_before_answer &&
      !s_.verdict.blocked()) {
    const Signature& first =
        s_.pipeline->signatures()->signatures()[s_.matches.ids[s_.matches_before_answer]];
    s_.verdict = Verdict::allow(
        s_.verdict.rule.empty() ? std::string_view(first.id) : s_.verdict.rule, "completion_alert");
  }
  return s_.verdict;
}

Verdict ExchangeInspector::guardrailVerdict(bool held) const {
  // No blocking rule matched but the guard stopped: the text could not be read (an event
  // over kMaxEventBytes, an answer over max_response_bytes, a scan that could not run).
  const std::string_view rule =
      s_.matches.block >= 0
          ? std::string_view(s_.pipeline->signatures()->signatures()[s_.matches.block].id)
          : std::string_view("completion_unreadable");
  if (!held) return Verdict::cut(rule, "completion_block");
  Verdict v = Verdict::refuse(502, rule, "completion_blocked", "dpuguard_error", {},
                              "the answer was stopped by an output guardrail");
  v.tag = "completion_block";
  return v;
}

void ExchangeInspector::onLog(FlowRecord& rec, bool answered, int64_t now_ms, int64_t unix_ms,
                              InspectContext& ctx) {
  rec.identity = s_.identity;
  if (!s_.identity.empty()) rec.identity_source = enumName(kIdentitySourceNames, s_.source);
  rec.rule = s_.verdict.rule;
  rec.verdict = s_.verdict.tag;
  // The final verdict, once per exchange: the graph and the per-rule counts.
  if (!s_.identity.empty()) ctx.edges.record(s_.identity, s_.source, s_.route, s_.verdict, unix_ms);
  if (s_.matches.count > 0) {
    dpi_ids_.clear();
    for (size_t i = 0; i < s_.matches.count; ++i) {
      dpi_ids_.append(i == 0 ? "" : ",")
          .append(s_.pipeline->signatures()->signatures()[s_.matches.ids[i]].id);
    }
    rec.dpi = dpi_ids_;
  }
  if (!s_.inference) return;
  rec.model = model_;
  // Tokens when an answer came (usage, else counted); the reservation is settled with them.
  const uint64_t prompt = answered ? meter_.promptTokens(s_.prompt_estimate) : 0;
  const uint64_t completion = answered ? meter_.completionTokens() : 0;
  if (answered) {
    rec.prompt_tokens = static_cast<int64_t>(prompt);
    rec.completion_tokens = static_cast<int64_t>(completion);
  }
  InferencePolicy::settle(s_.reservation, prompt, completion, now_ms, ctx.buckets);
}

void ExchangeInspector::end(int64_t now_ms, TokenBuckets& buckets) {
  InferencePolicy::settle(s_.reservation, 0, 0, now_ms, buckets);  // unsettled: all back
  body_scan_.start(nullptr, nullptr);
  scanning_.start(nullptr);
  metering_.reset();
  completion_.start(nullptr, nullptr, -1);
  host_labels_.reset();
  s_ = {};
}

}  // namespace dpuguard::proxy::inspect
