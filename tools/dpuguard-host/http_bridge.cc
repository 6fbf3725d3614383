// HttpBridge: RequestHead/RequestBody -> HTTP/1.1 to the backend; the backend's response,
// parsed strictly by the same parser the proxy uses -> ResponseHead/ResponseBody.
#include "tools/dpuguard-host/http_bridge.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "parsers/http1/field_rules.h"
#include "parsers/http1/message_parser.h"
#include "shm/message_codec.h"

namespace dpuguard::host {
namespace {

const char* methodName(uint8_t m) {
  static constexpr std::array<const char*, 9> kNames = {"",       "GET",   "HEAD",    "POST", "PUT",
                                                        "DELETE", "PATCH", "OPTIONS", "TRACE"};
  return m < kNames.size() ? kNames[m] : "";
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Streams a response body to the channel in pieces that fit one message.
class BodyPoster final : public http1::BodySink {
 public:
  BodyPoster(shm::HostChannel& channel, uint64_t id) : channel_(channel), id_(id) {}
  void onBodyData(std::string_view data) override {
    const size_t max = channel_.geometry().maxPayload() - sizeof(shm::BodyPrefix);
    while (!data.empty()) {
      const size_t n = std::min(max, data.size());
      post(data.substr(0, n), false);
      data.remove_prefix(n);
    }
  }
  void post(std::string_view data, bool end) {
    std::vector<std::byte> buf(sizeof(shm::BodyPrefix) + data.size());
    buf.resize(shm::encodeBody(buf, id_, end ? shm::kBodyEndStream : 0,
                               std::as_bytes(std::span(data.data(), data.size()))));
    channel_.post(shm::MessageSchema::kResponseBody, buf);
  }

 private:
  shm::HostChannel& channel_;
  uint64_t id_;
};

}  // namespace

HttpBridge::~HttpBridge() {
  resetStreams();  // (the channel may be gone: no new challenge)
  std::unique_lock<std::mutex> lock(jobs_mutex_);
  stopping_ = true;
  jobs_cv_.notify_all();
  jobs_cv_.wait(lock, [this] { return live_workers_ == 0; });
  for (int fd : pool_) close(fd);
}

void HttpBridge::submit(Stream* s) {
  ++active_;
  std::lock_guard<std::mutex> lock(jobs_mutex_);
  jobs_.push_back(s);
  if (idle_workers_ == 0) {
    ++live_workers_;
    std::thread([this] { work(); }).detach();
  } else {
    jobs_cv_.notify_one();
  }
}

void HttpBridge::work() {
  std::unique_lock<std::mutex> lock(jobs_mutex_);
  while (!stopping_) {
    if (jobs_.empty()) {
      ++idle_workers_;
      const bool woken = jobs_cv_.wait_for(lock, std::chrono::seconds(10),
                                           [this] { return stopping_ || !jobs_.empty(); });
      --idle_workers_;
      if (!woken) break;  // idle for 10 s: give the thread back
      continue;
    }
    Stream* s = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    serve(*s);
    lock.lock();
  }
  --live_workers_;
  jobs_cv_.notify_all();
}

void HttpBridge::onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) {
  reap();
  if (schema == shm::MessageSchema::kQuotePart) {
    if (trust_ != nullptr) trust_->onQuotePart(shm::decodeQuotePart(payload));
    return;
  }
  if (schema == shm::MessageSchema::kRequestHead) {
    const shm::RequestHeadView v = shm::decodeRequestHead(payload);
    if (streams_.count(v.prefix.stream_id) != 0) return;  // a reused id: ignore it
    if (trust_ != nullptr && trust_->state() == ChannelTrust::State::kRefused) {
      refuse(v.prefix.stream_id);  // not attested: answer, forward nothing
      return;
    }
    auto s = std::make_unique<Stream>();
    s->id = v.prefix.stream_id;
    s->head_request = v.prefix.method == static_cast<uint8_t>(shm::WireMethod::kHead);
    s->head.append(methodName(v.prefix.method))
        .append(" ")
        .append(v.target)
        .append(" HTTP/1.1\r\n");
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
        s->head.append(f.name).append(": ").append(f.value).append("\r\n");
      }
    }
    if (bad_length) {
      const shm::StreamReset r{s->id, static_cast<uint32_t>(shm::ResetReason::kRefused), 0};
      channel_->post(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&r, 1)));
      return;
    }
    const bool has_length = !length.empty();
    if (has_length) s->head.append("content-length: ").append(length).append("\r\n");
    const bool body = (v.prefix.flags & shm::kHeadEndStream) == 0;
    s->chunked = body && !has_length;
    if (s->chunked) s->head.append("transfer-encoding: chunked\r\n");
    s->head.append("\r\n");  // keep-alive: the bridge pools its backend connections
    s->body_done = !body;
    Stream& ref = *s;
    streams_[s->id] = std::move(s);
    submit(&ref);
    return;
  }
  uint64_t id;
  std::memcpy(&id, payload.data(), sizeof id);
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = *it->second;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (schema == shm::MessageSchema::kRequestBody) {
    const shm::BodyView b = shm::decodeBody(payload);
    s.body.append(reinterpret_cast<const char*>(b.data.data()), b.data.size());
    if (b.prefix.flags & shm::kBodyEndStream) s.body_done = true;
  } else if (schema == shm::MessageSchema::kStreamReset) {
    s.reset = true;
  }
  s.cv.notify_one();
}

