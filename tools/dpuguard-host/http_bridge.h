// HttpBridge: the `dpuguard-host serve` handler. Each request stream from the DPU becomes one
// HTTP/1.1 exchange with a local server (an unmodified vLLM, nginx, the mock LLM) on a thread
// of its own (threads are reused: one per concurrent stream, idle ones exit after 10 s), over a
// pool of keep-alive backend connections; the response is streamed back as it arrives (SSE
// passes event by event).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shm/host/host_channel.h"
#include "tools/dpuguard-host/channel_trust.h"

namespace dpuguard::host {

class HttpBridge final : public shm::HostChannel::Handler {
 public:
  // `trust` (null: always trusted; dpuguard-host serve --expect): a request is forwarded only
  // while the channel's DPU end is trusted; one that arrives while the verdict is pending
  // waits for it (up to kVerdictWaitMs), otherwise it is answered 503 and never forwarded;
  // an answer still streaming when the channel stops being trusted is cut (StreamReset).
  explicit HttpBridge(const sockaddr_in& backend, ChannelTrust* trust = nullptr)
      : backend_(backend), trust_(trust) {}
  ~HttpBridge() override;
  void attach(shm::HostChannel* channel) { channel_ = channel; }

  void onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) override;
  // Streams being served now (any thread).
  size_t active() const { return active_; }
  void onReset() override;

 private:
  struct Stream {
    uint64_t id = 0;
    std::string head;  // the HTTP/1.1 request head, built from the RequestHead message
    bool chunked = false;
    bool head_request = false;
    std::mutex mutex;
    std::condition_variable cv;
    std::string body;  // request body bytes not yet written
    bool body_done = false;
    bool reset = false;
    std::atomic<bool> finished{false};
  };

  void serve(Stream& s);
  // Reads and forwards the response; true when the connection may serve another request.
  bool respond(Stream& s, int fd);
  int backendConnection(bool* pooled);
  void release(int fd, bool reusable);
  void reset(Stream& s, shm::ResetReason reason);

  void reap();
  void submit(Stream* s);
  void work();

  static constexpr size_t kMaxIdle = 64;
  static constexpr uint32_t kVerdictWaitMs = 2000;
  // Answers 503 for a stream the channel's verdict does not let through.
  void refuse(uint64_t stream_id);
  void resetStreams();

  sockaddr_in backend_;
  ChannelTrust* trust_;
  std::mutex pool_mutex_;
  std::vector<int> pool_;  // idle keep-alive connections to the backend

  std::mutex jobs_mutex_;
  std::condition_variable jobs_cv_;
  std::deque<Stream*> jobs_;
  size_t idle_workers_ = 0;
  bool stopping_ = false;
  size_t live_workers_ = 0;
  std::atomic<size_t> active_{0};  // detached; the destructor waits for them to leave
  shm::HostChannel* channel_ = nullptr;
  std::map<uint64_t, std::unique_ptr<Stream>> streams_;  // owned by the channel thread
};

}  // namespace dpuguard::host
