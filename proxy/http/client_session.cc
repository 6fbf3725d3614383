// ClientSession: the connection (transport, input, timers, lingering close), the request head
// and the end of each exchange. The upstream side is in client_session_upstream.cc.
#include "proxy/http/client_session.h"

#include <sys/epoll.h>

#include <algorithm>
#include <ctime>

#include "parsers/uri/path_normalizer.h"
#include "proxy/http/session_limits.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {
namespace {

using http1::ParseStatus;

const ListenerConfig& listenerConfig(const WorkerRuntime& rt, size_t index) {
  return rt.config->listeners[index];
}

const LimitsConfig& listenerLimits(const WorkerRuntime& rt, size_t index) {
  return listenerConfig(rt, index).limits;
}

http1::ParseError pathParseError(uri::PathError e) {
  switch (e) {
    case uri::PathError::kNulByte:
      return http1::ParseError::kPathNulByte;
    case uri::PathError::kEscapedSlash:
      return http1::ParseError::kPathEscapedSlash;
    case uri::PathError::kBadEscape:
      return http1::ParseError::kPathBadEscape;
    default:
      return http1::ParseError::kInvalidTarget;
  }
}

// The field lines of a head, contiguous (MessageInput pins the head's bytes).
std::string_view fieldLines(const http1::MessageHead& h) {
  if (h.headers.empty()) return {};
  const char* first = h.headers.front().name.data();
  const std::string_view last = h.headers.back().value;
  return std::string_view(first, static_cast<size_t>(last.data() + last.size() - first));
}

}  // namespace

const LimitsConfig& ClientSession::limits() const {
  return listenerLimits(*rt_, listener_index_);
}

ClientSession::ClientSession(SessionServices& worker, std::unique_ptr<Transport> transport,
                             const SocketAddress& peer, size_t listener_index)
    : worker_(worker),
      loop_(worker.loop()),
      transport_(std::move(transport)),
      peer_(peer),
      listener_index_(static_cast<uint32_t>(listener_index)),
      rt_(worker.runtime()),
      in_(std::max<size_t>(kBodyWindow,
                           listenerLimits(*rt_, listener_index).max_header_bytes + kHeadSlack)),
      out_(kBodyWindow + listenerLimits(*rt_, listener_index).max_header_bytes + kHeadSlack) {}

ClientSession::~ClientSession() {
  in_.detach();
  if (ex_ != nullptr) {
    ex_->inspector.end(loop_.now(), worker_.inspectContext().buckets);
    worker_.exchanges().release(std::move(ex_));
  }
}

void ClientSession::start() {
  interest_ = EPOLLIN | EPOLLRDHUP;
  loop_.add(transport_->fd(), interest_, this);
  last_activity_ms_ = loop_.now();
  head_wait_start_ms_ = last_activity_ms_;
  bump(worker_.metrics().connections_accepted);
  worker_.metrics().connections_active.fetch_add(1, std::memory_order_relaxed);
  armTimer();
  // A TLS handshake may have read the first request ahead with its last record: no readiness
  // event will announce it.
  if (transport_->hasBufferedInput()) drive();
}

void ClientSession::drain() {
  draining_ = true;
  close_after_ = true;
  if (state_ == State::kReadingHead && !in_.inMessage() && in_.buffer().empty() && out_.empty())
    closeConnection();
}

// ---- I/O events -------------------------------------------------------------------------

void ClientSession::onIo(uint32_t events) {
  if (state_ == State::kLingering) {
    lingerRead();
    return;
  }
  // A TLS read can wait on writability (the transport wantsWrite with nothing of ours queued).
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ||
      ((events & EPOLLOUT) && out_.empty() && transport_->wantsWrite()))
    readClient();
  if (closed()) return;
  if (events & EPOLLOUT) flushClient();
  if (!closed()) drive();
}