void HttpBridge::refuse(uint64_t stream_id) {
  std::byte buf[64];
  const size_t n = shm::encodeResponseHead(buf, stream_id, 503, shm::kHeadEndStream, {});
  channel_->post(shm::MessageSchema::kResponseHead, std::span(buf, n));
}

void HttpBridge::reap() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second->finished) {
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpBridge::onReset() {
  if (trust_ != nullptr && channel_ != nullptr) trust_->onReset(*channel_);
  resetStreams();
}

void HttpBridge::resetStreams() {
  for (auto& [id, s] : streams_) {
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->reset = true;
    }
    s->cv.notify_one();
  }
  for (auto& [id, s] : streams_) {
    while (!s->finished)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // workers see reset within 1 s
  }
  streams_.clear();
}

void HttpBridge::reset(Stream& s, shm::ResetReason reason) {
  const shm::StreamReset r{s.id, static_cast<uint32_t>(reason), 0};
  channel_->post(shm::MessageSchema::kStreamReset, std::as_bytes(std::span(&r, 1)));
}

int HttpBridge::backendConnection(bool* pooled) {
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    while (!pool_.empty()) {
      const int fd = pool_.back();
      pool_.pop_back();
      // An idle connection must have nothing to read: EOF or stray bytes mean it is unusable.
      char c;
      if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN) {
        *pooled = true;
        return fd;
      }
      close(fd);
    }
  }
  *pooled = false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // The reset flag is checked between reads; a blocked read is bounded by this timeout.
  const timeval tv{1, 0};
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&backend_), sizeof backend_) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void HttpBridge::release(int fd, bool reusable) {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (reusable && pool_.size() < kMaxIdle)
    pool_.push_back(fd);
  else
    close(fd);
}

void HttpBridge::serve(Stream& s) {
  // Pending (the DPU's first answer is on its way): wait for the verdict, off the channel
  // thread, before a byte goes to the backend.
  if (trust_ != nullptr && !trust_->awaitVerdict(kVerdictWaitMs)) {
    refuse(s.id);
    s.finished = true;
    --active_;
    return;
  }
  bool pooled = false;
  int fd = backendConnection(&pooled);
  if (fd >= 0 && !writeAll(fd, s.head) && pooled) {  // the server closed it meanwhile: once more
    close(fd);
    fd = backendConnection(&pooled);
    if (fd >= 0 && !writeAll(fd, s.head)) {
      close(fd);
      fd = -1;
    }
  }
  bool reusable = false;
  if (fd < 0) {
    reset(s, shm::ResetReason::kBackendError);
  } else {
    bool ok = true;
    for (;;) {
      std::string piece;
      bool done;
      {
        std::unique_lock<std::mutex> lock(s.mutex);
        s.cv.wait(lock, [&] { return s.reset || s.body_done || !s.body.empty(); });
        if (s.reset) {
          ok = false;
          break;
        }
        piece.swap(s.body);
        done = s.body_done;
      }
      if (!piece.empty()) {
        char size[20];
        const std::string framed =
            s.chunked ? std::string(size, static_cast<size_t>(std::snprintf(
                                              size, sizeof size, "%zx\r\n", piece.size()))) +
                            piece + "\r\n"
                      : piece;
        ok = writeAll(fd, framed);
      }
      if (!ok || done) break;
    }
    if (ok && s.chunked) ok = writeAll(fd, "0\r\n\r\n");
    if (ok)
      reusable = respond(s, fd);
    else
      reset(s, shm::ResetReason::kBackendError);
  }
  if (fd >= 0) release(fd, reusable);
  s.finished = true;
  --active_;
}

