// HttpBridge: RequestHead/RequestBody -> BackendExchange; the epoll set of their sockets,
// served on the channel's thread; the pool; the verdict gate.
#include "tools/dpuguard-host/http_bridge.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "parsers/http1/field_rules.h"
#include "shm/message_codec.h"

namespace dpuguard::host {
namespace {

const char* methodName(uint8_t m) {
  static constexpr std::array<const char*, 9> kNames = {"",       "GET",   "HEAD",    "POST", "PUT",
                                                        "DELETE", "PATCH", "OPTIONS", "TRACE"};
  return m < kNames.size() ? kNames[m] : "";
}

}  // namespace

HttpBridge::HttpBridge(const sockaddr_in& backend, ChannelTrust* trust)
    : backend_(backend), trust_(trust), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

HttpBridge::~HttpBridge() {
  closeAll();
  for (int fd : pool_) ::close(fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void HttpBridge::onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) {
  if (schema == shm::MessageSchema::kQuotePart) {
    if (trust_ != nullptr) trust_->onQuotePart(shm::decodeQuotePart(payload));
    admitWaiting();
    return;
  }
  if (schema == shm::MessageSchema::kRequestHead) {
    open(shm::decodeRequestHead(payload));
    return;
  }
  uint64_t id;
  std::memcpy(&id, payload.data(), sizeof id);
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  if (schema == shm::MessageSchema::kRequestBody) {
    const shm::BodyView b = shm::decodeBody(payload);
    settle(id, it->second->addBody(
                   std::string_view(reinterpret_cast<const char*>(b.data.data()), b.data.size()),
                   (b.prefix.flags & shm::kBodyEndStream) != 0));
    unflushed_.push_back(id);
  } else if (schema == shm::MessageSchema::kStreamWindow) {
    settle(id,
           it->second->addCredit(shm::decodeFixed<shm::StreamWindow>(payload).credit, !paused_));
  } else if (schema == shm::MessageSchema::kStreamReset) {
    end(it, false);  // the DPU gave up on it: nothing more to say
  }
}

void HttpBridge::open(const shm::RequestHeadView& v) {
  const uint64_t id = v.prefix.stream_id;
  if (streams_.count(id) != 0) return;  // a reused id: ignore it
  if (trust_ != nullptr && trust_->state() == ChannelTrust::State::kRefused) {
    refuse(id);  // not attested: answer, forward nothing
    return;
  }
  std::string head;
  head.append(methodName(v.prefix.method)).append(" ").append(v.target).append(" HTTP/1.1\r\n");
  // The DPU is a peer we do not trust either: only end-to-end fields and Host go on, plus
  // one all-digit Content-Length; the bridge frames the backend request itself.
  std::string_view length;
  bool bad_length = false;
  shm::FieldCursor fields = v.fields;
  shm::WireField f;
  while (fields.next(f)) {
    if (http1::classifyField(f.name) == http1::FieldKind::kContentLength) {
      bad_length = bad_length || !length.empty() || f.value.empty() ||
                   f.value.find_first_not_of("0123456789") != std::string_view::npos;
      length = f.value;
    } else if (http1::passesReframingHop(f.name)) {
      head.append(f.name).append(": ").append(f.value).append("\r\n");
    }
  }
  if (bad_length) {
    const shm::StreamReset r{id, static_cast<uint32_t>(shm::ResetReason::kRefused), 0};
    channel_->post(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&r, 1)));
    return;
  }
  if (!length.empty()) head.append("content-length: ").append(length).append("\r\n");
  const bool body = (v.prefix.flags & shm::kHeadEndStream) == 0;
  const bool chunked = body && length.empty();
  if (chunked) head.append("transfer-encoding: chunked\r\n");
  head.append("\r\n");  // keep-alive: the bridge pools its backend connections
  const bool head_request = v.prefix.method == static_cast<uint8_t>(shm::WireMethod::kHead);
  streams_[id] = std::make_unique<BackendExchange>(*channel_, id, std::move(head), chunked,
                                                   head_request, !body);
  active_ = streams_.size();
  if (trust_ != nullptr && trust_->state() == ChannelTrust::State::kPending) {
    // The DPU's first answer is on its way: hold the stream (its body too) for the verdict.
    waiting_.push_back(
        {id, std::chrono::steady_clock::now() + std::chrono::milliseconds(kVerdictWaitMs)});
    return;
  }
  start(id);
}

void HttpBridge::start(uint64_t id) {
  bool pooled = false;
  const int fd = connection(&pooled);
  const auto it = streams_.find(id);
  if (fd < 0) {
    it->second->reset(shm::ResetReason::kBackendError);
    end(it, false);
    return;
  }
  owner_[static_cast<size_t>(fd)] = id;
  it->second->start(fd, pooled);
  unflushed_.push_back(id);
}