bool ClientSession::readClient() {
  if (client_eof_) return false;
  Buffer& in = in_.buffer();
  if (in.tailroom() == 0) in.compact();  // refused while a head is in progress (pinned)
  if (in.tailroom() == 0) return false;  // backpressure: the upstream is not taking our bytes
  const Transport::Result r = transport_->read(in.tail(), in.tailroom());
  switch (r.io) {
    case Transport::Io::kDone:
      in.produced(r.bytes);
      last_activity_ms_ = loop_.now();
      bump(worker_.metrics().bytes_in, r.bytes);
      return true;
    case Transport::Io::kEof:
      client_eof_ = true;
      break;
    case Transport::Io::kWouldBlock:
      break;
    case Transport::Io::kError:
      abortExchange(Outcome::kClientAborted);
      break;
  }
  return false;
}

bool ClientSession::flushClient() {
  bool wrote = false;
  while (!out_.empty()) {
    const Transport::Result r = transport_->write(out_.readable());
    if (r.io == Transport::Io::kDone) {
      out_.consume(r.bytes);
      bump(worker_.metrics().bytes_out, r.bytes);
      last_activity_ms_ = loop_.now();
      wrote = true;
      continue;
    }
    if (r.io == Transport::Io::kWouldBlock) return wrote;
    abortExchange(Outcome::kClientAborted);
    return wrote;
  }
  return wrote;
}

// ---- The pump ---------------------------------------------------------------------------

void ClientSession::drive() {
  // Loop until nothing moves: every step (parse, forward, flush) can unblock another.
  while (!closed()) {
    // Bytes a TLS transport holds raise no event: read them once there is room for them.
    bool progress = transport_->hasBufferedInput() && readClient();
    if (closed()) return;
    if (state_ == State::kReadingHead) {
      progress = parseHead() || progress;
    } else if (state_ == State::kProxying) {
      progress = pumpRequest() || progress;
      if (!closed() && state_ == State::kProxying) progress = flushUpstream() || progress;
      if (!closed() && state_ == State::kProxying) progress = pumpResponse() || progress;
      if (!closed() && state_ == State::kProxying) progress = pullUpstream() || progress;
    }
    if (closed()) return;
    progress = flushClient() || progress;
    if (closed()) return;
    if (state_ == State::kClosing && out_.empty()) {
      closeOrLinger();
      return;
    }
    if (!progress || state_ == State::kClosing) break;
  }
  releaseIdleStorage();
  updateInterest();
  armTimer();
}

bool ClientSession::parseHead() {
  if (!in_.inMessage()) {
    if (draining_) {
      state_ = State::kClosing;
      return false;
    }
    if (in_.buffer().empty()) {
      if (client_eof_) closeConnection();
      return false;
    }
    if (ex_ == nullptr) {  // a head starts to arrive: the exchange's state from the pool
      ex_ = worker_.exchanges().acquire();
      in_.attach(ex_->parser);
      x().start_us = nowUs();
    }
    // A new head: latest config (in_ gives it the whole buffer and pins it there).
    rt_ = worker_.runtime();
    in_.parser().setLimits(listenerLimits(*rt_, listener_index_).parserLimits());
    ex_->inspector.begin(rt_->pipeline);
    if (x().head_start_ms < 0) x().head_start_ms = loop_.now();
  }
  http1::NullBodySink no_body;
  const http1::ParseResult r = in_.feed(no_body);
  x().bytes_in += r.consumed;
  switch (r.status) {
    case ParseStatus::kHeadComplete:
      startExchange();
      return true;
    case ParseStatus::kError:
      rejectRequest(r.error);
      return true;
    case ParseStatus::kMessageComplete:
      return true;
    case ParseStatus::kNeedMore:
      if (client_eof_) closeConnection();  // the client gave up mid-head
      return r.consumed > 0;
  }
  return false;
}

