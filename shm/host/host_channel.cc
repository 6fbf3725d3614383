// HostChannel: accept, poll loop (socket, wake eventfd, post notifications, 10 ms tick).
#include "shm/host/host_channel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "shm/message_codec.h"

namespace dpuguard::shm {
namespace {

constexpr int kTickMs = 10;  // polls at least this often: the heartbeat the DPU's watchdog reads

}  // namespace

HostChannel::HostChannel(int sock, RingGeometry geometry, Handler& handler)
    : sock_(sock),
      notify_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      geometry_(geometry),
      handler_(handler),
      end_(channelConfigFor(RegionRole::kHost, geometry)) {}

HostChannel::~HostChannel() {
  if (notify_fd_ >= 0) close(notify_fd_);
}

void HostChannel::stop() {
  stopping_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(notify_fd_, &one, sizeof one);
}

void HostChannel::post(MessageSchema schema, std::span<const std::byte> payload) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(schema, std::vector<std::byte>(payload.begin(), payload.end()));
    queued_bytes_ += payload.size();
  }
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id())
    return;  // the loop sends it at the end of this turn: no wake-up needed
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(notify_fd_, &one, sizeof one);
}

size_t HostChannel::queuedBytes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_bytes_;
}

void HostChannel::drain(uint32_t deadline_ms) {
  const Drain d{deadline_ms, 0};
  post(MessageSchema::kDrain, std::as_bytes(std::span(&d, 1)));
}

void HostChannel::sendQueued() {
  std::lock_guard<std::mutex> lock(mutex_);
  bool sent = false;
  while (!queue_.empty()) {
    auto& [schema, bytes] = queue_.front();
    const auto s = end_.producer().push(static_cast<uint16_t>(schema), kMessageVersion, bytes);
    if (s == RingProducer::PushStatus::kFull || s == RingProducer::PushStatus::kFaulted) break;
    queued_bytes_ -= bytes.size();
    queue_.pop_front();  // kOk, or kTooLarge (dropped: the poster broke the size contract)
    sent = true;
  }
  end_.producer().flush();
  if (sent) end_.wakePeer();
}

const char* HostChannel::run() {
  if (end_.accept(sock_) != AttachError::kOk) return "handshake refused";
  owner_ = std::this_thread::get_id();
  const int handler_fd = handler_.pollFd();
  while (!stopping_) {
    pollfd fds[4] = {{sock_, POLLIN, 0},
                     {end_.wakeFd(), POLLIN, 0},
                     {notify_fd_, POLLIN, 0},
                     {handler_fd, POLLIN, 0}};
    poll(fds, handler_fd >= 0 ? 4 : 3, kTickMs);
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      // The DPU closed the socket, or sent a new hello to re-create the channel: what was
      // queued belonged to the old epoch; what the handler posts now (a challenge) is for the
      // new one.
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.clear();
        queued_bytes_ = 0;
      }
      handler_.onReset();
      if (end_.accept(sock_) != AttachError::kOk) {
        owner_ = std::thread::id{};
        return "DPU closed the channel";
      }
      continue;
    }
    uint64_t drained;
    if (fds[1].revents & POLLIN) end_.clearWake();
    if (fds[2].revents & POLLIN) [[maybe_unused]]
      ssize_t n = read(notify_fd_, &drained, sizeof drained);
    end_.consumer().poll([this](const RingMessage& m) {
      handler_.onMessage(static_cast<MessageSchema>(m.schema_id), m.payload);
    });
    if (end_.fault() != RingFault::kNone) {
      handler_.onReset();
      owner_ = std::thread::id{};
      return ringFaultName(end_.fault()).data();
    }
    handler_.onTurn(handler_fd >= 0 && (fds[3].revents & POLLIN) != 0);
    sendQueued();
  }
  handler_.onReset();
  owner_ = std::thread::id{};
  return "stopped";
}

}  // namespace dpuguard::shm
