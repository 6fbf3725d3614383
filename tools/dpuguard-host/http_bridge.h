// HttpBridge: the `dpuguard-host serve` handler. Each request stream from the DPU becomes one
// HTTP/1.1 exchange with a local server (an unmodified vLLM, nginx, the mock LLM) on a thread
// of its own; the response is streamed back as it arrives (SSE passes event by event).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <netinet/in.h>

#include "shm/host/host_channel.h"

namespace dpuguard::host {

class HttpBridge final : public shm::HostChannel::Handler {
 public:
  explicit HttpBridge(const sockaddr_in& backend) : backend_(backend) {}
  ~HttpBridge() override { onReset(); }
  void attach(shm::HostChannel* channel) { channel_ = channel; }

  void onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) override;
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
    std::thread thread;
  };

  void serve(Stream& s);
  void respond(Stream& s, int fd);
  void reset(Stream& s, shm::ResetReason reason);

  void reap();

  sockaddr_in backend_;
  shm::HostChannel* channel_ = nullptr;
  std::map<uint64_t, std::unique_ptr<Stream>> streams_;  // owned by the channel thread
};

}  // namespace dpuguard::host