void ClientSession::startExchange() {
  const http1::MessageHead& h = in_.parser().head();
  const LimitsConfig& limits = listenerLimits(*rt_, listener_index_);
  ExchangeState& s = x();
  bump(worker_.metrics().requests);
  s.start_ms = loop_.now();
  ex_->method.assign(h.method);
  s.head_request = h.method == "HEAD";
  s.client_http11 = h.isHttp11();
  s.client_keep_alive = h.keep_alive && s.client_http11;
  s.request_has_body = h.chunked || h.content_length > 0;

  // The parser has validated the target form, Host and their agreement; what is left is
  // to normalize the path so routing, policy and the upstream all see the same one.
  const uri::RequestTarget& target = h.request_target;
  std::string& path = ex_->path;
  if (target.form == uri::RequestTarget::Form::kAsterisk) {
    path.assign("*");
  } else if (const uri::PathError e = uri::normalizePath(
                 target.path, listenerConfig(*rt_, listener_index_).path_normalization, path);
             e != uri::PathError::kNone) {
    rejectRequest(pathParseError(e));
    return;
  }
  const std::string_view host = h.host;
  s.route = rt_->router.match(RouteRequest{h.method, host, path, h.headers});
  if (s.route == nullptr) {
    localReply(Outcome::kNoRoute, false);
    return;
  }
  if (const http1::ParseError e = http1::exceedsLimits(h, s.route->limits);
      e != http1::ParseError::kNone) {
    rejectRequest(e);
    return;
  }
  const size_t route_index = static_cast<size_t>(s.route - rt_->config->routes.data());
  s.route_stats = rt_->route_stats[route_index];
  if (!inspectHead(h, route_index)) return;
  in_.parser().tightenBodyLimits(s.route->limits);
  s.cluster = &rt_->clusters[s.route->cluster_index];

  // The parser refused every expectation but 100-continue (417); we answer it ourselves.
  const bool expect_continue = h.expect_continue && s.client_http11 && s.request_has_body;
  const uint64_t max_body =
      s.route->max_body_bytes != 0 ? s.route->max_body_bytes : limits.max_body_bytes;
  // Where no body is taken, a chunked one is refused at its head too: however its bytes
  // arrive, nothing of it goes upstream.
  if ((h.has_content_length && h.content_length > max_body) || (h.chunked && max_body == 0)) {
    localReply(Outcome::kBodyTooLarge, true);
    return;
  }
  inspect::RequestFacts facts;
  facts.route = s.route->name;
  facts.route_index = route_index;
  facts.method = h.method;
  facts.path = path;
  facts.has_body = s.request_has_body;
  facts.has_content_length = h.has_content_length;
  facts.content_length = h.content_length;
  if (const inspect::Verdict v = inspector().planBody(facts, worker_.inspectContext());
      v.blocked()) {
    refuse(v, s.request_has_body);
    return;
  }
  s.collecting = inspector().collectsBody();
  if (s.collecting) ex_->collector.start(inspector().collectLimit());

  RequestForwarding fwd;
  ex_->scratch.assign(path);
  if (!target.query.empty()) ex_->scratch.append("?").append(target.query);
  fwd.target = ex_->scratch;
  // An HTTP/1.0 client may send no Host; HTTP/1.1 upstream needs one (RFC 9112 §3.2). Like
  // nginx's $proxy_host, name the upstream: its first endpoint's address.
  fwd.host = !host.empty() ? host : s.cluster->config->endpoints.front().authority();
  ex_->client = peer_.hostText();
  fwd.client_ip = ex_->client;
  fwd.framing = s.collecting ? BodyFraming::kNone  // the length is added once the body is whole
                : h.chunked
                    ? BodyFraming::kChunked
                    : (h.has_content_length ? BodyFraming::kContentLength : BodyFraming::kNone);
  // A scanned body is forwarded as the scan releases it, not chunk by chunk.
  if (fwd.framing == BodyFraming::kChunked && inspector().scansBody())
    fwd.framing = BodyFraming::kRechunk;
  fwd.content_length = h.content_length;
  fwd.identity_encoding = inspector().readsAnswers();
  // The route read an API key: it is dpuguard's, not the upstream's (unless passed on).
  fwd.drop_authorization = s.route->api_key != ApiKeyMode::kOff && !s.route->pass_api_key;
  s.request_framing = fwd.framing;
  s.max_body = max_body;
  writeRequestHead(h, fwd, ex_->request_head);
  s.request_sink = s.collecting ? static_cast<http1::BodySink*>(&ex_->collector)
                                : &inspector().requestSink(s.request_body);

  state_ = State::kProxying;
  s.awaiting_response_head = true;
  if (s.collecting) {  // judged before anything goes upstream: we read the body ourselves
    if (expect_continue) out_.append(kContinueResponse);
    return;
  }
  if (!connectUpstream(-1)) return;
  if (expect_continue) out_.append(kContinueResponse);
}

