// HostChannel: the host side of one DPU worker's channel (libdpuguard_host). It accepts the
// DPU's hello on a connected Unix socket, then runs the rings on its own thread: messages from
// the DPU go to a Handler (on that thread), and any thread may post messages back. A new hello
// on the socket (the DPU re-created the channel at epoch + 1) resets every stream.
//
// The DPU is as untrusted from here as the host is from there: everything arrives through a
// RingConsumer with the dpuToHost allowlist.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "shm/channel_end.h"
#include "shm/messages.h"

namespace dpuguard::shm {

class HostChannel {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A validated message from the DPU; `payload` is valid during the call only.
    virtual void onMessage(MessageSchema schema, std::span<const std::byte> payload) = 0;
    // The channel was re-created or closed: every stream of the old epoch is gone. Messages
    // posted from here go to the new epoch.
    virtual void onReset() = 0;
    // Optional: an fd the channel's thread also waits on (an epoll set of the handler's own
    // sockets), and a call on that thread at every turn of its loop (at least every 10 ms),
    // `ready` when the fd is readable. The handler's I/O then runs on the channel's thread.
    virtual int pollFd() const { return -1; }
    virtual void onTurn(bool /*ready*/) {}
  };

  HostChannel(int sock, RingGeometry geometry, Handler& handler);
  ~HostChannel();

  // Runs until the DPU closes the socket, sends garbage, or stop(). Returns the reason.
  const char* run();
  void stop();
  // Thread-safe: queues a message for the DPU (sent in order by the channel thread, at the end
  // of its current turn when posted from it).
  void post(MessageSchema schema, std::span<const std::byte> payload);
  // Payload bytes queued and not yet in the ring (the channel thread's figure for backpressure).
  size_t queuedBytes();
  // Thread-safe: asks the DPU to send no new requests, let in-flight ones finish within
  // `deadline_ms`, then close this channel (it reconnects for the next request).
  void drain(uint32_t deadline_ms);
  RingGeometry geometry() const { return geometry_; }

 private:
  void sendQueued();

  int sock_;
  int notify_fd_;
  RingGeometry geometry_;
  Handler& handler_;
  ChannelEnd end_;
  std::mutex mutex_;
  std::deque<std::pair<MessageSchema, std::vector<std::byte>>> queue_;
  size_t queued_bytes_ = 0;
  std::atomic<std::thread::id> owner_{};  // the thread in run()
  std::atomic<bool> stopping_{false};
};

}  // namespace dpuguard::shm
