// HostLink: connect and handshake, ring polling, stream dispatch, watchdog, teardown.
#include "proxy/host/host_link.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "proxy/telemetry/metrics.h"
#include "shm/message_codec.h"

namespace dpuguard::proxy {
namespace {

constexpr int64_t kRetryMs = 200;      // between reconnect attempts: fail fast in between
constexpr int64_t kTickMs = 20;        // ring poll and watchdog while work is in flight
constexpr int64_t kBlockedTickMs = 1;  // a stream waits for ring space

}  // namespace

class HostLink::FdWatch final : public IoHandler {
 public:
  FdWatch(HostLink& link, void (HostLink::*fn)(uint32_t)) : link_(link), fn_(fn) {}
  void onIo(uint32_t events) override { (link_.*fn_)(events); }

 private:
  HostLink& link_;
  void (HostLink::*fn_)(uint32_t);
};

HostLink::HostLink(EventLoop& loop, WorkerMetrics& metrics, std::string name,
                   const HostChannelConfig& config)
    : loop_(loop),
      metrics_(metrics),
      name_(std::move(name)),
      config_(config),
      geometry_{config.ring_slots, config.ring_slot_bytes},
      channel_(shm::channelConfigFor(shm::RegionRole::kDpu, geometry_)),
      watchdog_(config.stall_timeout_ms),
      wake_watch_(std::make_unique<FdWatch>(*this, &HostLink::onWake)),
      control_watch_(std::make_unique<FdWatch>(*this, &HostLink::onControl)),
      scratch_(geometry_.maxPayload()) {}

HostLink::~HostLink() {
  loop_.timers().cancel(this);
  label_sink_ = nullptr;
  down(nullptr);
  for (HostStream* s : streams_) s->detach();  // their connections outlive the link
}

bool HostLink::connect() {
  if (loop_.now() < retry_after_ms_) return false;
  retry_after_ms_ = loop_.now() + kRetryMs;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = config_.socket_dir + "/" + name_ + ".sock";
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  sock_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  // The handshake blocks the worker for at most handshake_timeout_ms (a local peer answers at
  // once).
  const timeval tv{static_cast<time_t>(config_.handshake_timeout_ms / 1000),
                   static_cast<suseconds_t>(config_.handshake_timeout_ms % 1000) * 1000};
  if (sock_ < 0 || setsockopt(sock_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(sock_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      ::connect(sock_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (sock_ >= 0) ::close(sock_);
    sock_ = -1;
    return false;
  }
  const shm::AttachError e = channel_.establish(sock_, ++epoch_);
  if (e != shm::AttachError::kOk) {
    std::fprintf(stderr, "dpuguard: host channel '%s': handshake refused: %s\n", name_.c_str(),
                 shm::attachErrorName(e));
    bump(metrics_.host_channel_failures);
    channel_.teardown();
    ::close(sock_);
    sock_ = -1;
    return false;
  }
  fcntl(sock_, F_SETFL, O_NONBLOCK);
  loop_.add(sock_, EPOLLIN | EPOLLRDHUP, control_watch_.get());
  loop_.add(channel_.wakeFd(), EPOLLIN, wake_watch_.get());
  watchdog_.reset();
  bump(metrics_.host_channel_connects);
  if (label_sink_ != nullptr) label_sink_->reset();
  return true;
}

void HostLink::down(const char* why) {
  if (sock_ >= 0) {
    if (why != nullptr) {
      std::fprintf(stderr, "dpuguard: host channel '%s' down: %s\n", name_.c_str(), why);
      bump(metrics_.host_channel_faults);
    }
    loop_.remove(sock_);
    if (channel_.wakeFd() >= 0) loop_.remove(channel_.wakeFd());
    ::close(sock_);
    sock_ = -1;
  }
  channel_.teardown();
  draining_ = false;
  exchanges_.clear();
  blocked_.clear();
  for (HostStream* s : streams_) s->hangUp();
  armTimer();  // a labels link reconnects
}

void HostLink::takeLabels(LabelSink* sink) {
  label_sink_ = sink;
  armTimer();
}

std::unique_ptr<HostStream> HostLink::openStream(const http1::Limits& limits, int* err) {
  if (draining_ || (!channel_.up() && !connect())) {
    *err = ECONNREFUSED;
    return nullptr;
  }
  auto stream = std::make_unique<HostStream>(*this, limits);
  streams_.push_back(stream.get());
  return stream;
}

void HostLink::forget(HostStream* s) {
  streams_.erase(std::remove(streams_.begin(), streams_.end(), s), streams_.end());
  blocked_.erase(std::remove(blocked_.begin(), blocked_.end(), s), blocked_.end());
  std::erase_if(exchanges_, [s](const auto& e) { return e.second == s; });
}

bool HostLink::room(size_t messages) {
  if (!channel_.up()) return false;
  shm::RingProducer& p = channel_.producer();
  if (geometry_.capacity - p.inFlight() >= messages) return true;
  if (p.refreshConsumer() != shm::RingFault::kNone) {
    down(std::string(shm::ringFaultName(p.fault())).c_str());
    return false;
  }
  return geometry_.capacity - p.inFlight() >= messages;
}

bool HostLink::send(shm::MessageSchema schema, std::span<const std::byte> payload) {
  if (!channel_.up()) return false;
  const auto s =
      channel_.producer().push(static_cast<uint16_t>(schema), shm::kMessageVersion, payload);
  if (s == shm::RingProducer::PushStatus::kFaulted) {
    down(std::string(shm::ringFaultName(channel_.producer().fault())).c_str());
    return false;
  }
  if (s == shm::RingProducer::PushStatus::kOk) bump(metrics_.host_messages_out);
  return s == shm::RingProducer::PushStatus::kOk;
}

void HostLink::flush() {
  if (!channel_.up()) return;
  channel_.producer().flush();
  channel_.wakePeer();
  armTimer();
}

uint64_t HostLink::beginExchange(HostStream* s) {
  const uint64_t id = next_stream_id_++;
  exchanges_[id] = s;
  armTimer();
  return id;
}

void HostLink::endExchange(uint64_t id) {
  exchanges_.erase(id);
}

void HostLink::blocked(HostStream* s) {
  blocked_.push_back(s);
  armTimer();
}

void HostLink::onWake(uint32_t) {
  channel_.clearWake();
  pollRing();
}

void HostLink::onControl(uint32_t) {
  // dpuguard-host sends nothing on the socket after the handshake: bytes or a hangup both
  // mean the peer is gone or confused.
  down("host closed the channel socket");
}

void HostLink::pollRing() {
  if (!channel_.up()) return;
  channel_.consumer().poll([this](const shm::RingMessage& m) { deliver(m); });
  if (channel_.up() && channel_.consumer().fault() != shm::RingFault::kNone) {
    down(std::string(shm::ringFaultName(channel_.consumer().fault())).c_str());
    return;
  }
  if (!blocked_.empty()) {
    std::vector<HostStream*> waiting;
    waiting.swap(blocked_);
    for (HostStream* s : waiting) s->resume();
  }
  flush();
}

void HostLink::deliver(const shm::RingMessage& m) {
  bump(metrics_.host_messages_in);
  const auto schema = static_cast<shm::MessageSchema>(m.schema_id);
  uint64_t id = 0;
  std::memcpy(&id, m.payload.data(), sizeof id);  // every per-stream message starts with it
  if (schema == shm::MessageSchema::kDrain) {
    bump(metrics_.host_control_messages);
    draining_ = true;
    drain_deadline_ms_ = loop_.now() + shm::decodeFixed<shm::Drain>(m.payload).deadline_ms;
    std::fprintf(stderr,
                 "dpuguard: host channel '%s': host asked to drain (%zu streams in flight)\n",
                 name_.c_str(), exchanges_.size());
    armTimer();
    return;
  }
  if (schema == shm::MessageSchema::kAttestChallenge) {
    bump(metrics_.host_control_messages);
    answerChallenge(shm::decodeFixed<shm::AttestChallenge>(m.payload));
    return;
  }
  if (schema == shm::MessageSchema::kIdentityLabel) {
    bump(metrics_.host_control_messages);
    if (label_sink_ != nullptr)
      label_sink_->label(shm::decodeIdentityLabel(m.payload));
    else
      bump(metrics_.host_labels_refused);  // not the host_channel.labels backend
    return;
  }
  const auto it = exchanges_.find(id);
  if (it == exchanges_.end()) {
    bump(metrics_.host_messages_unmatched);  // a stream that ended or was reset meanwhile
    return;
  }
  HostStream* s = it->second;
  switch (schema) {
    case shm::MessageSchema::kResponseHead:
      s->onResponseHead(shm::decodeResponseHead(m.payload));
      break;
    case shm::MessageSchema::kResponseBody:
      s->onResponseBody(shm::decodeBody(m.payload));
      break;
    case shm::MessageSchema::kStreamReset:
      s->onReset();
      break;
    default:
      break;
  }
}

void HostLink::answerChallenge(const shm::AttestChallenge& c) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string nonce;
  for (uint8_t b : c.nonce) nonce += {kHex[b >> 4], kHex[b & 15]};
  std::string text;
  bool quoted = quote_source_ != nullptr && quote_source_->quote(nonce, &text);
  if (quote_source_ == nullptr) text = "this dpuguard cannot quote on the host channel";
  if (quoted && text.size() > shm::kMaxQuoteWireBytes) {
    quoted = false;
    text = "the quote is larger than the channel carries";
  }
  if (text.empty()) text = "the quote could not be made";
  text.resize(std::min<size_t>(text.size(), shm::kMaxQuoteWireBytes));
  const uint32_t flags = quoted ? 0 : shm::kQuoteRefused;
  // In order, as many parts as it takes; a ring too full for all of them leaves the quote
  // incomplete, and the host's next challenge starts a new one.
  std::span<std::byte> out(scratch_.data(), std::min<size_t>(scratch_.size(), maxPayload()));
  for (size_t offset = 0, taken = 0; offset < text.size(); offset += taken) {
    const size_t n = shm::encodeQuotePart(out, text, offset, flags, &taken);
    if (n == 0 || !room(1) || !send(shm::MessageSchema::kQuotePart, out.first(n))) {
      std::fprintf(stderr, "dpuguard: host channel '%s': no room for the quote\n", name_.c_str());
      break;
    }
  }
  flush();
}

void HostLink::sendFlowEvent(const SocketAddress& client, const FlowRecord& rec) {
  if (!channel_.up() && !connect()) {
    bump(metrics_.host_events_dropped);
    return;
  }
  shm::FlowEvent e{};
  e.stream_id = next_stream_id_++;
  // Wall-clock time of the exchange's start: now minus its duration.
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  e.start_unix_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()) -
      static_cast<uint64_t>(std::max<int64_t>(rec.total_us, 0)) * 1000;
  e.duration_us =
      static_cast<uint32_t>(std::min<int64_t>(std::max<int64_t>(rec.total_us, 0), UINT32_MAX));
  e.status = rec.status >= 100 && rec.status <= 599 ? static_cast<uint16_t>(rec.status) : 0;
  if (client.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(client.sockaddrPtr());
    e.family = 4;
    std::memcpy(e.client_addr, &in->sin_addr, 4);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(client.sockaddrPtr());
    e.family = 6;
    std::memcpy(e.client_addr, &in6->sin6_addr, 16);
  }
  e.client_port = client.port();
  e.bytes_in = static_cast<uint32_t>(std::min<uint64_t>(rec.bytes_in, UINT32_MAX));
  e.bytes_out = static_cast<uint32_t>(std::min<uint64_t>(rec.bytes_out, UINT32_MAX));
  // Route names are config identifiers; only printable ASCII goes on the wire, NUL-padded.
  size_t n = 0;
  for (char c : rec.route.substr(0, sizeof e.route)) {
    if (c <= 0x20 || c >= 0x7f) break;
    e.route[n++] = c;
  }
  if (n == 0) std::memcpy(e.route, "-", 1);
  // The id is hex from our own measurement log; anything else is left zero rather than sent.
  if (rec.measurement.size() == sizeof e.measurement &&
      std::all_of(rec.measurement.begin(), rec.measurement.end(),
                  [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    std::memcpy(e.measurement, rec.measurement.data(), sizeof e.measurement);
  if (room(1) && send(shm::MessageSchema::kFlowEvent, std::as_bytes(std::span(&e, 1)))) {
    flush();
  } else {
    bump(metrics_.host_events_dropped);
  }
}

void HostLink::armTimer() {
  if (timer_armed_) return;
  if (!channel_.up()) {  // only a labels link reconnects by itself
    if (label_sink_ == nullptr) return;
    timer_armed_ = true;
    loop_.timers().schedule(this, std::max(loop_.now(), retry_after_ms_));
    return;
  }
  if (exchanges_.empty() && blocked_.empty() && !draining_) return;
  timer_armed_ = true;
  loop_.timers().schedule(this, loop_.now() + (blocked_.empty() ? kTickMs : kBlockedTickMs));
}

void HostLink::onTimer() {
  timer_armed_ = false;
  if (!channel_.up()) {
    if (label_sink_ != nullptr) connect();
    armTimer();
    return;
  }
  pollRing();
  if (draining_ && (exchanges_.empty() || loop_.now() >= drain_deadline_ms_)) {
    bump(metrics_.host_drains);
    down(nullptr);  // drained: the next request reconnects
    return;
  }
  if (channel_.up() && !exchanges_.empty()) {
    const uint64_t progress = channel_.peerHeartbeat() + channel_.consumer().consumed();
    if (watchdog_.stalled(progress, static_cast<uint64_t>(loop_.now()))) {
      channel_.consumer().stop(shm::RingFault::kStalled);
      down("stalled: no progress from the host");
    }
  } else {
    watchdog_.reset();
  }
  armTimer();
}

}  // namespace dpuguard::proxy