bool ClientSession::inspectHead(const http1::MessageHead& h, size_t route_index) {
  if (!rt_->pipeline.active()) return true;
  inspect::RequestFacts facts;
  facts.client = IpAddress::of(peer_);
  facts.host_labels = worker_.hostLabels();
  facts.route = x().route->name;
  facts.route_index = route_index;
  facts.method = h.method;
  facts.path = ex_->path;
  facts.query = h.request_target.query;
  facts.fields = fieldLines(h);
  facts.peer_identity = transport_->peerIdentity();
  if (x().route->api_key != ApiKeyMode::kOff) {
    for (const http1::HeaderField& f : h.headers) {
      if (!http1::equalsIgnoreCase(f.name, "authorization")) continue;
      if (facts.authorizations++ == 0) facts.authorization = f.value;
    }
  }
  const inspect::Verdict v =
      inspector().onRequestHead(facts, loop_.now(), worker_.inspectContext());
  if (!v.blocked()) return true;
  refuse(v, false);
  return false;
}

void ClientSession::refuse(const inspect::Verdict& v, bool close) {
  const int s = v.status;
  const Outcome o = v.tag == "completion_block" ? Outcome::kCompletionBlocked
                    : s == 401                  ? Outcome::kUnauthorized
                    : s == 429                  ? Outcome::kRateLimited
                    : s == 413                  ? Outcome::kBodyTooLarge
                    : s == 400                  ? Outcome::kInvalidRequest
                                                : Outcome::kDenied;
  ReplyDetail detail;
  detail.status = s;
  detail.message = v.message;
  detail.code = v.code;
  if (!v.error_type.empty()) detail.type = v.error_type;
  detail.param = v.param;
  detail.retry_after_s = v.retry_after_s;
  if (o == Outcome::kUnauthorized) detail.www_authenticate = "Bearer";  // RFC 6750 §3
  localReply(o, close, detail);
}

// ---- The end of an exchange ---------------------------------------------------------------

void ClientSession::finishExchange() {
  ExchangeState& s = x();
  releaseUpstream(reusableUpstream());
  s.outcome = inspector().budgetCut()          ? Outcome::kBudgetCut
              : inspector().guardrailStopped() ? Outcome::kCompletionCut
                                               : Outcome::kProxied;
  logExchange();
  state_ = (close_after_ || !s.client_keep_alive || draining_ || !s.request_done)
               ? State::kClosing
               : State::kReadingHead;
  endExchange();
}

void ClientSession::endExchange() {
  if (ex_ == nullptr) return;
  served_ = true;
  head_wait_start_ms_ = loop_.now();  // the next head's wait starts now
  in_.detach();
  ex_->inspector.end(loop_.now(), worker_.inspectContext().buckets);
  worker_.exchanges().release(std::move(ex_));
}

void ClientSession::releaseIdleStorage() {
  // Between exchanges with nothing buffered either way: an idle keep-alive connection holds
  // no buffer storage (buffers go to per-thread caches, so reuse allocates nothing).
  if (state_ != State::kReadingHead || ex_ != nullptr || !in_.buffer().empty() || !out_.empty())
    return;
  in_.releaseIdleStorage();
  out_.releaseIfEmpty();
}

// ---- Failures ---------------------------------------------------------------------------

void ClientSession::rejectRequest(http1::ParseError e) {
  x().parse_error = e;
  bump(worker_.metrics().parse_errors[static_cast<size_t>(e)]);
  const Outcome outcome = e == http1::ParseError::kUnsupportedExpectation
                              ? Outcome::kExpectationFailed
                              : Outcome::kBadRequest;
  localReply(outcome, true, {.status = http1::statusFor(e), .message = http1::parseErrorName(e)});
}