bool HttpBridge::respond(Stream& s, int fd) {
  http1::Limits limits;  // defaults: the DPU applies its own limits to what we send on
  http1::MessageParser parser(http1::MessageParser::Kind::kResponse, limits);
  parser.setHeadRequest(s.head_request);
  BodyPoster body(*channel_, s.id);
  // Per worker thread, reused across requests (the head's bytes stay put while it is parsed).
  static thread_local std::vector<char> buf;
  buf.resize(limits.max_header_bytes + 65536);
  size_t start = 0, end = 0;
  bool sent_head = false, interim = false, keep_alive = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      if (s.reset) return false;
    }
    // Trust withdrawn while the answer streams (a reload to an unknown measurement, a
    // challenge unanswered): the rest of it is not bridged either.
    if (trust_ != nullptr && trust_->state() == ChannelTrust::State::kRefused) {
      reset(s, shm::ResetReason::kRefused);
      return false;
    }
    if (!parser.inHead() && start == end)
      start = end = 0;             // a head's bytes never move (feed contract)
    if (end == buf.size()) break;  // a head larger than the limits
    const ssize_t n = recv(fd, buf.data() + end, buf.size() - end, 0);
    if (n < 0 && errno == EAGAIN) continue;  // the 1 s timeout: check for a reset, read on
    http1::ParseResult r{};
    if (n <= 0) {
      r = parser.finish(body);
      if (r.status == http1::ParseStatus::kMessageComplete && sent_head)
        body.post({}, true);
      else
        reset(s, shm::ResetReason::kBackendError);
      return false;
    }
    end += static_cast<size_t>(n);
    while (start < end) {
      r = parser.feed(std::string_view(buf.data() + start, end - start), body);
      start += r.consumed;
      if (r.status == http1::ParseStatus::kError) {
        reset(s, shm::ResetReason::kBackendError);
        return false;
      }
      if (r.status == http1::ParseStatus::kHeadComplete) {
        const http1::MessageHead& h = parser.head();
        if (h.status < 200) {  // interim (100 Continue, 103): the DPU answers Expect itself
          interim = true;
          continue;
        }
        std::vector<shm::WireField> fields;
        for (const http1::HeaderField& f : h.headers) {
          if (http1::passesReframingHop(f.name)) fields.push_back({f.name, f.value});
        }
        const bool no_body = s.head_request || h.status == 204 || h.status == 304;
        static thread_local std::vector<std::byte> out;
        out.resize(sizeof(shm::ResponseHeadPrefix) + shm::kMaxFieldsBytes);
        const size_t head_bytes = shm::encodeResponseHead(
            out, s.id, static_cast<uint16_t>(h.status), no_body ? shm::kHeadEndStream : 0, fields);
        if (head_bytes == 0) {
          reset(s, shm::ResetReason::kBackendError);
          return false;
        }
        channel_->post(shm::MessageSchema::kResponseHead, std::span(out.data(), head_bytes));
        sent_head = true;
        keep_alive = h.keep_alive;
        if (no_body) {
          // A HEAD/204/304 answer ends with its head; the parser still has to see the message end.
          while (start < end) {
            r = parser.feed(std::string_view(buf.data() + start, end - start), body);
            start += r.consumed;
            if (r.status != http1::ParseStatus::kHeadComplete) break;
          }
          body.post({}, true);
          return keep_alive && start == end;
        }
      } else if (r.status == http1::ParseStatus::kMessageComplete) {
        if (interim) {  // the final response follows
          interim = false;
          continue;
        }
        body.post({}, true);
        return keep_alive && start == end;  // nothing unasked-for after the response
      } else {
        break;
      }
    }
  }
  reset(s, shm::ResetReason::kBackendError);
  return false;
}

}  // namespace dpuguard::host
