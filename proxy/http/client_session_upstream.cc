// ClientSession, the upstream side: connecting, the request body up (streamed through the
// inspector's request sink, or collected whole and judged first), the response down
// (through its response sink), and giving the connection back to the pool.
#include <sys/epoll.h>

#include <algorithm>

#include "proxy/http/client_session.h"
#include "proxy/http/session_limits.h"
#include "proxy/http/session_services.h"

namespace dpuguard::proxy {
namespace {

using http1::ParseStatus;

// The media type of a head's Content-Type, without parameters ("" when there is none).
std::string_view mediaType(const http1::MessageHead& h) {
  for (const http1::HeaderField& f : h.headers) {
    if (!http1::equalsIgnoreCase(f.name, "content-type")) continue;
    const std::string_view media = f.value.substr(0, f.value.find(';'));
    return media.substr(0, media.find_last_not_of(" \t") + 1);
  }
  return {};
}

// A Content-Encoding other than identity (RFC 9110 §8.4).
bool isEncoded(const http1::MessageHead& h) {
  for (const http1::HeaderField& f : h.headers) {
    if (http1::equalsIgnoreCase(f.name, "content-encoding") && !f.value.empty() &&
        !http1::equalsIgnoreCase(f.value, "identity"))
      return true;
  }
  return false;
}

// application/json or any application/...+json (RFC 6839 §3.1).
bool isJson(std::string_view media) {
  if (http1::equalsIgnoreCase(media, "application/json")) return true;
  return media.size() > 17 && http1::equalsIgnoreCase(media.substr(0, 12), "application/") &&
         http1::equalsIgnoreCase(media.substr(media.size() - 5), "+json");
}

}  // namespace

void ClientSession::onUpstreamIo(uint32_t events) {
  if (ex_ == nullptr || x().up == nullptr) return;
  UpstreamConnection* up = x().up;
  if (up->connecting()) {
    switch (up->advanceConnect(events)) {
      case UpstreamConnection::Connect::kDone:
        break;  // the request goes out below (drive)
      case UpstreamConnection::Connect::kAgain:
        drive();  // the handshake may wait for another event now
        return;
      case UpstreamConnection::Connect::kFailed:
        connectFailed();
        if (!closed()) drive();
        return;
    }
  }
  // A TLS read may wait for the socket to be writable (and then it is its turn, not a write's).
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) ||
      ((events & EPOLLOUT) && (up->transportInterest() & EPOLLOUT))) {
    const UpstreamConnection::Io r = up->readSome();
    if (r == UpstreamConnection::Io::kProgress) {
      last_activity_ms_ = loop_.now();
    } else if (r == UpstreamConnection::Io::kEof) {
      up->peer_closed = true;
    } else if (r == UpstreamConnection::Io::kError) {
      if (x().response_started)
        abortExchange(Outcome::kUpstreamReset);
      else
        upstreamFailed(Outcome::kUpstreamReset, true);
      if (!closed()) drive();
      return;
    }
  }
  drive();
}