void ClientSession::localReply(Outcome outcome, bool close, const ReplyDetail& detail) {
  ExchangeState& s = x();
  releaseUpstream(false);
  if (!close && !s.request_done) {
    // Keep the connection only if the request has no body: then it ended with its head.
    http1::NullBodySink none;
    close = s.request_has_body || in_.feed(none, 0).status != ParseStatus::kMessageComplete;
    s.request_done = !close;
  }
  close = close || !s.client_keep_alive || draining_;
  // Answered before the client has sent its whole body: linger so it can read this.
  linger_.body_owed = close && s.request_has_body && !s.request_done;
  s.outcome = outcome;
  std::string& reply = ex_->scratch;
  reply.clear();
  s.status = writeLocalReply(outcome, close, reply, detail);
  if (out_.append(reply))
    s.bytes_out += reply.size();
  else
    close = true;
  logExchange();
  state_ = close ? State::kClosing : State::kReadingHead;
  endExchange();
}

void ClientSession::upstreamFailed(Outcome outcome, bool endpoint_failure) {
  ExchangeState& s = x();
  if (endpoint_failure && s.cluster != nullptr && s.endpoint >= 0) {
    EndpointHealth& health = s.cluster->lb.health(static_cast<size_t>(s.endpoint));
    const uint64_t before = health.ejections;
    s.cluster->lb.onFailure(static_cast<size_t>(s.endpoint), loop_.now());
    if (health.ejections != before) bump(worker_.metrics().upstream_ejections);
  }
  const bool reused = s.up != nullptr && s.up->reused();
  releaseUpstream(false);
  if (s.response_started) {
    abortExchange(outcome);
    return;
  }
  // A request without a body can be sent again: to another endpoint after a failed connect
  // (nothing was sent), or, if its method is idempotent (RFC 9110 §9.2.2), on a fresh
  // connection when a pooled one turned out to be closed by the server.
  const std::string& m = ex_->method;
  const bool other_endpoint = s.cluster != nullptr && s.cluster->lb.size() > 1;
  const bool idempotent =
      m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
  const bool stale_pooled =
      reused && idempotent &&
      (outcome == Outcome::kUpstreamReset || outcome == Outcome::kUpstreamProtocolError);
  // A failed TLS handshake is a failed connect: nothing was sent.
  const bool connect_failed =
      outcome == Outcome::kUpstreamConnectFailed || outcome == Outcome::kUpstreamTlsFailed;
  const bool retryable =
      !s.request_has_body && s.attempts < 2 && ((connect_failed && other_endpoint) || stale_pooled);
  if (retryable && s.cluster != nullptr) {
    bump(worker_.metrics().upstream_retries);
    connectUpstream(connect_failed ? s.endpoint : -1);
    return;
  }
  if (outcome == Outcome::kUpstreamTlsFailed) {
    std::string message = "TLS handshake with the upstream failed: ";
    message += s.upstream_tls_error;
    if (!s.upstream_tls_verify.empty()) {
      message += " (";
      message += s.upstream_tls_verify;
      message += ")";
    }
    localReply(outcome, false, {.message = message});
    return;
  }
  if ((outcome == Outcome::kUpstreamConnectFailed || outcome == Outcome::kUpstreamConnectTimeout) &&
      fallBack(outcome, 0))
    return;
  localReply(outcome, false);
}

void ClientSession::abortExchange(Outcome outcome) {
  if (state_ == State::kProxying && ex_ != nullptr) {
    x().outcome = outcome;
    logExchange();
  }
  if (ex_ != nullptr) releaseUpstream(false);
  closeConnection();
}

void ClientSession::closeConnection() {
  if (closed_) return;
  closed_ = true;
  if (ex_ != nullptr) {
    releaseUpstream(false);
    endExchange();
  }
  loop_.remove(transport_->fd());
  transport_->close();
  loop_.timers().cancel(this);
  worker_.metrics().connections_active.fetch_sub(1, std::memory_order_relaxed);
  worker_.retire(this);
}

// ---- Interest and logging (deadlines: client_session_deadlines.cc) ----------------------

