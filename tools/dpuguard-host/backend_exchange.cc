// BackendExchange: request bytes out as the socket takes them, response parsed and posted.
#include "tools/dpuguard-host/backend_exchange.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "parsers/http1/field_rules.h"
#include "shm/message_codec.h"

namespace dpuguard::host {
namespace {

// A DPU this far ahead of a server that does not read loses the stream.
constexpr size_t kMaxPendingRequest = 16u << 20;
constexpr size_t kReadBytes = 65536;

}  // namespace

BackendExchange::BackendExchange(shm::HostChannel& channel, uint64_t id, std::string head,
                                 bool chunked, bool head_request, bool body_done)
    : channel_(channel),
      id_(id),
      chunked_(chunked),
      head_request_(head_request),
      body_done_(body_done),
      out_(std::move(head)),
      parser_(http1::MessageParser::Kind::kResponse, limits_) {
  parser_.setHeadRequest(head_request_);
}

BackendExchange::~BackendExchange() {
  if (fd_ >= 0) ::close(fd_);
}

void BackendExchange::start(int fd, bool pooled) {
  fd_ = fd;
  pooled_ = pooled;
}

BackendExchange::Outcome BackendExchange::flush() {
  return fd_ >= 0 ? write() : Outcome::kOpen;
}

BackendExchange::Outcome BackendExchange::addBody(std::string_view data, bool end) {
  if (!data.empty()) {
    if (chunked_) {
      char size[20];
      out_.append(size,
                  static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", data.size())))
          .append(data)
          .append("\r\n");
    } else {
      out_.append(data);
    }
  }
  if (end && !body_done_) {
    body_done_ = true;
    if (chunked_) out_.append("0\r\n\r\n");
  }
  if (pending() > kMaxPendingRequest) return failed(shm::ResetReason::kBackendError);
  return Outcome::kOpen;
}

BackendExchange::Outcome BackendExchange::onEvents(uint32_t events, bool reading) {
  if ((events & (EPOLLOUT | EPOLLERR)) && pending() > 0) {
    const Outcome o = write();
    if (o != Outcome::kOpen) return o;
  }
  if (reading && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return read();
  return Outcome::kOpen;
}

BackendExchange::Outcome BackendExchange::addCredit(uint32_t credit, bool reading) {
  credit_ = std::min<int64_t>(credit_ + credit, int64_t{shm::kMaxStreamCredit});
  if (!starved_ || credit_ <= 0 || !reading || fd_ < 0) return Outcome::kOpen;
  starved_ = false;
  return read();  // edge-triggered: no new event would say the bytes are still there
}

int BackendExchange::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void BackendExchange::reset(shm::ResetReason reason) {
  const shm::StreamReset r{id_, static_cast<uint32_t>(reason), 0};
  channel_.post(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&r, 1)));
}

BackendExchange::Outcome BackendExchange::failed(shm::ResetReason reason) {
  reset(reason);
  return Outcome::kFailed;
}

BackendExchange::Outcome BackendExchange::write() {
  while (pending() > 0) {
    // (A connect still under way answers EAGAIN; EPOLLOUT says when it is up.)
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      // A pooled connection the server closed meanwhile: nothing of ours reached it.
      if (pooled_ && !wrote_ && (errno == EPIPE || errno == ECONNRESET)) return Outcome::kRetry;
      return failed(shm::ResetReason::kBackendError);
    }
    wrote_ = true;
    out_sent_ += static_cast<size_t>(n);
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ > kReadBytes) {
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  return Outcome::kOpen;
}

BackendExchange::Outcome BackendExchange::read() {
  if (!in_) {
    in_capacity_ = limits_.max_header_bytes + kReadBytes;
    in_.reset(new char[in_capacity_]);  // (not zeroed: only bytes read are ever looked at)
  }
  for (;;) {
    if (credit_ <= 0) {  // the DPU's client is behind: wait for its grant
      starved_ = true;
      return Outcome::kOpen;
    }
    if (!parser_.inHead() && in_start_ == in_end_) in_start_ = in_end_ = 0;
    if (in_end_ == in_capacity_) return failed(shm::ResetReason::kBackendError);  // head too large
    const ssize_t n = ::recv(fd_, in_.get() + in_end_, in_capacity_ - in_end_, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return Outcome::kOpen;
    if (n <= 0) {
      const http1::ParseResult r = parser_.finish(*this);
      if (r.status != http1::ParseStatus::kMessageComplete || !sent_head_)
        return failed(shm::ResetReason::kBackendError);
      postBody({}, true);  // a body that ran to the connection's end
      return Outcome::kDoneClose;
    }
    in_end_ += static_cast<size_t>(n);
    const Outcome o = parse();
    if (o != Outcome::kOpen) return o;
  }
}

BackendExchange::Outcome BackendExchange::parse() {
  // Reusable only if the server saw our whole request and sent nothing unasked-for after.
  const auto done = [this] {
    return keep_alive_ && in_start_ == in_end_ && body_done_ && pending() == 0
               ? Outcome::kDone
               : Outcome::kDoneClose;
  };
  while (in_start_ < in_end_) {
    http1::ParseResult r =
        parser_.feed(std::string_view(in_.get() + in_start_, in_end_ - in_start_), *this);
    in_start_ += r.consumed;
    if (r.status == http1::ParseStatus::kError) return failed(shm::ResetReason::kBackendError);
    if (r.status == http1::ParseStatus::kHeadComplete) {
      const http1::MessageHead& h = parser_.head();
      if (h.status < 200) {  // interim (100 Continue, 103): the DPU answers Expect itself
        interim_ = true;
        continue;
      }
      const bool no_body = head_request_ || h.status == 204 || h.status == 304;
      if (!postHead(h)) return failed(shm::ResetReason::kBackendError);
      if (no_body) {
        // A HEAD/204/304 answer ends with its head; the parser still has to see the end.
        while (in_start_ < in_end_) {
          r = parser_.feed(std::string_view(in_.get() + in_start_, in_end_ - in_start_), *this);
          in_start_ += r.consumed;
          if (r.status != http1::ParseStatus::kHeadComplete) break;
        }
        postBody({}, true);
        return done();
      }
    } else if (r.status == http1::ParseStatus::kMessageComplete) {
      if (interim_) {  // the final response follows
        interim_ = false;
        continue;
      }
      postBody({}, true);
      return done();
    } else {
      break;  // needs more
    }
  }
  return Outcome::kOpen;
}

bool BackendExchange::postHead(const http1::MessageHead& h) {
  std::vector<shm::WireField> fields;
  for (const http1::HeaderField& f : h.headers) {
    if (http1::passesReframingHop(f.name)) fields.push_back({f.name, f.value});
  }
  const bool no_body = head_request_ || h.status == 204 || h.status == 304;
  static thread_local std::vector<std::byte> out;
  out.resize(sizeof(shm::ResponseHeadPrefix) + shm::kMaxFieldsBytes);
  const size_t n = shm::encodeResponseHead(out, id_, static_cast<uint16_t>(h.status),
                                           no_body ? shm::kHeadEndStream : 0, fields);
  if (n == 0) return false;
  channel_.post(shm::MessageSchema::kResponseHead, std::span(out.data(), n));
  sent_head_ = true;
  keep_alive_ = h.keep_alive;
  return true;
}

void BackendExchange::onBodyData(std::string_view data) {
  credit_ -= static_cast<int64_t>(data.size());
  const size_t max = channel_.geometry().maxPayload() - sizeof(shm::BodyPrefix);
  while (!data.empty()) {
    const size_t n = std::min(max, data.size());
    postBody(data.substr(0, n), false);
    data.remove_prefix(n);
  }
}

void BackendExchange::postBody(std::string_view data, bool end) {
  static thread_local std::vector<std::byte> buf;
  buf.resize(sizeof(shm::BodyPrefix) + data.size());
  buf.resize(shm::encodeBody(buf, id_, end ? shm::kBodyEndStream : 0,
                             std::as_bytes(std::span(data.data(), data.size()))));
  channel_.post(shm::MessageSchema::kResponseBody, buf);
}

}  // namespace dpuguard::host