bool ClientSession::connectUpstream(int exclude_endpoint) {
  ExchangeState& s = x();
  if (s.first_cluster == nullptr) s.first_cluster = s.cluster;
  // Every endpoint said when to come back (Retry-After): the next cluster, if there is one.
  if (s.cluster->lb.resting(loop_.now())) {
    s.endpoint = -1;
    if (fallBack(Outcome::kNoHealthyUpstream, 0)) return ex_ != nullptr && x().up != nullptr;
  }
  s.endpoint = s.cluster->lb.pick(loop_.now(), exclude_endpoint);
  if (s.endpoint < 0) {
    if (fallBack(Outcome::kNoHealthyUpstream, 0)) return ex_ != nullptr && x().up != nullptr;
    localReply(Outcome::kNoHealthyUpstream, false);
    return false;
  }
  UpstreamHost& host = *s.cluster->hosts[static_cast<size_t>(s.endpoint)];
  const tls::TlsClientContext* tls_context = s.cluster->config->tls.context.get();
  ++s.attempts;
  s.upstream_tls_error = s.upstream_tls_verify = {};
  // The most recently parked connection made with this cluster's TLS context (or plain, for
  // a plain cluster): another cluster's, or an older snapshot's, was verified for other names.
  for (size_t i = host.idle.size(); i-- > 0;) {
    UpstreamConnection* c = host.idle[i];
    if (c->closed() || c->tlsContext() != tls_context) continue;
    host.idle.erase(host.idle.begin() + static_cast<std::ptrdiff_t>(i));
    s.up = c;
    break;
  }
  if (s.up == nullptr) {
    const LimitsConfig& limits = rt_->config->limits;
    auto* c = new UpstreamConnection(
        worker_, host, kBodyWindow + limits.max_header_bytes + kHeadSlack, limits.parserLimits());
    int err = 0;
    if (!c->connect(s.cluster->tlsFor(static_cast<size_t>(s.endpoint)), &err)) {
      delete c;  // never registered anywhere
      s.cluster->lb.onFailure(static_cast<size_t>(s.endpoint), loop_.now());
      if (s.attempts < 2 && s.cluster->lb.size() > 1) {
        bump(worker_.metrics().upstream_retries);
        return connectUpstream(s.endpoint);
      }
      if (fallBack(Outcome::kUpstreamConnectFailed, 0)) return ex_ != nullptr && x().up != nullptr;
      localReply(Outcome::kUpstreamConnectFailed, false);
      return false;
    }
    s.up = c;
    s.connect_started_ms = loop_.now();
  }
  s.up->attach(this);
  ++host.health.active;
  s.up->in.parser().setHeadRequest(s.head_request);
  if (!s.up->out.append(ex_->request_head)) {
    abortExchange(Outcome::kUpstreamProtocolError);
    return false;
  }
  s.request_body.start(&s.up->out, s.request_framing, s.max_body);
  s.upstream_sent_us = nowUs();
  return true;
}

void ClientSession::connectFailed() {
  ExchangeState& s = x();
  const UpstreamConnection& up = *s.up;
  if (up.tlsFailure() == tls::Failure::kNone) {
    upstreamFailed(Outcome::kUpstreamConnectFailed, true);
    return;
  }
  s.upstream_tls_error = tls::failureName(up.tlsFailure());
  s.upstream_tls_verify = up.tlsVerifyError();
  upstreamFailed(Outcome::kUpstreamTlsFailed, true);
}

bool ClientSession::pullUpstream() {
  // TLS decrypts a record whole; what did not fit in the input buffer waits inside it, and
  // no socket event will say so. Read it once the buffer has room again.
  UpstreamConnection* up = x().up;
  if (up == nullptr || !up->hasBufferedInput() || x().response_done) return false;
  if (up->in.buffer().freeSpace() == 0) return false;
  const UpstreamConnection::Io r = up->readSome();
  if (r == UpstreamConnection::Io::kProgress) return true;
  if (r == UpstreamConnection::Io::kEof) up->peer_closed = true;
  if (r == UpstreamConnection::Io::kError) {
    if (x().response_started)
      abortExchange(Outcome::kUpstreamReset);
    else
      upstreamFailed(Outcome::kUpstreamReset, true);
    return true;
  }
  return false;
}

