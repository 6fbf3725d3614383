// UpstreamConnection: one connection to an upstream endpoint (TCP, or a stream over the shm
// host channel to a host backend), with its buffers and response parser. While serving an
// exchange it reports I/O to its user (a ClientSession); while parked in its host's pool it
// closes itself on any event (peer closed, or unsolicited bytes) or when idle too long.
#pragma once

#include <cstdint>
#include <string_view>

#include "parsers/http1/message_parser.h"
#include "proxy/core/buffer.h"
#include "proxy/core/event_loop.h"
#include "proxy/http/message_input.h"
#include "proxy/router/load_balancer.h"

namespace dpuguard::proxy {

class UpstreamConnection;
class SessionServices;

// Everything a worker keeps about one endpoint address: health and idle connections.
struct UpstreamHost {
  Endpoint endpoint;
  EndpointHealth health;
  std::vector<UpstreamConnection*> idle;  // most recently parked last
};

class UpstreamUser {
 public:
  virtual ~UpstreamUser() = default;
  virtual void onUpstreamIo(uint32_t events) = 0;
};

// Idle pooled connections older than this are closed (most servers close theirs sooner).
inline constexpr int64_t kPoolIdleTimeoutMs = 30000;

class UpstreamConnection final : public IoHandler, public Timer {
 public:
  enum class Io : uint8_t { kProgress, kAgain, kEof, kError };

  UpstreamConnection(SessionServices& worker, UpstreamHost& host, size_t buffer_bytes,
                     const http1::Limits& limits);
  ~UpstreamConnection() override;

  // Starts a non-blocking connect; false (with errno in *err) if it failed at once.
  bool connect(int* err);
  // Takes an exchange: events go to `user` from now on.
  void attach(UpstreamUser* user);
  // Returns the connection to its host's pool (keep-alive), or closes it if the pool is full.
  void park(uint32_t max_idle);
  // Closes the socket and hands the object to the worker for deferred deletion.
  void close();

  void setInterest(uint32_t events);
  Io readSome();   // into in
  Io writeSome();  // from out
  // After EPOLLOUT during connect: 0 if connected, else the socket error.
  int finishConnect();

  void onIo(uint32_t events) override;
  void onTimer() override;

  UpstreamHost& host() { return host_; }
  bool connecting() const { return connecting_; }
  bool reused() const { return uses_ > 1; }
  bool closed() const { return fd_ < 0; }

  MessageInput in;  // the response stream: buffer and parser, a head's bytes pinned
  Buffer out;
  bool peer_closed = false;  // read returned EOF

 private:
  SessionServices& worker_;
  UpstreamHost& host_;
  UpstreamUser* user_ = nullptr;
  int fd_ = -1;
  uint32_t interest_ = 0;
  bool connecting_ = false;
  uint64_t uses_ = 0;
};

}  // namespace dpuguard::proxy
