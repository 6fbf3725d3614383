// ClientSession: the HTTP/1 driver of one client connection. Bytes come and go through a
// Transport; requests are served one at a time, in order (pipelined requests wait in the
// input buffer), each proxied to an upstream connection taken from the pool:
//
//   kReadingHead --head--> route, inspect, pick endpoint, send head --> kProxying
//   kProxying: request body up and response down, both streamed with backpressure
//     (an inference route's POST body is first collected whole and judged, then sent with
//     its length; its answer is metered and may be cut)
//   response complete --> kReadingHead (keep-alive) or kClosing (flush, then close)
//
// Every inspection decision is the ExchangeInspector's: the session asks it at each phase and
// acts on the Verdict. The exchange's state (parser, inspector, forwarders, copies for the
// log) is an Exchange from the worker's pool, held from the first byte of a head to the end
// of its answer: an idle keep-alive connection holds only its transport, input and timers.
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
#include "proxy/core/socket_address.h"
#include "proxy/core/transport.h"
#include "proxy/http/exchange.h"
#include "proxy/http/head_writer.h"
#include "proxy/http/local_reply.h"
#include "proxy/http/message_input.h"
#include "proxy/http/upstream_connection.h"
#include "proxy/telemetry/outcome.h"

namespace dpuguard::proxy {

class SessionServices;
struct WorkerRuntime;

class ClientSession final : public IoHandler, public Timer, public UpstreamUser {
 public:
  ClientSession(SessionServices& worker, std::unique_ptr<Transport> transport,
                const SocketAddress& peer, size_t listener_index);
  ~ClientSession() override;

  void start();
  // SIGTERM: finish the exchange in progress, then close; close now if idle.
  void drain();
  // The drain deadline passed: cut the connection, whatever it is doing.
  void forceClose() { abortExchange(Outcome::kDraining); }
  bool closed() const { return closed_; }

  void onIo(uint32_t events) override;
  void onTimer() override;
  void onUpstreamIo(uint32_t events) override;

 private:
  // kClosing: the last reply is flushed, then kLingering: our side shut, the client's
  // remaining bytes read and dropped until it closes or the linger deadline.
  enum class State : uint8_t { kReadingHead, kProxying, kClosing, kLingering };

  // ---- the connection (client_session.cc; timers and the lingering close in
  // client_session_deadlines.cc)
  // Main pump: parse and forward whatever can move, then flush and re-arm interest.
  void drive();
  bool parseHead();
  bool readClient();   // true: bytes came in
  bool flushClient();  // true if bytes were written
  void updateInterest();
  int64_t nextDeadline() const;
  void armTimer();
  uint32_t idleTimeoutMs() const;
  void closeConnection();
  void closeOrLinger();
  void lingerRead();
  void releaseIdleStorage();

  // ---- the exchange's head and its end (client_session.cc)
  void startExchange();
  // The inspector's head phases; false: refused, a local reply is on its way.
  bool inspectHead(const http1::MessageHead& h, size_t route_index);
  // Answers with `v`'s status and OpenAI-style details.
  void refuse(const inspect::Verdict& v, bool close);
  // A request the parser or the path normalizer refused: precise status, close, count, log.
  void rejectRequest(http1::ParseError e);
  // Answers `outcome` locally; its status and message come from the outcome's row (outcome.h).
  void localReply(Outcome outcome, bool close, const ReplyDetail& detail = {});
  void upstreamFailed(Outcome outcome, bool endpoint_failure);
  // ---- fallback clusters (client_session_fallback.cc)
  // The request is sent on to the next fallback cluster if it can be sent again (no byte of
  // the answer out, its body empty or collected whole): true when that was done (or answered
  // there). `status`: the upstream's refusal (429/503), 0 for a failed connect.
  bool fallBack(Outcome why, int status);
  // A 429/503 head on a cluster with fallbacks: Retry-After noted for the endpoint, then
  // fallBack(); true if the answer was left for a fallback.
  bool refusedUpstream(const http1::MessageHead& h);
  void logAttempts();
  void abortExchange(Outcome outcome);
  void finishExchange();
  void endExchange();  // the exchange's state goes back to the pool
  void logExchange();

  // ---- the upstream side (client_session_upstream.cc)
  bool connectUpstream(int exclude_endpoint);
  // The connect (TCP, or the TLS handshake after it) failed: upstream_connect_failed, or
  // upstream_tls_failed with the TLS reason for the reply and the flow log.
  void connectFailed();
  // Reads what TLS decrypted but the input buffer had no room for; true if anything moved.
  bool pullUpstream();
  bool flushUpstream();
  bool pumpRequest();
  bool collectRequest();
  void admitCollected();
  bool sendCollected();
  // A body signature blocked: 403 if nothing was answered yet, else cut.
  void blockBody(const inspect::Verdict& v);
  // After a feed of the request body that did not complete it: a parse error (400, or a cut
  // if the response started), or a client gone mid-body. Returns whether anything moved.
  bool bodyFed(const http1::ParseResult& r);
  bool pumpResponse();
  void onResponseHead();
  void cutAnswer();  // the inspector cut the answer: end it with its notice
  // A held answer the inspector let through: its head with the length, then its bytes as
  // the client's output takes them; the exchange ends when the last one is out.
  void sendHeldHead();
  bool sendHeld();
  bool reusableUpstream() const;
  void releaseUpstream(bool reusable);

  const LimitsConfig& limits() const;  // the listener's, in the current snapshot
  ExchangeState& x() { return ex_->state; }
  const ExchangeState& x() const { return ex_->state; }
  inspect::ExchangeInspector& inspector() { return ex_->inspector; }

  SessionServices& worker_;
  EventLoop& loop_;
  std::unique_ptr<Transport> transport_;
  SocketAddress peer_;
  uint32_t listener_index_;
  State state_ = State::kReadingHead;
  bool closed_ = false;
  bool client_eof_ = false;
  bool close_after_ = false;
  bool draining_ = false;
  uint32_t interest_ = 0;
  int64_t last_activity_ms_ = 0;
  // header_timeout_ms runs from here: the accept, or the end of the previous exchange.
  int64_t head_wait_start_ms_ = 0;
  bool served_ = false;  // an exchange has ended on this connection (idle keep-alive)
  struct Linger {
    int64_t deadline_ms = 0;   // lingering_time_ms after it began
    int64_t last_read_ms = 0;  // the linger also ends kLingerIdleMs after the last byte
    size_t bytes = 0;          // dropped so far
    bool body_owed = false;    // a reply ended the exchange before its request body did
  } linger_;
  std::shared_ptr<WorkerRuntime> rt_;  // config snapshot of the exchange in progress
  MessageInput in_;                    // the request stream; the parser is the exchange's
  Buffer out_;
  std::unique_ptr<Exchange> ex_;  // the exchange in progress; null between exchanges
};

}  // namespace dpuguard::proxy
