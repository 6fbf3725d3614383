// AdminServer: the operator's endpoint, on an event loop and a thread of its own (never a
// worker's loop):
//   GET /metrics   Prometheus text      GET /healthz  200 "ok"; 503 while draining or when a
//   GET /config    the running config as JSON (redacted)        worker loop has stalled
//   GET /edges     observed identity -> route edges: counts, first/last seen (JSON)
//   GET /clusters  endpoints per cluster: health checks, ejections, requests in flight (JSON)
//   GET /measurement               the running snapshot's measurement log (JSON)
//   GET /attestation?nonce=HEX     that log in a quote signed with the device key (JSON)
// Many connections at once, each with a head deadline (kHeadDeadlineMs from accept), a write
// deadline and a bounded head (kMaxHeadBytes): one request per connection, then close. At
// kMaxConnections the oldest connection still sending its head is closed for the new one, so
// no number of slow or idle clients can keep /healthz from answering. Out of descriptors, the
// listener rests kAcceptBackoffMs. Meant for loopback or a management network.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy/core/event_loop.h"
#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

struct AdminReply {
  int status = 200;
  std::string body;
};

struct AdminHandlers {
  std::function<std::string()> metrics;
  std::function<std::string()> config;
  // Why /healthz fails ("draining", "worker 1: loop stalled for 7300 ms"), or "" when healthy.
  std::function<std::string()> unhealthy;
  std::function<std::string()> edges;        // the observed identity -> route graph, JSON
  std::function<std::string()> clusters;     // cluster and endpoint state, JSON
  std::function<std::string()> measurement;  // the measurement log, JSON
  // The quote for the query string after '?' (nonce=HEX): 200 with JSON, or 400/404 and why.
  std::function<AdminReply(std::string_view query)> attestation;
};

class AdminServer final : public IoHandler, public Timer {
 public:
  static constexpr size_t kMaxConnections = 128;
  static constexpr size_t kMaxHeadBytes = 8192;
  static constexpr int64_t kHeadDeadlineMs = 2000;
  static constexpr int64_t kWriteDeadlineMs = 5000;
  static constexpr int64_t kAcceptBackoffMs = 250;

  AdminServer(SocketAddress address, AdminHandlers handlers);
  ~AdminServer() override;
  bool start(std::string* err);
  // start() in two steps, for the sandbox: bind while privileged, run the thread after.
  bool listen(std::string* err);
  void startThread();
  void stop();
  // The port it listens on (after start; for tests that bind port 0).
  int port() const;

  void onIo(uint32_t events) override;  // the listener
  void onTimer() override;              // accept backoff over

 private:
  class Connection;
  friend class Connection;

  void accept();
  // The reply to a complete head.
  std::string answer(std::string_view method, std::string_view target);
  void retire(Connection* c);

  SocketAddress address_;
  AdminHandlers handlers_;
  EventLoop loop_;
  int listen_fd_ = -1;
  bool listening_ = false;
  std::list<std::unique_ptr<Connection>> connections_;  // oldest first
  std::vector<std::unique_ptr<Connection>> dead_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

// The admin's reply to `status` with a body, closing the connection.
std::string adminResponse(int status, std::string_view type, const std::string& body);

}  // namespace dpuguard::proxy
