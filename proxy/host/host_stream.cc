// HostStream: request bytes -> ring messages, ring messages -> response bytes.
#include "proxy/host/host_stream.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "parsers/http1/reason_phrase.h"
#include "proxy/host/host_link.h"

namespace dpuguard::proxy {
namespace {

constexpr size_t kReadBytes = 16384;
constexpr size_t kMaxPendingResponse = 8u << 20;  // a client this far behind loses the stream

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

HostStream::HostStream(HostLink& link, int fd, const http1::Limits& limits)
    : link_(link),
      fd_(fd),
      parser_(http1::MessageParser::Kind::kRequest, limits),
      in_capacity_(limits.max_header_bytes + kReadBytes),
      in_(new char[in_capacity_]) {}

HostStream::~HostStream() {
  if (fd_ >= 0) ::close(fd_);
}

void HostStream::close() {
  if (fd_ < 0) return;
  if (stream_id_ != 0) link_.endExchange(stream_id_);
  stream_id_ = 0;
  link_.loopOf().remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void HostStream::onIo(uint32_t events) {
  if (fd_ < 0) return;
  if (events & EPOLLOUT) writeResponse();
  if (fd_ >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) readRequest();
  if (fd_ >= 0) updateInterest();
}

void HostStream::resume() {
  blocked_ = false;
  readRequest();
  if (fd_ >= 0) updateInterest();
}

void HostStream::readRequest() {
  // Worst case for one read: a head, kReadBytes of body in maxPayload pieces, and the end.
  const size_t reserve = kReadBytes / (link_.maxPayload() - sizeof(shm::BodyPrefix)) + 3;
  while (fd_ >= 0 && !blocked_) {
    if (!link_.room(reserve)) {
      blocked_ = true;
      link_.blocked(this);
      return;
    }
    if (!parser_.inHead() &&
        in_start_ > 0) {  // body bytes may move; head bytes may not (feed contract)
      std::memmove(in_.get(), in_.get() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    const size_t room = std::min(kReadBytes, in_capacity_ - in_end_);
    if (room == 0) {  // a head larger than the limits the session already enforced
      close();
      return;
    }
    const ssize_t n = ::read(fd_, in_.get() + in_end_, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      // The session closed its end: abandon whatever is in flight.
      if (stream_id_ != 0) {
        const shm::StreamReset reset{stream_id_,
                                     static_cast<uint32_t>(shm::ResetReason::kClientGone), 0};
        link_.send(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&reset, 1)));
        link_.flush();
      }
      close();
      return;
    }
    in_end_ += static_cast<size_t>(n);
    parse();
    link_.flush();
  }
}

void HostStream::parse() {
  while (fd_ >= 0 && in_start_ < in_end_) {
    const http1::ParseResult r =
        parser_.feed(std::string_view(in_.get() + in_start_, in_end_ - in_start_), *this);
    in_start_ += r.consumed;
    if (failed_ || r.status == http1::ParseStatus::kError) {
      close();  // our own rebuilt request did not parse, or the ring refused it: reset
      return;
    }
    if (r.status == http1::ParseStatus::kHeadComplete) {
      if (!emitHead(parser_.head())) {
        close();
        return;
      }
    } else if (r.status == http1::ParseStatus::kMessageComplete) {
      if (request_body_ && !emitBody({}, true)) {
        close();
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
  stream_id_ = link_.beginExchange(this);
  std::vector<std::byte>& buf = link_.scratch();
  const size_t n =
      shm::encodeRequestHead(buf, stream_id_, method, request_body_ ? 0 : shm::kHeadEndStream,
                             head.target, std::span(fields.data(), count));
  return n != 0 && link_.send(shm::MessageSchema::kRequestHead, std::span(buf.data(), n));
}

void HostStream::onBodyData(std::string_view data) {
  while (!data.empty() && !failed_) {
    const size_t piece =
        std::min<size_t>(data.size(), link_.maxPayload() - sizeof(shm::BodyPrefix));
    failed_ = !emitBody(data.substr(0, piece), false);
    data.remove_prefix(piece);
  }
}

bool HostStream::emitBody(std::string_view data, bool end) {
  std::vector<std::byte>& buf = link_.scratch();
  const size_t n = shm::encodeBody(buf, stream_id_, end ? shm::kBodyEndStream : 0,
                                   std::as_bytes(std::span(data.data(), data.size())));
  return n != 0 && link_.send(shm::MessageSchema::kRequestBody, std::span(buf.data(), n));
}

void HostStream::onResponseHead(const shm::ResponseHeadView& head) {
  if (response_started_) {  // a second head for one exchange: the host is confused; reset
    close();
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
    link_.endExchange(stream_id_);
    stream_id_ = 0;
  }
  writeResponse();
}

void HostStream::onResponseBody(const shm::BodyView& body) {
  if (!response_started_) {
    close();
    return;
  }
  if (response_body_ && !body.data.empty()) {
    char size[20];
    out_.append(size,
                static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", body.data.size())));
    out_.append(reinterpret_cast<const char*>(body.data.data()), body.data.size()).append("\r\n");
  }
  if (body.prefix.flags & shm::kBodyEndStream) {
    if (response_body_) out_.append("0\r\n\r\n");
    link_.endExchange(stream_id_);
    stream_id_ = 0;
  }
  if (out_.size() > kMaxPendingResponse) {
    close();
    return;
  }
  writeResponse();
}

void HostStream::onReset() {
  close();
}

void HostStream::writeResponse() {
  while (fd_ >= 0 && !out_.empty()) {
    const ssize_t n = ::write(fd_, out_.data(), out_.size());
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close();
    return;
  }
  if (fd_ >= 0) updateInterest();
}

void HostStream::updateInterest() {
  uint32_t want = EPOLLRDHUP;
  if (!blocked_) want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  if (want != interest_) {
    interest_ = want;
    link_.loopOf().modify(fd_, want, this);
  }
}

}  // namespace dpuguard::proxy
