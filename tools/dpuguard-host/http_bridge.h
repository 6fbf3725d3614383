// HttpBridge: the `dpuguard-host serve` handler. Each request stream from the DPU becomes one
// HTTP/1.1 exchange with a local server (an unmodified vLLM, nginx, the mock LLM): a
// BackendExchange on a non-blocking socket from a pool of keep-alive backend connections. All
// of it runs on the channel's own thread, as its event loop: the bridge's epoll set is one
// more fd the channel waits on (HostChannel::Handler::pollFd), so a request costs no thread
// hand-off and no lock. The response is streamed back as it arrives (SSE event by event).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "shm/host/host_channel.h"
#include "tools/dpuguard-host/backend_exchange.h"
#include "tools/dpuguard-host/channel_trust.h"

namespace dpuguard::host {

class HttpBridge final : public shm::HostChannel::Handler {
 public:
  // `trust` (null: always trusted; dpuguard-host serve --expect): a request is forwarded only
  // while the channel's DPU end is trusted; one that arrives while the verdict is pending
  // waits for it (up to kVerdictWaitMs), otherwise it is answered 503 and never forwarded;
  // an exchange still under way when the channel stops being trusted is cut (StreamReset).
  explicit HttpBridge(const sockaddr_in& backend, ChannelTrust* trust = nullptr);
  ~HttpBridge() override;
  HttpBridge(const HttpBridge&) = delete;
  HttpBridge& operator=(const HttpBridge&) = delete;
  void attach(shm::HostChannel* channel) { channel_ = channel; }

  // The channel's thread:
  void onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) override;
  void onReset() override;
  int pollFd() const override { return epoll_fd_; }
  void onTurn(bool ready) override;

  // Streams being served now (any thread).
  size_t active() const { return active_; }

 private:
  struct Waiting {
    uint64_t id;
    std::chrono::steady_clock::time_point deadline;
  };

  static constexpr size_t kMaxIdle = 64;
  static constexpr uint32_t kVerdictWaitMs = 2000;
  // Above this many bytes queued for the DPU the bridge stops reading its backends.
  static constexpr size_t kMaxQueuedBytes = 4u << 20;

  void open(const shm::RequestHeadView& v);
  void start(uint64_t id);
  // Acts on what an exchange says after a step: re-arms it, retries, or ends it.
  void settle(uint64_t id, BackendExchange::Outcome o);
  using Streams = std::map<uint64_t, std::unique_ptr<BackendExchange>>;
  void end(Streams::iterator it, bool reusable);
  // An event on a pooled connection: unless it is still quiet, it leaves the pool.
  void checkIdle(int fd);
  void admitWaiting();
  void flushWrites();
  void cutUntrusted();
  // Answers 503 for a stream the channel's verdict does not let through.
  void refuse(uint64_t id);
  void closeAll();
  int connection(bool* pooled);
  void release(int fd, bool reusable);

  sockaddr_in backend_;
  ChannelTrust* trust_;
  shm::HostChannel* channel_ = nullptr;
  int epoll_fd_;
  Streams streams_;
  // Every backend connection is in the epoll set, edge-triggered, from its connect to its
  // close (pooled ones too: no epoll_ctl per request); the stream it serves, by fd (0: idle).
  std::vector<uint64_t> owner_;
  std::deque<Waiting> waiting_;      // streams held until the verdict, in arrival order
  std::vector<uint64_t> unflushed_;  // streams given request bytes this turn
  std::vector<int> pool_;            // idle keep-alive connections to the backend
  bool paused_ = false;              // reading held back: the DPU's queue is full
  std::atomic<size_t> active_{0};
};

}  // namespace dpuguard::host
