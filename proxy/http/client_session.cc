// ClientSession: the request/response state machine of one client connection.
#include "proxy/http/client_session.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "parsers/uri/path_normalizer.h"
#include "parsers/uri/query_decoder.h"
#include "proxy/worker.h"

namespace dpuguard::proxy {
namespace {

using http1::ParseStatus;

// Body bytes in flight per direction and connection (the backpressure window).
constexpr size_t kBodyWindow = 64 * 1024;
// Room a response head needs in the client buffer before we parse one.
constexpr size_t kHeadSlack = 1024;
// After a reply that ends the connection: how long, and how many bytes, the client's
// unread request bytes are read and dropped before closing (the lingering close).
constexpr int64_t kLingerMs = 2000;
constexpr size_t kLingerBytes = 1024 * 1024;

int64_t nowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Wall-clock milliseconds for first/last-seen times operators read (coarse: a vDSO read).
int64_t unixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const ListenerConfig& listenerConfig(const WorkerRuntime& rt, size_t index) { return rt.config->listeners[index]; }

const LimitsConfig& listenerLimits(const WorkerRuntime& rt, size_t index) { return listenerConfig(rt, index).limits; }

bool isEventStream(const http1::MessageHead& h) {
  for (const http1::HeaderField& f : h.headers) {
    if (!http1::equalsIgnoreCase(f.name, "content-type")) continue;
    const std::string_view media = f.value.substr(0, f.value.find(';'));
    return http1::equalsIgnoreCase(media.substr(0, media.find_last_not_of(" \t") + 1), "text/event-stream");
  }
  return false;
}

http1::ParseError pathParseError(uri::PathError e) {
  switch (e) {
    case uri::PathError::kNulByte: return http1::ParseError::kPathNulByte;
    case uri::PathError::kEscapedSlash: return http1::ParseError::kPathEscapedSlash;
    case uri::PathError::kBadEscape: return http1::ParseError::kPathBadEscape;
    default: return http1::ParseError::kInvalidTarget;
  }
}

}  // namespace

ClientSession::ClientSession(Worker& worker, int fd, const SocketAddress& peer,
                             size_t listener_index)
    : worker_(worker),
      loop_(worker.loop()),
      fd_(fd),
      peer_(peer),
      peer_ip_(peer.hostText()),
      peer_address_(IpAddress::of(peer)),
      listener_index_(listener_index),
      rt_(worker.runtime()),
      in_(std::max<size_t>(kBodyWindow,
                           listenerLimits(*rt_, listener_index).max_header_bytes + kHeadSlack),
          http1::MessageParser::Kind::kRequest,
          listenerLimits(*rt_, listener_index).parserLimits()),
      out_(kBodyWindow + listenerLimits(*rt_, listener_index).max_header_bytes + kHeadSlack) {}

ClientSession::~ClientSession() {
  if (fd_ >= 0) ::close(fd_);
}

void ClientSession::start() {
  interest_ = EPOLLIN | EPOLLRDHUP;
  loop_.add(fd_, interest_, this);
  last_activity_ms_ = loop_.now();
  bump(worker_.metrics().connections_accepted);
  worker_.metrics().connections_active.fetch_add(1, std::memory_order_relaxed);
  armTimer();
}

void ClientSession::drain() {
  draining_ = true;
  close_after_ = true;
  if (state_ == State::kReadingHead && !in_.parser().inMessage() && in_.buffer().empty() &&
      out_.empty())
    closeConnection();
}

// ---- I/O events -------------------------------------------------------------------------

void ClientSession::onIo(uint32_t events) {
  if (state_ == State::kLingering) {
    lingerRead();
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readClient();
  if (closed()) return;
  if (events & EPOLLOUT) flushClient();
  if (!closed()) drive();
}

void ClientSession::onUpstreamIo(uint32_t events) {
  if (up_ == nullptr) return;
  if (up_->connecting()) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (up_->finishConnect() != 0) {
      upstreamFailed(Outcome::kUpstreamConnectFailed, true);
      if (!closed()) drive();
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    const UpstreamConnection::Io r = up_->readSome();
    if (r == UpstreamConnection::Io::kProgress) {
      last_activity_ms_ = loop_.now();
    } else if (r == UpstreamConnection::Io::kEof) {
      up_->peer_closed = true;
    } else if (r == UpstreamConnection::Io::kError) {
      if (response_started_) abortExchange(Outcome::kUpstreamReset);
      else upstreamFailed(Outcome::kUpstreamReset, true);
      if (!closed()) drive();
      return;
    }
  }
  drive();
}

void ClientSession::readClient() {
  if (client_eof_) return;
  Buffer& in = in_.buffer();
  if (in.tailroom() == 0) in.compact();  // refused while a head is in progress (pinned)
  if (in.tailroom() == 0) return;        // backpressure: the upstream is not taking our bytes
  const ssize_t n = ::read(fd_, in.tail(), in.tailroom());
  if (n > 0) {
    in.produced(static_cast<size_t>(n));
    last_activity_ms_ = loop_.now();
    bump(worker_.metrics().bytes_in, static_cast<uint64_t>(n));
  } else if (n == 0) {
    client_eof_ = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    abortExchange(Outcome::kClientAborted);
  }
}

bool ClientSession::flushClient() {
  bool wrote = false;
  while (!out_.empty()) {
    const std::string_view data = out_.readable();
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
      bump(worker_.metrics().bytes_out, static_cast<uint64_t>(n));
      last_activity_ms_ = loop_.now();
      wrote = true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return wrote;
    abortExchange(Outcome::kClientAborted);
    return wrote;
  }
  return wrote;
}

bool ClientSession::flushUpstream() {
  if (up_ == nullptr || up_->connecting()) return false;
  bool wrote = false;
  while (!up_->out.empty()) {
    const UpstreamConnection::Io r = up_->writeSome();
    if (r == UpstreamConnection::Io::kProgress) {
      last_activity_ms_ = loop_.now();
      wrote = true;
      continue;
    }
    if (r == UpstreamConnection::Io::kError) upstreamFailed(Outcome::kUpstreamReset, true);
    return wrote;
  }
  return wrote;
}

// ---- The pump ---------------------------------------------------------------------------

void ClientSession::drive() {
  // Loop until nothing moves: every step (parse, forward, flush) can unblock another.
  while (!closed()) {
    bool progress = false;
    if (state_ == State::kReadingHead) {
      progress = parseHead();
    } else if (state_ == State::kProxying) {
      progress = pumpRequest();
      if (!closed() && state_ == State::kProxying) progress = flushUpstream() || progress;
      if (!closed() && state_ == State::kProxying) progress = pumpResponse() || progress;
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
  if (!in_.parser().inMessage()) {
    if (draining_) {
      state_ = State::kClosing;
      return false;
    }
    if (in_.buffer().empty()) {
      if (client_eof_) closeConnection();
      return false;
    }
    // A new head: latest config (in_ gives it the whole buffer and pins it there).
    rt_ = worker_.runtime();
    in_.parser().setLimits(listenerLimits(*rt_, listener_index_).parserLimits());
    if (head_start_ms_ < 0) head_start_ms_ = loop_.now();
    if (start_us_ == 0) start_us_ = nowUs();
  }
  http1::NullBodySink no_body;
  const http1::ParseResult r = in_.feed(no_body);
  exchange_bytes_in_ += r.consumed;
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
  bump(worker_.metrics().requests);
  start_ms_ = loop_.now();
  method_.assign(h.method);
  head_request_ = h.method == "HEAD";
  client_http11_ = h.isHttp11();
  client_keep_alive_ = h.keep_alive && client_http11_;
  request_has_body_ = h.chunked || h.content_length > 0;

  // The parser has validated the target form, Host and their agreement; what is left is
  // to normalize the path so routing, policy and the upstream all see the same one.
  const uri::RequestTarget& target = h.request_target;
  if (target.form == uri::RequestTarget::Form::kAsterisk) {
    path_.assign("*");
  } else if (const uri::PathError e = uri::normalizePath(target.path, listenerConfig(*rt_, listener_index_).path_normalization, path_);
             e != uri::PathError::kNone) {
    rejectRequest(pathParseError(e));
    return;
  }
  const std::string_view host = h.host;
  route_ = rt_->router.match(RouteRequest{h.method, host, path_, h.headers});
  if (route_ == nullptr) {
    localReply(404, Outcome::kNoRoute, "no route matches this request", false);
    return;
  }
  if (const http1::ParseError e = http1::exceedsLimits(h, route_->limits); e != http1::ParseError::kNone) {
    rejectRequest(e);
    return;
  }
  if (!inspectHead(h)) return;
  in_.parser().tightenBodyLimits(route_->limits);
  const size_t route_index = static_cast<size_t>(route_ - rt_->config->routes.data());
  route_stats_ = rt_->route_stats[route_index];
  cluster_ = &rt_->clusters[route_->cluster_index];

  // The parser refused every expectation but 100-continue (417); we answer it ourselves.
  const bool expect_continue = h.expect_continue && client_http11_ && request_has_body_;
  const uint64_t max_body = route_->max_body_bytes != 0 ? route_->max_body_bytes : limits.max_body_bytes;
  // Where no body is taken, a chunked one is refused at its head too: however its bytes
  // arrive, nothing of it goes upstream.
  if ((h.has_content_length && h.content_length > max_body) || (h.chunked && max_body == 0)) {
    localReply(413, Outcome::kBodyTooLarge, "request body larger than max_body_bytes", true);
    return;
  }
  const inspect::InferencePolicy& inference = rt_->pipeline.inference();
  if (inference.active() && h.method == "POST" && inference.validates(route_index) &&
      inspect::InferencePolicy::apiFor(path_, api_) && !startCollecting(h)) {
    return;
  }
  // Body signatures stream over other bodies; a prompt is read whole by `prompt` ones.
  if (request_has_body_ && !collecting_ && rt_->pipeline.active()) {
    rt_->pipeline.startBody(body_scan_, worker_.signatureScratch());
  }

  RequestForwarding fwd;
  scratch_.assign(path_);
  if (!target.query.empty()) scratch_.append("?").append(target.query);
  fwd.target = scratch_;
  // An HTTP/1.0 client may send no Host; HTTP/1.1 upstream needs one (RFC 9112 §3.2). Like
  // nginx's $proxy_host, name the upstream: its first endpoint's address.
  std::string_view upstream_name = cluster_->config->endpoints.front().text;
  if (upstream_name.rfind(kHostScheme, 0) == 0) upstream_name.remove_prefix(kHostScheme.size());
  fwd.host = !host.empty() ? host : upstream_name;
  fwd.client_ip = peer_ip_;
  fwd.framing = collecting_ ? BodyFraming::kNone  // the length is added once the body is whole
                : h.chunked  ? BodyFraming::kChunked
                             : (h.has_content_length ? BodyFraming::kContentLength : BodyFraming::kNone);
  // A scanned body is forwarded as the scan releases it, not chunk by chunk.
  if (fwd.framing == BodyFraming::kChunked && body_scan_.active())
    fwd.framing = BodyFraming::kRechunk;
  fwd.content_length = h.content_length;
  request_framing_ = fwd.framing;
  max_body_ = max_body;
  request_head_.clear();
  writeRequestHead(h, fwd, request_head_);

  state_ = State::kProxying;
  awaiting_response_head_ = true;
  if (collecting_) {  // validated before anything goes upstream: we read the body ourselves
    if (expect_continue) out_.append(kContinueResponse);
    return;
  }
  if (!connectUpstream(-1)) return;
  if (expect_continue) out_.append(kContinueResponse);
}

bool ClientSession::inspectHead(const http1::MessageHead& h) {
  const inspect::Pipeline& pipeline = rt_->pipeline;
  if (!pipeline.active()) return true;
  host_labels_ = worker_.hostLabels();
  identity_ = pipeline.identityOf(peer_address_, host_labels_.get());
  std::string_view fields;
  if (!h.headers.empty()) {  // the field lines are contiguous: in_ pins the head's bytes
    const char* first = h.headers.front().name.data();
    const std::string_view last = h.headers.back().value;
    fields = std::string_view(first, static_cast<size_t>(last.data() + last.size() - first));
  }
  std::string_view decoded_query;
  if (pipeline.signatures() != nullptr && pipeline.signatures()->scans(inspect::Where::kQuery) &&
      uri::decodeQuery(h.request_target.query, decoded_query_)) {
    decoded_query = decoded_query_;
  }
  inspect::SignatureScratch& scratch = worker_.signatureScratch();
  verdict_ = pipeline.onRequestHead(
      {{identity_, route_->name, h.method, path_}, h.request_target.query, decoded_query, fields}, scratch, matches_);
  if (!verdict_.blocked()) verdict_ = pipeline.admitRate(identity_, route_->name, loop_.now(), worker_.buckets(), verdict_);
  if (!verdict_.blocked()) return true;
  route_stats_ = rt_->route_stats[static_cast<size_t>(route_ - rt_->config->routes.data())];
  refuse(false);
  return false;
}

void ClientSession::refuse(bool close) {
  const int s = verdict_.status;
  const Outcome o = s == 429   ? Outcome::kRateLimited
                    : s == 413 ? Outcome::kBodyTooLarge
                    : s == 400 ? Outcome::kInvalidRequest
                               : Outcome::kDenied;
  ReplyDetail detail;
  detail.code = verdict_.code;
  if (!verdict_.error_type.empty()) detail.type = verdict_.error_type;
  detail.param = verdict_.param;
  detail.retry_after_s = verdict_.retry_after_s;
  localReply(s, o, verdict_.message, close, detail);
}

// ---- Inference routes ---------------------------------------------------------------------

bool ClientSession::startCollecting(const http1::MessageHead& h) {
  const InferenceConfig& cfg = rt_->pipeline.inference().config();
  if (!request_has_body_ || (h.has_content_length && h.content_length > cfg.max_body_bytes)) {
    verdict_ = inspect::InferencePolicy::refuseBody(request_has_body_ ? json::RequestError::kTooLarge
                                                                      : json::RequestError::kNotJson);
    refuse(request_has_body_);
    return false;
  }
  inference_ = collecting_ = true;
  collector_.start(cfg.max_body_bytes);
  return true;
}

bool ClientSession::collectRequest() {
  // Not scanned as it arrives: signatures read the decoded strings once it is whole.
  const http1::ParseResult r = in_.feed(collector_);
  exchange_bytes_in_ += r.consumed;
  if (collector_.overflow()) {
    verdict_ = inspect::InferencePolicy::refuseBody(json::RequestError::kTooLarge);
    refuse(true);
    return true;
  }
  if (r.status != ParseStatus::kMessageComplete) return bodyFed(r);
  collecting_ = false;
  admitInference();
  return true;
}

void ClientSession::admitInference() {
  const size_t readable = collector_.pad();
  json::InferenceRequest req;
  const json::RequestError e = worker_.requestParser().parse(api_, collector_.body(), readable, req);
  if (e != json::RequestError::kNone) {
    verdict_ = inspect::InferencePolicy::refuseBody(e);
  } else {
    model_.assign(req.model);
    if (!scanStrings()) {
      prompt_estimate_ = (req.prompt_bytes + json::kBytesPerToken - 1) / json::kBytesPerToken;
      const inspect::InferenceDecision d =
          rt_->pipeline.inference().decide(identity_, api_, req, loop_.now(), worker_.buckets(), reservation_);
      if (d.verdict.blocked()) verdict_ = d.verdict;
      else if (d.cluster >= 0) cluster_ = &rt_->clusters[static_cast<size_t>(d.cluster)];  // routing by model
    }
  }
  if (verdict_.blocked()) {
    request_done_ = true;  // read whole, nothing sent: the connection can stay
    refuse(false);
    return;
  }
  addContentLength(request_head_, collector_.size());
  meter_.start(reservation_.allowance);
  // Head and body leave in one write (a second, separate segment per request was measured).
  if (connectUpstream(-1)) sendCollected();
}

bool ClientSession::sendCollected() {
  const std::string_view body = collector_.body();
  const size_t n = std::min(up_->out.freeSpace(), body.size() - collected_sent_);
  if (n > 0) {
    up_->out.append(body.substr(collected_sent_, n));
    collected_sent_ += n;
  }
  if (collected_sent_ < body.size()) return n > 0;
  request_done_ = true;
  if (response_done_) finishExchange();
  return true;
}

void ClientSession::onMeteredResponseHead(const http1::MessageHead& h, ResponseForwarding& fwd) {
  if (isEventStream(h)) {
    // Forwarded event by event: the forwarder re-chunks (or, to HTTP/1.0, ends by closing).
    if (fwd.framing == BodyFraming::kChunked || fwd.framing == BodyFraming::kContentLength) {
      fwd.framing = client_http11_ ? BodyFraming::kRechunk : BodyFraming::kRaw;
    }
    if (fwd.framing == BodyFraming::kRaw) close_after_ = true;
    metering_.start(MeteringBodySink::Mode::kEventStream, &worker_.completionParser(), 0);
  } else if (h.status == 200) {
    metering_.start(MeteringBodySink::Mode::kWholeAnswer, &worker_.completionParser(),
                    rt_->pipeline.inference().config().max_response_bytes);
  }
}

void ClientSession::cutStream() {
  metering_.cutNotice();
  response_body_.finish();
  response_done_ = true;
  verdict_ = inspect::Verdict::allow("inference", "budget_cut");
  releaseUpstream(false);  // mid-answer: that connection cannot be reused
  if (!request_done_) close_after_ = true;
  finishExchange();
}

bool ClientSession::scanStrings() {
  // One pass over the strings, a NUL after each: like the quotes between strings in the raw
  // body, a NUL is neither space nor word, so a phrase does not run on into the next string.
  rt_->pipeline.scanPrompt(worker_.requestParser().strings(), worker_.signatureScratch(), matches_);
  if (matches_.count > 0) verdict_ = rt_->pipeline.signatureVerdict(matches_, verdict_);
  return matches_.block >= 0;
}

bool ClientSession::bodySignaturesBlock(const http1::ParseResult& r, InspectingBodySink& sink) {
  if (!body_scan_.active()) return false;
  const bool complete = r.status == ParseStatus::kMessageComplete;
  if (complete) sink.finish();
  if (sink.blocked() || (complete && matches_.count > 0)) verdict_ = rt_->pipeline.signatureVerdict(matches_, verdict_);
  if (!sink.blocked()) return false;
  blockBody();
  return true;
}

void ClientSession::blockBody() {
  if (response_started_) {
    abortExchange(Outcome::kDenied);
  } else {
    localReply(verdict_.status, Outcome::kDenied, verdict_.message, true);
  }
}

bool ClientSession::connectUpstream(int exclude_endpoint) {
  endpoint_ = cluster_->lb.pick(loop_.now(), exclude_endpoint);
  if (endpoint_ < 0) {
    localReply(503, Outcome::kNoHealthyUpstream, "no healthy endpoint in cluster", false);
    return false;
  }
  UpstreamHost& host = *cluster_->hosts[static_cast<size_t>(endpoint_)];
  ++attempts_;
  while (!host.idle.empty()) {
    UpstreamConnection* c = host.idle.back();
    host.idle.pop_back();
    if (!c->closed()) {
      up_ = c;
      break;
    }
  }
  if (up_ == nullptr) {
    const LimitsConfig& limits = rt_->config->limits;
    auto* c = new UpstreamConnection(worker_, host, kBodyWindow + limits.max_header_bytes + kHeadSlack,
                                     limits.parserLimits());
    int err = 0;
    if (!c->connect(&err)) {
      delete c;  // never registered anywhere
      cluster_->lb.onFailure(static_cast<size_t>(endpoint_), loop_.now());
      if (attempts_ < 2 && cluster_->lb.size() > 1) {
        bump(worker_.metrics().upstream_retries);
        return connectUpstream(endpoint_);
      }
      localReply(502, Outcome::kUpstreamConnectFailed, "cannot connect to upstream", false);
      return false;
    }
    up_ = c;
    connect_started_ms_ = loop_.now();
  }
  up_->attach(this);
  ++host.health.active;
  up_->in.parser().setHeadRequest(head_request_);
  if (!up_->out.append(request_head_)) {
    abortExchange(Outcome::kUpstreamProtocolError);
    return false;
  }
  request_body_.start(&up_->out, request_framing_, max_body_);
  upstream_sent_us_ = nowUs();
  return true;
}

bool ClientSession::pumpRequest() {
  if (collecting_) return collectRequest();
  if (request_done_ || up_ == nullptr) return false;
  if (inference_) return sendCollected();
  // A scanned body may release held bytes and the re-chunked end beyond what a feed takes.
  const size_t reserve =
      body_scan_.active() ? InspectingBodySink::kMaxHeld + 2 * kFramingReserve : 0;
  const size_t space = up_->out.freeSpace();
  if (space <= reserve) return false;
  const size_t budget = space - reserve;
  http1::BodySink& sink = body_scan_.active() ? static_cast<http1::BodySink&>(inspecting_body_) : request_body_;
  const http1::ParseResult r = in_.feed(sink, budget);
  exchange_bytes_in_ += r.consumed;
  if (bodySignaturesBlock(r, inspecting_body_)) return true;
  if (request_body_.overflow()) {
    if (response_started_) abortExchange(Outcome::kBodyTooLarge);
    else localReply(413, Outcome::kBodyTooLarge, "request body larger than max_body_bytes", true);
    return true;
  }
  if (r.status != ParseStatus::kMessageComplete) return bodyFed(r);
  request_body_.finish();  // a re-chunked body's last chunk
  request_done_ = true;
  if (response_done_) finishExchange();
  return true;
}

bool ClientSession::bodyFed(const http1::ParseResult& r) {
  if (r.status == ParseStatus::kError) {
    if (!response_started_) {
      rejectRequest(r.error);
      return true;
    }
    parse_error_ = r.error;
    bump(worker_.metrics().parse_errors[static_cast<size_t>(r.error)]);
    abortExchange(Outcome::kBadRequest);
    return true;
  }
  if (r.consumed == 0 && client_eof_ && in_.buffer().empty()) {
    abortExchange(Outcome::kClientAborted);  // the client left mid-body
    return true;
  }
  return r.consumed > 0;
}

bool ClientSession::pumpResponse() {
  // While body signatures are still scanning the request, nothing of the response reaches the
  // client: an upstream that answers early (before reading the body) cannot leak a response
  // to a request that is then blocked. It waits in the upstream buffer (backpressure).
  if (body_scan_.active() && !request_done_) return false;
  bool progress = false;
  bool resume = false;  // after a head, feed once more even with no bytes: a bodiless message ends there
  while (up_ != nullptr && !response_done_ && state_ == State::kProxying) {
    const size_t buffered = up_->in.buffer().size();
    size_t budget = buffered;
    if (awaiting_response_head_) {
      if (out_.freeSpace() < rt_->config->limits.max_header_bytes + kHeadSlack) return progress;
    } else {
      // A metered stream forwards held bytes with the next event and may end with the notice.
      const size_t reserve = kFramingReserve + (metering_.mode() == MeteringBodySink::Mode::kEventStream
                                                    ? metering_.held() + MeteringBodySink::kCutNotice.size() + kFramingReserve
                                                    : 0);
      const size_t space = out_.freeSpace();
      if (space <= reserve) return progress;
      budget = std::min(budget, space - reserve);
    }
    http1::BodySink& sink = metering_.mode() != MeteringBodySink::Mode::kOff ? static_cast<http1::BodySink&>(metering_)
                                                                              : response_body_;
    http1::ParseResult r;
    if (buffered == 0 && !resume) {
      if (!up_->peer_closed) return progress;
      r = up_->in.finish(sink);
      if (r.status == ParseStatus::kNeedMore) {  // closed before a response began
        upstreamFailed(Outcome::kUpstreamReset, true);
        return true;
      }
    } else {
      r = up_->in.feed(sink, budget);
    }
    if (metering_.cut()) {
      cutStream();
      return true;
    }
    progress = progress || r.consumed > 0;
    resume = r.status == ParseStatus::kHeadComplete;
    switch (r.status) {
      case ParseStatus::kNeedMore:
        if (r.consumed == 0) return progress;
        break;
      case ParseStatus::kHeadComplete:
        onResponseHead();
        progress = true;
        break;
      case ParseStatus::kMessageComplete:
        progress = true;
        if (interim_response_) {  // a 1xx: the final response follows
          interim_response_ = false;
          break;
        }
        response_done_ = true;
        metering_.finish();
        response_body_.finish();
        if (!request_done_) close_after_ = true;  // the upstream answered before the body ended
        finishExchange();
        return true;
      case ParseStatus::kError:
        parse_error_ = r.error;
        bump(worker_.metrics().upstream_parse_errors[static_cast<size_t>(r.error)]);
        if (response_started_) abortExchange(Outcome::kUpstreamProtocolError);
        else upstreamFailed(Outcome::kUpstreamProtocolError, true);
        return true;
    }
  }
  return progress;
}

void ClientSession::onResponseHead() {
  const http1::MessageHead& h = up_->in.parser().head();
  if (h.status < 200) {
    // 1xx interim responses are not forwarded: dpuguard answers Expect itself.
    interim_response_ = true;
    return;
  }
  awaiting_response_head_ = false;
  upstream_head_us_ = nowUs();
  worker_.metrics().upstream_latency.observeUs(static_cast<uint64_t>(upstream_head_us_ - upstream_sent_us_));
  cluster_->lb.onSuccess(static_cast<size_t>(endpoint_));
  status_ = h.status;

  ResponseForwarding fwd;
  const bool no_body = head_request_ || h.status == 204 || h.status == 304;
  if (no_body) {
    fwd.framing = BodyFraming::kNone;
    fwd.keep_length_header = h.status != 204;
  } else if (h.has_content_length) {
    fwd.framing = BodyFraming::kContentLength;
    fwd.content_length = h.content_length;
  } else if (client_http11_) {
    fwd.framing = h.chunked ? BodyFraming::kChunked : BodyFraming::kRechunk;
  } else {
    fwd.framing = BodyFraming::kRaw;  // an HTTP/1.0 client: the body ends when we close
    close_after_ = true;
  }
  if (inference_ && !no_body) onMeteredResponseHead(h, fwd);
  if (!client_keep_alive_ || draining_) close_after_ = true;
  // Answered before the request body ended: the connection will close once the answer has
  // gone (finishExchange), so say so now rather than close under a keep-alive response.
  if (!request_done_) close_after_ = true;
  fwd.close = close_after_;
  scratch_.clear();
  writeResponseHead(h, fwd, scratch_);
  out_.append(scratch_);  // room was reserved before the head was parsed
  exchange_bytes_out_ += scratch_.size();
  response_started_ = true;
  response_body_.start(&out_, fwd.framing, kNoBodyLimit);
}

void ClientSession::finishExchange() {
  const bool reusable = request_done_ && response_done_ && up_ != nullptr && !up_->peer_closed &&
                        up_->in.buffer().empty() && up_->in.parser().head().keep_alive;
  releaseUpstream(reusable);
  outcome_ = meter_.cut() ? Outcome::kBudgetCut : Outcome::kProxied;
  logExchange();
  state_ = (close_after_ || !client_keep_alive_ || draining_ || !request_done_) ? State::kClosing
                                                                               : State::kReadingHead;
  resetExchange();
}

void ClientSession::resetExchange() {
  route_ = nullptr;
  route_stats_ = nullptr;
  cluster_ = nullptr;
  endpoint_ = -1;
  request_has_body_ = request_done_ = false;
  awaiting_response_head_ = response_started_ = response_done_ = interim_response_ = false;
  head_request_ = false;
  attempts_ = 0;
  status_ = 0;
  outcome_ = Outcome::kProxied;
  parse_error_ = http1::ParseError::kNone;
  exchange_bytes_in_ = exchange_bytes_out_ = 0;
  response_body_.start(nullptr, BodyFraming::kNone, kNoBodyLimit);
  start_us_ = 0;
  upstream_sent_us_ = upstream_head_us_ = -1;
  head_start_ms_ = -1;
  method_.clear();
  path_.clear();
  identity_ = {};
  verdict_ = {};
  matches_.clear();
  inspecting_body_.reset();
  body_scan_.start(nullptr, nullptr);
  inference_ = collecting_ = false;
  collector_.release();
  collected_sent_ = 0;
  model_.clear();
  prompt_estimate_ = 0;
  inspect::InferencePolicy::settle(reservation_, 0, 0, loop_.now(), worker_.buckets());  // unsettled: all back
  reservation_ = {};
  meter_.start(UINT64_MAX);
  metering_.reset();
}

void ClientSession::releaseIdleStorage() {
  // Between exchanges with nothing buffered either way: an idle keep-alive connection holds
  // no buffer or header storage (both go to per-thread caches, so reuse allocates nothing).
  if (state_ != State::kReadingHead || in_.parser().inMessage() || !in_.buffer().empty() ||
      !out_.empty())
    return;
  in_.releaseIdleStorage();
  out_.releaseIfEmpty();
}

void ClientSession::releaseUpstream(bool reusable) {
  if (up_ == nullptr) return;
  UpstreamHost& host = up_->host();
  if (host.health.active > 0) --host.health.active;
  if (reusable) up_->park(cluster_ != nullptr ? cluster_->config->max_idle_connections : 0);
  else up_->close();
  up_ = nullptr;
}

// ---- Failures ---------------------------------------------------------------------------

void ClientSession::rejectRequest(http1::ParseError e) {
  parse_error_ = e;
  bump(worker_.metrics().parse_errors[static_cast<size_t>(e)]);
  const Outcome outcome = e == http1::ParseError::kUnsupportedExpectation ? Outcome::kExpectationFailed : Outcome::kBadRequest;
  localReply(http1::statusFor(e), outcome, http1::parseErrorName(e), true);
}

void ClientSession::localReply(int status, Outcome outcome, std::string_view message, bool close,
                               const ReplyDetail& detail) {
  releaseUpstream(false);
  if (!close && !request_done_) {
    // Keep the connection only if the request has no body: then it ended with its head.
    http1::NullBodySink none;
    close = request_has_body_ || in_.feed(none, 0).status != ParseStatus::kMessageComplete;
    request_done_ = !close;
  }
  close = close || !client_keep_alive_ || draining_;
  status_ = status;
  outcome_ = outcome;
  scratch_.clear();
  writeLocalReply(status, outcomeName(outcome), message, close, scratch_, detail);
  if (out_.append(scratch_)) exchange_bytes_out_ += scratch_.size();
  else close = true;
  logExchange();
  state_ = close ? State::kClosing : State::kReadingHead;
  resetExchange();
}

void ClientSession::upstreamFailed(Outcome outcome, bool endpoint_failure) {
  if (endpoint_failure && cluster_ != nullptr && endpoint_ >= 0) {
    EndpointHealth& health = cluster_->lb.health(static_cast<size_t>(endpoint_));
    const uint64_t before = health.ejections;
    cluster_->lb.onFailure(static_cast<size_t>(endpoint_), loop_.now());
    if (health.ejections != before) bump(worker_.metrics().upstream_ejections);
  }
  const bool reused = up_ != nullptr && up_->reused();
  releaseUpstream(false);
  if (response_started_) {
    abortExchange(outcome);
    return;
  }
  // A request without a body can be sent again: to another endpoint after a failed connect
  // (nothing was sent), or, if its method is idempotent (RFC 9110 §9.2.2), on a fresh
  // connection when a pooled one turned out to be closed by the server.
  const bool other_endpoint = cluster_ != nullptr && cluster_->lb.size() > 1;
  const bool idempotent = method_ == "GET" || method_ == "HEAD" || method_ == "OPTIONS" ||
                          method_ == "TRACE" || method_ == "PUT" || method_ == "DELETE";
  const bool stale_pooled = reused && idempotent &&
                            (outcome == Outcome::kUpstreamReset || outcome == Outcome::kUpstreamProtocolError);
  const bool retryable = !request_has_body_ && attempts_ < 2 &&
                         ((outcome == Outcome::kUpstreamConnectFailed && other_endpoint) || stale_pooled);
  if (retryable && cluster_ != nullptr) {
    bump(worker_.metrics().upstream_retries);
    connectUpstream(outcome == Outcome::kUpstreamConnectFailed ? endpoint_ : -1);
    return;
  }
  const bool timeout = outcome == Outcome::kUpstreamConnectTimeout || outcome == Outcome::kRouteTimeout ||
                       outcome == Outcome::kIdleTimeout;
  localReply(timeout ? 504 : 502, outcome, timeout ? "upstream did not answer in time" : "upstream failed", false);
}

void ClientSession::abortExchange(Outcome outcome) {
  if (state_ == State::kProxying) {
    outcome_ = outcome;
    logExchange();
  }
  releaseUpstream(false);
  closeConnection();
}

void ClientSession::closeOrLinger() {
  // close(2) with unread bytes in the socket sends a reset, which can destroy the reply
  // before the client has read it (RFC 9112 §9.6): end our side, drop what still comes.
  // Needed only while request bytes are unread or may still arrive.
  int queued = 0;
  const bool unread = !in_.buffer().empty() || in_.parser().inMessage() ||
                      (::ioctl(fd_, FIONREAD, &queued) == 0 && queued > 0);
  if (client_eof_ || !unread || ::shutdown(fd_, SHUT_WR) != 0) {
    closeConnection();
    return;
  }
  state_ = State::kLingering;
  linger_.deadline_ms = loop_.now() + kLingerMs;
  linger_.bytes = 0;
  in_.buffer().consume(in_.buffer().size());
  interest_ = EPOLLIN | EPOLLRDHUP;
  loop_.modify(fd_, interest_, this);
  lingerRead();
}

void ClientSession::lingerRead() {
  char drop[4096];
  while (linger_.bytes < kLingerBytes) {
    const ssize_t n = ::read(fd_, drop, sizeof drop);
    if (n > 0) {
      linger_.bytes += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      armTimer();
      return;
    }
    break;  // the client closed (or failed): done
  }
  closeConnection();
}

void ClientSession::closeConnection() {
  if (fd_ < 0) return;
  releaseUpstream(false);
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  loop_.timers().cancel(this);
  worker_.metrics().connections_active.fetch_sub(1, std::memory_order_relaxed);
  worker_.retire(this);
}

// ---- Interest, timers, logging ------------------------------------------------------------

void ClientSession::updateInterest() {
  uint32_t ev = 0;
  // Input stays armed while the response is proxied, even once the request is complete: a
  // pipelined next request is read ahead into in_ (bounded; full in_ disarms it), and the
  // interest does not flip twice per exchange (two epoll_ctl per request, measured).
  if (!client_eof_ && in_.buffer().freeSpace() > 0) {
    ev |= EPOLLRDHUP;  // notice a client that goes away while we wait on the upstream
    if (state_ != State::kClosing) ev |= EPOLLIN;
  }
  if (!out_.empty()) ev |= EPOLLOUT;
  if (ev != interest_) {
    interest_ = ev;
    loop_.modify(fd_, ev, this);
  }
  if (up_ != nullptr) {
    uint32_t uev = 0;
    if (up_->connecting()) {
      uev = EPOLLOUT;
    } else {
      if (!up_->out.empty()) uev |= EPOLLOUT;
      if (!response_done_ && !up_->peer_closed && up_->in.buffer().freeSpace() > 0)
        uev |= EPOLLIN | EPOLLRDHUP;
    }
    up_->setInterest(uev);
  }
}

uint32_t ClientSession::idleTimeoutMs() const {
  if (route_ != nullptr && route_->idle_timeout_ms != 0) return route_->idle_timeout_ms;
  return listenerLimits(*rt_, listener_index_).idle_timeout_ms;
}

int64_t ClientSession::nextDeadline() const {
  const LimitsConfig& limits = listenerLimits(*rt_, listener_index_);
  if (state_ == State::kLingering) return linger_.deadline_ms;
  int64_t d = last_activity_ms_ + idleTimeoutMs();
  if (state_ == State::kReadingHead && (in_.parser().inMessage() || !in_.buffer().empty())) {
    d = (head_start_ms_ >= 0 ? head_start_ms_ : last_activity_ms_) + limits.header_timeout_ms;
  } else if (state_ == State::kProxying) {
    if (route_ != nullptr && route_->timeout_ms != 0) d = std::min<int64_t>(d, start_ms_ + route_->timeout_ms);
    if (up_ != nullptr && up_->connecting() && cluster_ != nullptr) {
      d = std::min<int64_t>(d, connect_started_ms_ + cluster_->config->connect_timeout_ms);
    }
  }
  return d;
}

void ClientSession::armTimer() {
  if (closed()) return;
  const int64_t d = nextDeadline();
  if (!scheduled() || d < deadline()) loop_.timers().schedule(this, d);
}

void ClientSession::onTimer() {
  const int64_t now = loop_.now();
  if (now < nextDeadline()) {
    armTimer();
    return;
  }
  switch (state_) {
    case State::kReadingHead:
      if (in_.parser().inMessage() || !in_.buffer().empty()) {
        localReply(408, Outcome::kHeaderTimeout, "request head not received in time", true);
      } else {
        closeConnection();  // idle keep-alive connection
      }
      break;
    case State::kProxying:
      if (collecting_) {
        localReply(408, Outcome::kIdleTimeout, "request body not received in time", true);
      } else if (up_ != nullptr && up_->connecting() && now >= connect_started_ms_ + cluster_->config->connect_timeout_ms) {
        upstreamFailed(Outcome::kUpstreamConnectTimeout, true);
      } else if (route_ != nullptr && route_->timeout_ms != 0 && now >= start_ms_ + route_->timeout_ms) {
        if (response_started_) abortExchange(Outcome::kRouteTimeout);
        else upstreamFailed(Outcome::kRouteTimeout, false);
      } else if (response_started_) {
        abortExchange(Outcome::kIdleTimeout);
      } else {
        upstreamFailed(Outcome::kIdleTimeout, false);
      }
      break;
    case State::kClosing:
    case State::kLingering:
      closeConnection();
      break;
  }
  if (!closed()) drive();
}

void ClientSession::logExchange() {
  WorkerMetrics& m = worker_.metrics();
  bump(m.outcomes[static_cast<size_t>(outcome_)]);
  const int64_t total_us = start_us_ != 0 ? nowUs() - start_us_ : 0;
  if (route_stats_ != nullptr) {
    if (status_ > 0 && status_ < 600) bump(route_stats_->by_status[static_cast<size_t>(status_)]);
    route_stats_->latency.observeUs(static_cast<uint64_t>(std::max<int64_t>(total_us, 0)));
  } else if (status_ > 0 && status_ < 600) {
    bump(worker_.unroutedStats().by_status[static_cast<size_t>(status_)]);
  }
  FlowRecord rec;
  rec.listener = rt_->config->listeners[listener_index_].name;
  rec.client = peer_.text;
  rec.method = method_;
  rec.path = path_;
  if (route_ != nullptr) {
    rec.route = route_->name;
    rec.cluster = route_->cluster;
  }
  if (cluster_ != nullptr) rec.cluster = cluster_->config->name;  // routing by model may have changed it
  if (cluster_ != nullptr && endpoint_ >= 0) rec.endpoint = cluster_->hosts[static_cast<size_t>(endpoint_)]->address.text;
  rec.status = status_;
  rec.bytes_in = exchange_bytes_in_;
  rec.bytes_out = exchange_bytes_out_ + response_body_.payloadBytes();
  rec.upstream_us = upstream_head_us_ >= 0 ? upstream_head_us_ - upstream_sent_us_ : -1;
  rec.total_us = total_us;
  rec.reason = outcomeName(outcome_);
  if (parse_error_ != http1::ParseError::kNone) rec.parse_error = http1::parseErrorName(parse_error_);
  rec.identity = identity_;
  rec.rule = verdict_.rule;
  rec.verdict = verdict_.tag;
  // The final verdict, once per exchange: the graph and the per-rule counts.
  if (!identity_.empty()) worker_.edges().record(identity_, route_->name, verdict_, unixMs());
  if (matches_.count > 0) {
    dpi_ids_.clear();
    for (size_t i = 0; i < matches_.count; ++i) {
      dpi_ids_.append(i == 0 ? "" : ",").append(rt_->pipeline.signatures()->signatures()[matches_.ids[i]].id);
    }
    rec.dpi = dpi_ids_;
  }
  if (inference_) {
    rec.model = model_;
    // Tokens when an answer came (usage, else counted); the reservation is settled with them.
    const uint64_t prompt = response_started_ ? meter_.promptTokens(prompt_estimate_) : 0;
    const uint64_t completion = response_started_ ? meter_.completionTokens() : 0;
    if (response_started_) {
      rec.prompt_tokens = static_cast<int64_t>(prompt);
      rec.completion_tokens = static_cast<int64_t>(completion);
    }
    inspect::InferencePolicy::settle(reservation_, prompt, completion, loop_.now(), worker_.buckets());
  }
  worker_.flowLog().append(rec);
  if (const std::string& events = rt_->config->host_channel.events; !events.empty()) {
    worker_.hostLink(events).sendFlowEvent(peer_, rec);
  }
}

}  // namespace dpuguard::proxy
