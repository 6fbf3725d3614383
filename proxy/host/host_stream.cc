// HostStream: request bytes -> ring messages, ring messages -> response bytes.
#include "proxy/host/host_stream.h"

#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "parsers/http1/reason_phrase.h"
#include "proxy/host/host_link.h"

namespace dpuguard::proxy {
namespace {

constexpr size_t kReadBytes = 16384;
// The host keeps to the stream's window (kInitialStreamWindow); one that sends this much more
// than its client has read is not keeping to it, and loses the stream.
constexpr size_t kMaxPendingResponse = 8u << 20;
constexpr uint32_t kGrantBytes = 64u << 10;  // grants go back in pieces of at least this

bool wireMethod(std::string_view m, shm::WireMethod& out) {
  static constexpr std::array<std::pair<std::string_view, shm::WireMethod>, 8> kMethods = {
      {{"GET", shm::WireMethod::kGet},
       {"HEAD", shm::WireMethod::kHead},
       {"POST", shm::WireMethod::kPost},
       {"PUT", shm::WireMethod::kPut},
       {"DELETE", shm::WireMethod::kDelete},
       {"PATCH", shm::WireMethod::kPatch},
       {"OPTIONS", shm::WireMethod::kOptions},
       {"TRACE", shm::WireMethod::kTrace}}};
  for (const auto& [name, method] : kMethods) {
    if (m == name) {
      out = method;
      return true;
    }
  }
  return false;
}

}  // namespace

HostStream::HostStream(HostLink& link, const http1::Limits& limits)
    : link_(&link),
      loop_(link.loopOf()),
      parser_(http1::MessageParser::Kind::kRequest, limits),
      in_capacity_(limits.max_header_bytes + kReadBytes),
      in_(new char[in_capacity_]) {}

HostStream::~HostStream() {
  close();
  if (link_ != nullptr) link_->forget(this);
}

void HostStream::watch(IoHandler* handler, uint32_t events) {
  if (watcher_ != nullptr && watcher_ != handler) loop_.cancel(watcher_);
  watcher_ = handler;
  watch_events_ = events;
  notify();
}

void HostStream::notify() {
  if (watcher_ == nullptr) return;
  uint32_t ready = 0;
  if (out_read_ < out_.size() || hung_up_) ready |= EPOLLIN;
  if (hung_up_)
    ready |= EPOLLRDHUP | EPOLLHUP;
  else if (!blocked_)
    ready |= EPOLLOUT;
  ready &= watch_events_ | EPOLLHUP;  // a hangup is reported whatever was asked, as by epoll
  if (ready != 0) loop_.post(watcher_, ready);
}

void HostStream::close() {
  if (closed_) return;
  closed_ = true;
  if (watcher_ != nullptr) loop_.cancel(watcher_);
  watcher_ = nullptr;
  if (stream_id_ != 0 && link_ != nullptr) {
    // The session gave up on the exchange (client gone, timeout): the host abandons it too.
    const shm::StreamReset reset{stream_id_, static_cast<uint32_t>(shm::ResetReason::kClientGone),
                                 0};
    link_->send(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&reset, 1)));
    link_->flush();
    link_->endExchange(stream_id_);
  }
  stream_id_ = 0;
}

void HostStream::hangUp() {
  if (hung_up_) return;
  hung_up_ = true;
  if (stream_id_ != 0 && link_ != nullptr) link_->endExchange(stream_id_);
  stream_id_ = 0;
  notify();
}

void HostStream::resume() {
  blocked_ = false;
  if (credit_due_ >= kGrantBytes) grant();
  notify();
}

void HostStream::grant() {
  if (stream_id_ == 0 || link_ == nullptr || hung_up_) {
    credit_due_ = 0;  // the exchange is over: nothing more will come
    return;
  }
  if (!link_->room(1)) {  // the ring is full: again once it has room (resume)
    if (!hung_up_) link_->blocked(this);
    return;
  }
  const shm::StreamWindow w{stream_id_, credit_due_, 0};
  if (link_->send(shm::MessageSchema::kStreamWindow, std::as_bytes(std::span(&w, 1)))) {
    credit_due_ = 0;
    link_->flush();
  }
}