void HttpBridge::flushWrites() {
  for (size_t i = 0; i < unflushed_.size(); ++i) {  // (a retry adds its stream again)
    const uint64_t id = unflushed_[i];
    const auto it = streams_.find(id);
    if (it != streams_.end()) settle(id, it->second->flush());
  }
  unflushed_.clear();
}

void HttpBridge::settle(uint64_t id, BackendExchange::Outcome o) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  switch (o) {
    case BackendExchange::Outcome::kOpen:
      return;
    case BackendExchange::Outcome::kDone:
    case BackendExchange::Outcome::kDoneClose:
    case BackendExchange::Outcome::kFailed:
      end(it, o == BackendExchange::Outcome::kDone);
      return;
    case BackendExchange::Outcome::kRetry: {
      // The pooled connection was dead; nothing reached the server: once more on another.
      const int fd = it->second->release();
      owner_[static_cast<size_t>(fd)] = 0;
      ::close(fd);
      start(id);
      return;
    }
  }
}

void HttpBridge::end(Streams::iterator it, bool reusable) {
  const int fd = it->second->release();
  if (fd >= 0) {
    owner_[static_cast<size_t>(fd)] = 0;
    release(fd, reusable);
  }
  streams_.erase(it);
  active_ = streams_.size();
}

void HttpBridge::onTurn(bool ready) {
  const bool paused = channel_->queuedBytes() > kMaxQueuedBytes;
  if (ready) {
    std::array<epoll_event, 64> events;
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    for (const epoll_event& ev : std::span(events.data(), static_cast<size_t>(std::max(n, 0)))) {
      const uint64_t id = owner_[static_cast<size_t>(ev.data.fd)];
      if (id == 0) {
        if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) checkIdle(ev.data.fd);
        continue;
      }
      const auto it = streams_.find(id);
      if (it != streams_.end()) settle(id, it->second->onEvents(ev.events, !paused));
    }
  }
  if (paused_ && !paused) {
    // Room again: read what the backends sent meanwhile (no new edge announces it).
    for (auto it = streams_.begin(); it != streams_.end();) {
      const auto cur = it++;  // settle() may end the stream
      if (cur->second->started()) settle(cur->first, cur->second->onEvents(EPOLLIN, true));
    }
  }
  paused_ = paused;
  admitWaiting();
  cutUntrusted();
  flushWrites();
}

void HttpBridge::checkIdle(int fd) {
  char c;
  if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN) return;
  const auto it = std::find(pool_.begin(), pool_.end(), fd);
  if (it == pool_.end()) return;
  pool_.erase(it);  // the server closed it (or sent what nobody asked for)
  ::close(fd);
}

void HttpBridge::admitWaiting() {
  if (waiting_.empty()) return;
  const ChannelTrust::State state = trust_->state();
  const auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty()) {
    const Waiting w = waiting_.front();
    if (state == ChannelTrust::State::kPending && now < w.deadline) return;
    waiting_.pop_front();
    const auto it = streams_.find(w.id);
    if (it == streams_.end()) continue;  // reset by the DPU meanwhile
    if (state == ChannelTrust::State::kTrusted) {
      start(w.id);
    } else {
      refuse(w.id);
      end(it, false);
    }
  }
}

void HttpBridge::cutUntrusted() {
  // Trust withdrawn (a reload to an unknown measurement, a challenge unanswered): what is
  // still under way is not bridged any further.
  if (trust_ == nullptr || trust_->state() != ChannelTrust::State::kRefused) return;
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto next = std::next(it);
    if (it->second->started()) {
      it->second->reset(shm::ResetReason::kRefused);
      end(it, false);
    }
    it = next;
  }
}

void HttpBridge::refuse(uint64_t id) {
  std::byte buf[64];
  const size_t n = shm::encodeResponseHead(buf, id, 503, shm::kHeadEndStream, {});
  channel_->post(shm::MessageSchema::kResponseHead, std::span(buf, n));
}

void HttpBridge::onReset() {
  if (trust_ != nullptr && channel_ != nullptr) trust_->onReset(*channel_);
  closeAll();
}

void HttpBridge::closeAll() {
  while (!streams_.empty()) end(streams_.begin(), false);
  waiting_.clear();
}

int HttpBridge::connection(bool* pooled) {
  while (!pool_.empty()) {
    const int fd = pool_.back();
    pool_.pop_back();
    // An idle connection must have nothing to read: EOF or stray bytes mean it is unusable.
    char c;
    if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN) {
      *pooled = true;
      return fd;
    }
    ::close(fd);
  }
  *pooled = false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if ((connect(fd, reinterpret_cast<const sockaddr*>(&backend_), sizeof backend_) != 0 &&
       errno != EINPROGRESS) ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    return -1;
  }
  if (owner_.size() <= static_cast<size_t>(fd)) owner_.resize(static_cast<size_t>(fd) + 1, 0);
  return fd;
}

void HttpBridge::release(int fd, bool reusable) {
  if (reusable && pool_.size() < kMaxIdle)
    pool_.push_back(fd);
  else
    ::close(fd);
}

}  // namespace dpuguard::host