void ClientSession::updateInterest() {
  uint32_t ev = 0;
  // Input stays armed while the response is proxied, even once the request is complete: a
  // pipelined next request is read ahead into in_ (bounded; full in_ disarms it), and the
  // interest does not flip twice per exchange (two epoll_ctl per request, measured).
  if (!client_eof_ && in_.buffer().freeSpace() > 0) {
    ev |= EPOLLRDHUP;  // notice a client that goes away while we wait on the upstream
    if (state_ != State::kClosing) ev |= EPOLLIN;
  }
  if (!out_.empty() || transport_->wantsWrite()) ev |= EPOLLOUT;
  if (transport_->wantsRead()) ev |= EPOLLIN;
  if (ev != interest_) {
    interest_ = ev;
    loop_.modify(transport_->fd(), ev, this);
  }
  if (ex_ == nullptr || x().up == nullptr) return;
  const ExchangeState& s = x();
  uint32_t uev = 0;
  if (s.up->connecting()) {
    uev = s.up->connectInterest();
  } else {
    if (!s.up->out.empty()) uev |= EPOLLOUT;
    if (!s.response_done && !s.up->peer_closed && s.up->in.buffer().freeSpace() > 0)
      uev |= EPOLLIN | EPOLLRDHUP;
    uev |= s.up->transportInterest();
  }
  s.up->setInterest(uev);
}

void ClientSession::logExchange() {
  const ExchangeState& s = x();
  WorkerMetrics& m = worker_.metrics();
  bump(m.outcomes[static_cast<size_t>(s.outcome)]);
  const int64_t total_us = s.start_us != 0 ? nowUs() - s.start_us : 0;
  if (s.route_stats != nullptr) {
    if (s.status > 0 && s.status < 600)
      bump(s.route_stats->by_status[static_cast<size_t>(s.status)]);
    s.route_stats->latency.observeUs(static_cast<uint64_t>(std::max<int64_t>(total_us, 0)));
  } else if (s.status > 0 && s.status < 600) {
    bump(worker_.unroutedStats().by_status[static_cast<size_t>(s.status)]);
  }
  FlowRecord rec;
  rec.listener = rt_->config->listeners[listener_index_].name;
  rec.measurement = rt_->measurement_id;
  rec.client = peer_.text;
  if (const TlsFacts* t = transport_->tls()) {
    rec.tls_protocol = t->protocol;
    rec.tls_cipher = t->cipher;
    rec.tls_sni = t->sni;
    rec.tls_resumed = t->resumed;
    rec.tls_ktls = t->ktls;
  }
  rec.method = ex_->method;
  rec.path = ex_->path;
  if (s.route != nullptr) {
    rec.route = s.route->name;
    rec.cluster = s.route->cluster;
  }
  if (s.cluster != nullptr)
    rec.cluster = s.cluster->config->name;  // routing by model may have changed it
  if (s.cluster != nullptr && s.endpoint >= 0) {
    rec.endpoint = s.cluster->hosts[static_cast<size_t>(s.endpoint)]->endpoint.text;
  }
  if (s.tried_count > 0) {
    logAttempts();
    rec.attempts = ex_->attempts;
  }
  rec.status = s.status;
  rec.bytes_in = s.bytes_in;
  rec.bytes_out = s.bytes_out + s.response_body.payloadBytes();
  rec.upstream_us = s.upstream_head_us >= 0 ? s.upstream_head_us - s.upstream_sent_us : -1;
  rec.total_us = total_us;
  rec.reason = outcomeName(s.outcome);
  if (s.parse_error != http1::ParseError::kNone)
    rec.parse_error = http1::parseErrorName(s.parse_error);
  rec.upstream_tls_error = s.upstream_tls_error;
  rec.upstream_tls_verify = s.upstream_tls_verify;
  inspector().onLog(rec, s.response_started, loop_.now(), unixMs(), worker_.inspectContext());
  worker_.flowLog().append(rec);
  if (const std::string& events = rt_->config->host_channel.events; !events.empty()) {
    worker_.hostLink(events).sendFlowEvent(peer_, rec);
  }
}

}  // namespace dpuguard::proxy
