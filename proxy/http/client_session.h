// ClientSession: one downstream (client) connection and the exchange in progress on it.
// Requests on a connection are served one at a time, in order (pipelined requests wait in
// the input buffer), each proxied to an upstream connection taken from the pool:
//
//   kReadingHead --head--> route, inspect, pick endpoint, send head --> kProxying
//   kProxying: request body up and response down, both streamed with backpressure
//     (an inference route's POST body is first collected whole and validated, then sent
//     with its length; its answer is metered for tokens and cut at the budget)
//   response complete --> kReadingHead (keep-alive) or kClosing (flush, then close)
//
// Every failure ends in a precise local reply (400/404/408/413/417/431/502/503/504) when no
// response byte has been sent yet, or in closing the connection when one has.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "parsers/http1/message_parser.h"
#include "proxy/core/buffer.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/ip_prefix.h"
#include "proxy/core/socket_address.h"
#include "proxy/http/body_collector.h"
#include "proxy/http/body_forwarder.h"
#include "proxy/http/head_writer.h"
#include "proxy/http/inspecting_body_sink.h"
#include "proxy/http/local_reply.h"
#include "proxy/http/message_input.h"
#include "proxy/http/metering_body_sink.h"
#include "proxy/http/outcome.h"
#include "proxy/http/upstream_connection.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/inference_policy.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/inspect/token_meter.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy {

class Worker;
struct WorkerRuntime;
struct ClusterRuntime;
struct RouteConfig;
struct RouteStats;

class ClientSession final : public IoHandler, public Timer, public UpstreamUser {
 public:
  ClientSession(Worker& worker, int fd, const SocketAddress& peer, size_t listener_index);
  ~ClientSession() override;

  void start();
  // SIGTERM: finish the exchange in progress, then close; close now if idle.
  void drain();
  // The drain deadline passed: cut the connection, whatever it is doing.
  void forceClose() { abortExchange(Outcome::kDraining); }
  bool closed() const { return fd_ < 0; }

  void onIo(uint32_t events) override;
  void onTimer() override;
  void onUpstreamIo(uint32_t events) override;

 private:
  // kClosing: the last reply is flushed, then kLingering: our side shut, the client's
  // remaining bytes read and dropped until it closes or the linger deadline.
  enum class State : uint8_t { kReadingHead, kProxying, kClosing, kLingering };

  // Main pump: parse and forward whatever can move, then flush and re-arm interest.
  void drive();
  bool parseHead();
  void startExchange();
  bool inspectHead(const http1::MessageHead& h);  // false: blocked, a local reply is on its way
  void blockBody();  // verdict_ blocks after a body signature: 403 if nothing was answered yet, else cut
  // After a feed of the request body into `sink`: body signatures' verdict; true if blocked
  // (then the exchange has ended).
  bool bodySignaturesBlock(const http1::ParseResult& r, InspectingBodySink& sink);
  // Inference bodies: `prompt` signatures over the strings of the accepted JSON (decoded), not
  // its bytes; true (verdict_ set) if one blocks.
  bool scanStrings();
  // Inference routes: collect the body (collecting_), then validate it and go upstream.
  bool startCollecting(const http1::MessageHead& h);  // false: refused, a reply is on its way
  bool collectRequest();
  void admitInference();
  bool sendCollected();
  void onMeteredResponseHead(const http1::MessageHead& h, ResponseForwarding& fwd);
  void cutStream();  // the answer reached the token allowance: end it with the notice
  // Answers with verdict_'s status and OpenAI-style details.
  void refuse(bool close);
  bool connectUpstream(int exclude_endpoint);
  bool pumpRequest();
  // After a feed of the request body that did not complete it: a parse error (400, or a cut
  // if the response started), or a client gone mid-body. Returns whether anything moved.
  bool bodyFed(const http1::ParseResult& r);
  bool pumpResponse();
  void onResponseHead();
  void finishExchange();
  void resetExchange();