bool ClientSession::flushUpstream() {
  UpstreamConnection* up = x().up;
  if (up == nullptr || up->connecting()) return false;
  bool wrote = false;
  while (!up->out.empty()) {
    const UpstreamConnection::Io r = up->writeSome();
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

void ClientSession::releaseUpstream(bool reusable) {
  ExchangeState& s = x();
  if (s.up == nullptr) return;
  UpstreamHost& host = s.up->host();
  if (host.health.active > 0) --host.health.active;
  if (reusable)
    s.up->park(s.cluster != nullptr ? s.cluster->config->max_idle_connections : 0);
  else
    s.up->close();
  s.up = nullptr;
}

// ---- The request body -----------------------------------------------------------------------

bool ClientSession::pumpRequest() {
  ExchangeState& s = x();
  if (s.collecting) return collectRequest();
  if (s.request_done || s.up == nullptr) return false;
  if (inspector().collectsBody()) return sendCollected();
  // A scanned body may release held bytes and the re-chunked end beyond what a feed takes.
  const size_t reserve =
      inspector().scansBody() ? inspect::ExchangeInspector::kRequestHeld + 2 * kFramingReserve : 0;
  const size_t space = s.up->out.freeSpace();
  if (space <= reserve) return false;
  const http1::ParseResult r = in_.feed(*s.request_sink, space - reserve);
  s.bytes_in += r.consumed;
  const bool complete = r.status == ParseStatus::kMessageComplete;
  if (const inspect::Verdict v = inspector().onRequestBody(complete); v.blocked()) {
    blockBody(v);
    return true;
  }
  if (s.request_body.overflow()) {
    if (s.response_started)
      abortExchange(Outcome::kBodyTooLarge);
    else
      localReply(Outcome::kBodyTooLarge, true);
    return true;
  }
  if (!complete) return bodyFed(r);
  s.request_body.finish();  // a re-chunked body's last chunk
  s.request_done = true;
  if (s.response_done) finishExchange();
  return true;
}

bool ClientSession::collectRequest() {
  // Not scanned as it arrives: the inspector reads the decoded strings once it is whole.
  const http1::ParseResult r = in_.feed(ex_->collector);
  x().bytes_in += r.consumed;
  if (ex_->collector.overflow()) {
    refuse(inspector().bodyTooLarge(), true);
    return true;
  }
  if (r.status != ParseStatus::kMessageComplete) return bodyFed(r);
  x().collecting = false;
  admitCollected();
  return true;
}

void ClientSession::admitCollected() {
  ExchangeState& s = x();
  const size_t readable = ex_->collector.pad();
  const inspect::Verdict v = inspector().onRequestComplete(ex_->collector.body(), readable,
                                                           loop_.now(), worker_.inspectContext());
  if (v.blocked()) {
    s.request_done = true;  // read whole, nothing sent: the connection can stay
    refuse(v, false);
    return;
  }
  if (const int c = inspector().routedCluster(); c >= 0)
    s.cluster = &rt_->clusters[static_cast<size_t>(c)];
  addContentLength(ex_->request_head, ex_->collector.size());
  // Head and body leave in one write (a second, separate segment per request was measured).
  if (connectUpstream(-1)) sendCollected();
}

bool ClientSession::sendCollected() {
  ExchangeState& s = x();
  const std::string_view body = ex_->collector.body();
  const size_t n = std::min(s.up->out.freeSpace(), body.size() - s.collected_sent);
  if (n > 0) {
    s.up->out.append(body.substr(s.collected_sent, n));
    s.collected_sent += n;
  }
  if (s.collected_sent < body.size()) return n > 0;
  s.request_done = true;
  if (s.response_done) finishExchange();
  return true;
}

void ClientSession::blockBody(const inspect::Verdict& v) {
  if (x().response_started)
    abortExchange(Outcome::kDenied);
  else
    refuse(v, true);
}

bool ClientSession::bodyFed(const http1::ParseResult& r) {
  ExchangeState& s = x();
  if (r.status == ParseStatus::kError) {
    if (!s.response_started) {
      rejectRequest(r.error);
      return true;
    }
    s.parse_error = r.error;
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

// ---- The response -------------------------------------------------------------------------

bool ClientSession::pumpResponse() {
  // While body signatures are still scanning the request, nothing of the response reaches the
  // client: an upstream that answers early (before reading the body) cannot leak a response
  // to a request that is then blocked. It waits in the upstream buffer (backpressure).
  if (inspector().scansBody() && !x().request_done) return false;
  if (x().holding && x().response_started) return sendHeld();  // a judged answer on its way
  bool progress = false;
  bool resume =
      false;  // after a head, feed once more even with no bytes: a bodiless message ends there
  while (ex_ != nullptr && x().up != nullptr && !x().response_done && state_ == State::kProxying) {
    ExchangeState& s = x();
    const size_t buffered = s.up->in.buffer().size();
    size_t budget = buffered;
    http1::BodySink* sink = &s.response_body;
    if (s.awaiting_response_head) {
      if (out_.freeSpace() < rt_->config->limits.max_header_bytes + kHeadSlack) return progress;
    } else {
      // A metered stream forwards held bytes with the next event and may end with the notice.
      const size_t held = inspector().responseHeld();
      const size_t reserve =
          kFramingReserve +
          (held > 0 || s.response_sink != &s.response_body
               ? held + inspect::ExchangeInspector::kMaxNoticeBytes + kFramingReserve
               : 0);
      const size_t space = out_.freeSpace();
      if (space <= reserve) return progress;
      budget = std::min(budget, space - reserve);
      sink = s.response_sink;
    }
    http1::ParseResult r;
    if (buffered == 0 && !resume) {
      if (!s.up->peer_closed) return progress;
      r = s.up->in.finish(*sink);
      if (r.status == ParseStatus::kNeedMore) {  // closed before a response began
        upstreamFailed(Outcome::kUpstreamReset, true);
        return true;
      }
    } else {
      r = s.up->in.feed(*sink, budget);
    }
    const bool complete = r.status == ParseStatus::kMessageComplete && !s.interim_response;
    if (!s.awaiting_response_head) {
      const inspect::Verdict v = inspector().onResponseBody(complete);
      if (v.isCut()) {
        cutAnswer();
        return true;
      }
      if (v.blocked()) {  // a held answer the output guardrails refused: 502 instead of it
        releaseUpstream(complete && reusableUpstream());
        refuse(v, false);
        return true;
      }
    }
    progress = progress || r.consumed > 0;
    resume = r.status == ParseStatus::kHeadComplete;
    switch (r.status) {
      case ParseStatus::kNeedMore:
        if (r.consumed == 0) return progress;
        break;
      case ParseStatus::kHeadComplete:
        onResponseHead();
        if (ex_ == nullptr || (x().awaiting_response_head && !x().interim_response))
          return true;  // sent on to a fallback cluster: that connection is read from now
        progress = true;
        break;
      case ParseStatus::kMessageComplete:
        progress = true;
        if (s.interim_response) {  // a 1xx: the final response follows
          s.interim_response = false;
          s.awaiting_response_head = true;
          break;
        }
        s.response_done = true;
        if (!s.request_done) close_after_ = true;  // the upstream answered before the body ended
        if (s.holding) {  // judged and let through: now it goes, with its length
          releaseUpstream(reusableUpstream());
          sendHeldHead();
          return true;
        }
        s.response_body.finish();
        finishExchange();
        return true;
      case ParseStatus::kError:
        s.parse_error = r.error;
        bump(worker_.metrics().upstream_parse_errors[static_cast<size_t>(r.error)]);
        if (s.response_started)
          abortExchange(Outcome::kUpstreamProtocolError);
        else
          upstreamFailed(Outcome::kUpstreamProtocolError, true);
        return true;
    }
  }
  return progress;
}

void ClientSession::onResponseHead() {
  ExchangeState& s = x();
  const http1::MessageHead& h = s.up->in.parser().head();
  if (h.status < 200) {
    // 1xx interim responses are not forwarded: dpuguard answers Expect itself.
    s.interim_response = true;
    return;
  }
  s.awaiting_response_head = false;
  s.upstream_head_us = nowUs();
  worker_.metrics().upstream_latency.observeUs(
      static_cast<uint64_t>(s.upstream_head_us - s.upstream_sent_us));
  s.cluster->lb.onSuccess(static_cast<size_t>(s.endpoint), loop_.now());
  if ((h.status == 429 || h.status == 503) && refusedUpstream(h)) return;
  s.status = h.status;

  ResponseForwarding fwd;
  const bool no_body = s.head_request || h.status == 204 || h.status == 304;
  if (no_body) {
    fwd.framing = BodyFraming::kNone;
    fwd.keep_length_header = h.status != 204;
  } else if (h.has_content_length) {
    fwd.framing = BodyFraming::kContentLength;
    fwd.content_length = h.content_length;
  } else if (s.client_http11) {
    fwd.framing = h.chunked ? BodyFraming::kChunked : BodyFraming::kRechunk;
  } else {
    fwd.framing = BodyFraming::kRaw;  // an HTTP/1.0 client: the body ends when we close
    close_after_ = true;
  }
  const std::string_view media = mediaType(h);
  const inspect::ResponsePlan plan = inspector().onResponseHead(
      {.status = h.status,
       .has_body = !no_body,
       .event_stream = http1::equalsIgnoreCase(media, "text/event-stream"),
       .json = isJson(media),
       .encoded = isEncoded(h)},
      worker_.inspectContext());
  if (plan.event_by_event) {
    // Forwarded event by event: the forwarder re-chunks (or, to HTTP/1.0, ends by closing).
    if (fwd.framing == BodyFraming::kChunked || fwd.framing == BodyFraming::kContentLength) {
      fwd.framing = s.client_http11 ? BodyFraming::kRechunk : BodyFraming::kRaw;
    }
    if (fwd.framing == BodyFraming::kRaw) close_after_ = true;
  }
  if (plan.held) {
    // Nothing of it goes before the guardrails have read it whole: the head is written now,
    // without framing, and sent with the held answer's length (sendHeldHead).
    fwd.framing = BodyFraming::kNone;
    fwd.keep_length_header = false;
    s.holding = true;
  }
  if (!s.client_keep_alive || draining_) close_after_ = true;
  // Answered before the request body ended: the connection will close once the answer has
  // gone (finishExchange), so say so now rather than close under a keep-alive response.
  if (!s.request_done) close_after_ = true;
  fwd.close = close_after_;
  std::string& head = ex_->scratch;
  head.clear();
  writeResponseHead(h, fwd, head);
  s.response_body.start(&out_, fwd.framing, kNoBodyLimit);
  s.response_sink = &inspector().responseSink(s.response_body);
  if (s.holding) return;  // the head waits in scratch
  out_.append(head);      // room was reserved before the head was parsed
  s.bytes_out += head.size();
  s.response_started = true;
}

bool ClientSession::reusableUpstream() const {
  const ExchangeState& s = x();
  return s.request_done && s.response_done && s.up != nullptr && !s.up->peer_closed &&
         s.up->in.buffer().empty() && s.up->in.parser().head().keep_alive;
}

void ClientSession::sendHeldHead() {
  ExchangeState& s = x();
  addContentLength(ex_->scratch, inspector().heldAnswer().size());
  out_.append(ex_->scratch);  // room was reserved before the head was parsed
  s.bytes_out += ex_->scratch.size();
  s.response_started = true;
  s.held_sent = 0;
  sendHeld();
}

bool ClientSession::sendHeld() {
  ExchangeState& s = x();
  const std::string_view body = inspector().heldAnswer();
  const size_t n = std::min(out_.freeSpace(), body.size() - s.held_sent);
  if (n > 0) {
    out_.append(body.substr(s.held_sent, n));
    s.held_sent += n;
    s.bytes_out += n;
  }
  if (s.held_sent < body.size()) return n > 0;
  finishExchange();
  return true;
}

void ClientSession::cutAnswer() {
  ExchangeState& s = x();
  inspector().notice();
  s.response_body.finish();
  s.response_done = true;
  releaseUpstream(false);  // mid-answer: that connection cannot be reused
  if (!s.request_done) close_after_ = true;
  finishExchange();
}

}  // namespace dpuguard::proxy
