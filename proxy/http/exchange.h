// Exchange: the per-exchange state of a client session (one request and its answer), taken
// from the worker's ExchangePool when a request head starts to arrive and given back when the
// exchange ends, so an idle keep-alive connection holds only its transport, its input and its
// timers. `state` is plain values reset with `= {}`; the buffers after it keep their capacity
// from one exchange to the next (no allocation per request once warm).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parsers/http1/message_parser.h"
#include "parsers/http1/parse_error.h"
#include "proxy/http/body_collector.h"
#include "proxy/http/body_forwarder.h"
#include "proxy/inspect/exchange_inspector.h"
#include "proxy/telemetry/outcome.h"

namespace dpuguard::proxy {

struct RouteConfig;
struct RouteStats;
struct ClusterRuntime;
class UpstreamConnection;

struct ExchangeState {
  const RouteConfig* route = nullptr;
  RouteStats* route_stats = nullptr;
  ClusterRuntime* cluster = nullptr;
  int endpoint = -1;
  UpstreamConnection* up = nullptr;
  BodyForwarder request_body;                // to the upstream
  BodyForwarder response_body;               // to the client
  http1::BodySink* request_sink = nullptr;   // request_body, or the inspector's decorator
  http1::BodySink* response_sink = nullptr;  // response_body, or the inspector's decorator
  BodyFraming request_framing = BodyFraming::kNone;
  uint64_t max_body = 0;
  bool request_has_body = false;
  bool collecting = false;  // the body is read into the collector; no upstream yet
  bool request_done = false;
  bool awaiting_response_head = false;
  bool response_started = false;  // a byte of the final response reached the client's output
  bool response_done = false;
  bool interim_response = false;  // parsing a 1xx that precedes the final response
  bool holding = false;           // the answer is held whole until the inspector has judged it
  size_t held_sent = 0;           // bytes of the held answer written to the client's output
  bool head_request = false;
  bool client_http11 = true;
  bool client_keep_alive = true;
  size_t collected_sent = 0;  // bytes of the collector written to the upstream
  int attempts = 0;
  int status = 0;
  Outcome outcome = Outcome::kProxied;
  http1::ParseError parse_error = http1::ParseError::kNone;
  // Why TLS to the upstream failed (static strings): tls::failureName() and the certificate's
  // refusal; empty otherwise.
  std::string_view upstream_tls_error;
  std::string_view upstream_tls_verify;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t head_start_ms = -1;
  int64_t start_us = 0;
  int64_t start_ms = 0;
  int64_t upstream_sent_us = -1;
  int64_t upstream_head_us = -1;
  int64_t connect_started_ms = 0;
  // Fallback (clusters[].fallback): the cluster routing chose, whose list is followed, how far,
  // and every attempt before the last, for the flow log's "attempts".
  ClusterRuntime* first_cluster = nullptr;
  uint8_t fallback_step = 0;
  struct Attempt {
    const ClusterRuntime* cluster = nullptr;
    int endpoint = -1;
    int status = 0;  // the upstream's (429, 503), or 0 when it gave none
    Outcome outcome = Outcome::kProxied;
  };
  static constexpr size_t kMaxAttempts = 8;
  std::array<Attempt, kMaxAttempts> tried{};
  uint8_t tried_count = 0;
};

struct Exchange {
  Exchange() : parser(http1::MessageParser::Kind::kRequest, http1::Limits{}) {}

  ExchangeState state;
  http1::MessageParser parser;  // the request's, attached to the session's input
  inspect::ExchangeInspector inspector;
  BodyCollector collector;   // an inference request's body, whole
  std::string request_head;  // rebuilt head sent upstream, kept for one retry
  std::string method;        // copies for the flow log (the head's bytes are reused)
  std::string path;
  std::string scratch;   // response head / local reply assembly
  std::string client;    // the client's address text for the flow log
  std::string attempts;  // the flow log's "attempts" (JSON) when a fallback was tried
};

// Exchanges of one worker, reused. Holds at most kMaxFree spare ones.
class ExchangePool {
 public:
  static constexpr size_t kMaxFree = 256;
  ExchangePool() = default;
  ExchangePool(const ExchangePool&) = delete;
  ExchangePool& operator=(const ExchangePool&) = delete;

  // A clean exchange (state at its defaults).
  std::unique_ptr<Exchange> acquire();
  // `e` is over: its state is reset, large buffers trimmed, and it is kept for reuse.
  void release(std::unique_ptr<Exchange> e);
  size_t spare() const { return free_.size(); }
  size_t inUse() const { return in_use_; }

 private:
  std::vector<std::unique_ptr<Exchange>> free_;
  size_t in_use_ = 0;
};

}  // namespace dpuguard::proxy