  // Failure paths.
  // A request the parser or the path normalizer refused: precise status, close, count, log.
  void rejectRequest(http1::ParseError e);
  void localReply(int status, Outcome outcome, std::string_view message, bool close,
                  const ReplyDetail& detail = {});
  void upstreamFailed(Outcome outcome, bool endpoint_failure);
  void abortExchange(Outcome outcome);
  void closeConnection();
  void closeOrLinger();
  void lingerRead();

  void readClient();
  bool flushClient();    // true if bytes were written
  bool flushUpstream();
  void updateInterest();
  int64_t nextDeadline() const;
  void armTimer();
  void logExchange();
  void releaseUpstream(bool reusable);
  void releaseIdleStorage();
  uint32_t idleTimeoutMs() const;

  Worker& worker_;
  EventLoop& loop_;
  int fd_;
  SocketAddress peer_;
  std::string peer_ip_;
  IpAddress peer_address_;
  size_t listener_index_;
  std::shared_ptr<WorkerRuntime> rt_;  // config snapshot of the exchange in progress

  MessageInput in_;  // the request stream: buffer and parser, a head's bytes pinned
  Buffer out_;
  State state_ = State::kReadingHead;
  uint32_t interest_ = 0;
  bool client_eof_ = false;
  bool close_after_ = false;
  bool draining_ = false;
  int64_t last_activity_ms_ = 0;
  struct Linger {
    int64_t deadline_ms = 0;
    size_t bytes = 0;  // dropped so far
  } linger_;
  int64_t head_start_ms_ = -1;

  // The exchange in progress.
  const RouteConfig* route_ = nullptr;
  RouteStats* route_stats_ = nullptr;
  ClusterRuntime* cluster_ = nullptr;
  int endpoint_ = -1;
  UpstreamConnection* up_ = nullptr;
  BodyForwarder request_body_;
  BodyForwarder response_body_;
  std::string request_head_;   // rebuilt head sent upstream, kept for one retry
  std::string scratch_;        // response head / local reply assembly
  std::string method_;         // copies for the flow log (the head's bytes are reused)
  std::string path_;
  std::string_view identity_;  // inspection: the client's identity (owned by rt_ or host_labels_)
  std::shared_ptr<const inspect::IdentityMap> host_labels_;  // the host's labels at the request head
  inspect::Verdict verdict_;
  inspect::Matches matches_;    // DPI: signatures that matched this exchange
  inspect::BodyScan body_scan_;
  InspectingBodySink inspecting_body_{body_scan_, matches_, request_body_};
  std::string dpi_ids_;         // matched signature ids for the flow log, reused
  std::string decoded_query_;   // the query form-decoded for signatures, reused
  // Inference routes.
  bool inference_ = false;      // this exchange's body is validated and its answer metered
  bool collecting_ = false;     // reading the body into collector_; no upstream yet
  json::InferenceApi api_ = json::InferenceApi::kChatCompletions;
  BodyCollector collector_;
  size_t collected_sent_ = 0;   // bytes of collector_ written to the upstream
  std::string model_;           // for the flow log
  uint64_t prompt_estimate_ = 0;
  inspect::Reservation reservation_;
  inspect::TokenMeter meter_;
  MeteringBodySink metering_{meter_, response_body_};
  bool request_has_body_ = false;
  bool request_done_ = false;
  bool awaiting_response_head_ = false;
  bool response_started_ = false;  // a byte of the final response reached out_
  bool response_done_ = false;
  bool interim_response_ = false;  // parsing a 1xx that precedes the final response
  bool head_request_ = false;
  bool client_http11_ = true;
  bool client_keep_alive_ = true;
  BodyFraming request_framing_ = BodyFraming::kNone;
  uint64_t max_body_ = 0;
  int attempts_ = 0;
  int status_ = 0;
  Outcome outcome_ = Outcome::kProxied;
  http1::ParseError parse_error_ = http1::ParseError::kNone;
  uint64_t exchange_bytes_in_ = 0;
  uint64_t exchange_bytes_out_ = 0;
  int64_t start_us_ = 0;
  int64_t start_ms_ = 0;
  int64_t upstream_sent_us_ = -1;
  int64_t upstream_head_us_ = -1;
  int64_t connect_started_ms_ = 0;
};

}  // namespace dpuguard::proxy