Transport::Result HostStream::read(char* dst, size_t capacity) {
  if (out_read_ < out_.size()) {
    const size_t n = std::min(capacity, out_.size() - out_read_);
    std::memcpy(dst, out_.data() + out_read_, n);
    out_read_ += n;
    // Framing bytes are read too: what is granted never exceeds the body bytes received.
    const uint64_t body = std::min<uint64_t>(n, body_unread_);
    body_unread_ -= body;
    credit_due_ += static_cast<uint32_t>(body);
    if (credit_due_ >= kGrantBytes) grant();
    if (out_read_ == out_.size()) {
      out_.clear();
      out_read_ = 0;
    } else if (out_read_ > kReadBytes) {
      out_.erase(0, out_read_);
      out_read_ = 0;
    }
    notify();
    return {Io::kDone, n};
  }
  return {hung_up_ ? Io::kEof : Io::kWouldBlock, 0};
}

Transport::Result HostStream::write(std::string_view data) {
  if (hung_up_ || closed_ || link_ == nullptr) return {Io::kError, 0};
  if (blocked_) return {Io::kWouldBlock, 0};
  // Worst case for one write: a head, kReadBytes of body in maxPayload pieces, and the end.
  const size_t reserve = kReadBytes / (link_->maxPayload() - sizeof(shm::BodyPrefix)) + 3;
  if (!link_->room(reserve)) {
    if (hung_up_) return {Io::kError, 0};  // room() found the ring faulted: the link is down
    blocked_ = true;
    link_->blocked(this);
    return {Io::kWouldBlock, 0};
  }
  if (!parser_.inHead() && in_start_ > 0) {  // body bytes may move; head bytes may not
    std::memmove(in_.get(), in_.get() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  const size_t n = std::min({kReadBytes, in_capacity_ - in_end_, data.size()});
  if (n == 0) {  // a head larger than the limits the session already enforced
    hangUp();
    return {Io::kError, 0};
  }
  std::memcpy(in_.get() + in_end_, data.data(), n);
  in_end_ += n;
  parse();
  if (link_ != nullptr) link_->flush();
  if (hung_up_) return {Io::kError, 0};
  return {Io::kDone, n};
}

void HostStream::parse() {
  while (!hung_up_ && in_start_ < in_end_) {
    const http1::ParseResult r =
        parser_.feed(std::string_view(in_.get() + in_start_, in_end_ - in_start_), *this);
    in_start_ += r.consumed;
    if (failed_ || r.status == http1::ParseStatus::kError) {
      hangUp();  // our own rebuilt request did not parse, or the ring refused it: reset
      return;
    }
    if (r.status == http1::ParseStatus::kHeadComplete) {
      if (!emitHead(parser_.head())) {
        hangUp();
        return;
      }
    } else if (r.status == http1::ParseStatus::kMessageComplete) {
      if (request_body_ && !emitBody({}, true)) {
        hangUp();
        return;
      }
      request_body_ = false;
    } else {
      break;  // kNeedMore: everything consumed
    }
  }
  if (in_start_ == in_end_ && !parser_.inHead()) in_start_ = in_end_ = 0;
}

bool HostStream::emitHead(const http1::MessageHead& head) {
  shm::WireMethod method;
  if (!wireMethod(head.method, method)) return false;
  std::array<shm::WireField, shm::kMaxFields> fields;
  size_t count = 0;
  for (const http1::HeaderField& f : head.headers) {
    if (!http1::passesReframingHop(f.name)) continue;
    if (count == fields.size()) return false;
    fields[count++] = shm::WireField{f.name, f.value};
  }
  // The body's length travels as a field when known, so the host can frame it the same way.
  char length[24];
  if (head.has_content_length) {
    const int n = std::snprintf(length, sizeof length, "%llu",
                                static_cast<unsigned long long>(head.content_length));
    if (count == fields.size()) return false;
    fields[count++] =
        shm::WireField{"content-length", std::string_view(length, static_cast<size_t>(n))};
  }
  request_body_ = head.chunked || (head.has_content_length && head.content_length > 0);
  head_request_ = head.method == "HEAD";
  response_started_ = response_body_ = false;
  stream_id_ = link_->beginExchange(this);
  std::vector<std::byte>& buf = link_->scratch();
  const size_t n =
      shm::encodeRequestHead(buf, stream_id_, method, request_body_ ? 0 : shm::kHeadEndStream,
                             head.target, std::span(fields.data(), count));
  return n != 0 && link_->send(shm::MessageSchema::kRequestHead, std::span(buf.data(), n));
}

void HostStream::onBodyData(std::string_view data) {
  while (!data.empty() && !failed_) {
    const size_t piece =
        std::min<size_t>(data.size(), link_->maxPayload() - sizeof(shm::BodyPrefix));
    failed_ = !emitBody(data.substr(0, piece), false);
    data.remove_prefix(piece);
  }
}

bool HostStream::emitBody(std::string_view data, bool end) {
  std::vector<std::byte>& buf = link_->scratch();
  const size_t n = shm::encodeBody(buf, stream_id_, end ? shm::kBodyEndStream : 0,
                                   std::as_bytes(std::span(data.data(), data.size())));
  return n != 0 && link_->send(shm::MessageSchema::kRequestBody, std::span(buf.data(), n));
}

void HostStream::onResponseHead(const shm::ResponseHeadView& head) {
  if (response_started_) {  // a second head for one exchange: the host is confused; reset
    hangUp();
    return;
  }
  response_started_ = true;
  const int status = head.prefix.status;
  const bool no_body = head_request_ || status == 204 || status == 304 || status < 200;
  const bool end = (head.prefix.flags & shm::kHeadEndStream) != 0;
  // The reason phrase does not cross the ring (clients ignore it, RFC 9112 §4): the usual one.
  char line[64];
  out_.append(
      line, static_cast<size_t>(std::snprintf(line, sizeof line, "HTTP/1.1 %d %.*s\r\n", status,
                                              static_cast<int>(http1::reasonPhrase(status).size()),
                                              http1::reasonPhrase(status).data())));
  shm::FieldCursor cursor = head.fields;
  shm::WireField f;
  while (cursor.next(f)) {
    if (!http1::passesReframingHop(f.name)) continue;
    out_.append(f.name).append(": ").append(f.value).append("\r\n");
  }
  response_body_ = !no_body && !end;
  if (response_body_)
    out_.append("transfer-encoding: chunked\r\n");
  else if (!no_body)
    out_.append("content-length: 0\r\n");
  out_.append("\r\n");
  if (end) {
    link_->endExchange(stream_id_);
    stream_id_ = 0;
  }
  notify();
}

void HostStream::onResponseBody(const shm::BodyView& body) {
  if (!response_started_) {
    hangUp();
    return;
  }
  if (response_body_ && !body.data.empty()) {
    body_unread_ += body.data.size();
    char size[20];
    out_.append(size,
                static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", body.data.size())));
    out_.append(reinterpret_cast<const char*>(body.data.data()), body.data.size()).append("\r\n");
  }
  if (body.prefix.flags & shm::kBodyEndStream) {
    if (response_body_) out_.append("0\r\n\r\n");
    link_->endExchange(stream_id_);
    stream_id_ = 0;
  }
  if (out_.size() - out_read_ > kMaxPendingResponse) {
    out_.clear();  // what it has not read is dropped: the session sees the answer cut
    out_read_ = 0;
    hangUp();
    return;
  }
  notify();
}

}  // namespace dpuguard::proxy
