// HealthChecker against a real loopback server: a failing /health turns an endpoint
// unhealthy after unhealthy_threshold checks, passing ones bring it back; unchecked clusters
// and host:// endpoints have no state; a reload keeps an unchanged check's state.
#include "proxy/router/health_checker.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace dpuguard::proxy {
namespace {

// Answers every connection with `status` and closes it.
struct TinyServer {
  TinyServer() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd, 16);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      while (true) {
        const int c = accept(fd, nullptr, nullptr);
        if (c < 0) return;
        char buf[1024];
        [[maybe_unused]] ssize_t n = recv(c, buf, sizeof buf, 0);
        const std::string r =
            "HTTP/1.1 " + std::to_string(status.load()) + " X\r\nContent-Length: 0\r\n\r\n";
        send(c, r.data(), r.size(), MSG_NOSIGNAL);
        close(c);
      }
    });
  }
  ~TinyServer() {
    shutdown(fd, SHUT_RDWR);
    close(fd);
    thread.join();
  }
  int fd;
  int port = 0;
  std::atomic<int> status{200};
  std::thread thread;
};

Config configFor(int port) {
  Config c;
  ClusterConfig checked;
  checked.name = "checked";
  checked.endpoints.push_back(*Endpoint::parse("127.0.0.1:" + std::to_string(port)));
  checked.endpoints.push_back(*Endpoint::parse("host://inference"));
  checked.health_check = {true, "/health", "", 100, 50, 2, 2};
  ClusterConfig plain;
  plain.name = "plain";
  plain.endpoints.push_back(*Endpoint::parse("127.0.0.1:1"));
  c.clusters = {checked, plain};
  return c;
}

bool waitFor(const std::atomic<uint8_t>* s, CheckState want) {
  for (int i = 0; i < 100; ++i) {
    if (s->load() == static_cast<uint8_t>(want)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(HealthCheckerTest, FailingChecksTurnUnhealthyPassingOnesBack) {
  TinyServer server;
  const Config c = configFor(server.port);
  auto table = std::make_shared<HealthTable>(c, nullptr);
  EXPECT_EQ(table->state(0, 1), nullptr);  // host:// is not checked
  EXPECT_EQ(table->state(1, 0), nullptr);  // no health_check
  const std::atomic<uint8_t>* s = table->state(0, 0);
  ASSERT_NE(s, nullptr);
  HealthChecker checker;
  checker.use(table);
  checker.start();
  EXPECT_TRUE(waitFor(s, CheckState::kHealthy));
  server.status = 503;
  EXPECT_TRUE(waitFor(s, CheckState::kUnhealthy));
  server.status = 204;
  EXPECT_TRUE(waitFor(s, CheckState::kHealthy));
  checker.stop();
  EXPECT_NE(table->prometheus().find("result=\"fail\"} "), std::string::npos);
  // A reload with the same check keeps the verdict and the counts.
  HealthTable next(c, table.get());
  EXPECT_EQ(next.state(0, 0)->load(), static_cast<uint8_t>(CheckState::kHealthy));
  EXPECT_EQ(next.entries()[0]->failures.load(), table->entries()[0]->failures.load());
}

TEST(HealthCheckerTest, NothingListeningIsUnhealthy) {
  Config c = configFor(1);  // port 1: refused
  auto table = std::make_shared<HealthTable>(c, nullptr);
  HealthChecker checker;
  checker.use(table);
  checker.start();
  EXPECT_TRUE(waitFor(table->state(0, 0), CheckState::kUnhealthy));
}

}  // namespace
}  // namespace dpuguard::proxy
