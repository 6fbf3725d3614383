// AdminServer: the operator's endpoint on its own thread (never on a worker's loop):
//   GET /metrics  Prometheus text     GET /healthz  200 "ok" (503 while draining)
//   GET /config   the running config as JSON (redacted)
//   GET /edges    observed identity -> route edges: counts, first/last seen (JSON)
// One request per connection, short timeouts; meant for loopback or a management network.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "proxy/core/socket_address.h"

namespace dpuguard::proxy {

struct AdminHandlers {
  std::function<std::string()> metrics;
  std::function<std::string()> config;
  std::function<bool()> healthy;
  std::function<std::string()> edges;  // the observed identity -> route graph, JSON
};

class AdminServer {
 public:
  AdminServer(SocketAddress address, AdminHandlers handlers);
  ~AdminServer();
  bool start(std::string* err);
  void stop();

 private:
  void run();
  void serve(int fd);

  SocketAddress address_;
  AdminHandlers handlers_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace dpuguard::proxy
