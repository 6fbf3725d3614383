// AdminServer on loopback: many idle and slow clients at once do not delay an answer; the
// head deadline gives 408; an oversized head 431; /healthz follows `unhealthy`.
#include "proxy/admin/admin_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace dpuguard::proxy {
namespace {

int connectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string exchange(int port, const std::string& request) {
  const int fd = connectTo(port);
  if (!request.empty())
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

struct Fixture {
  Fixture() {
    AdminHandlers h;
    h.metrics = [] { return std::string("m 1\n"); };
    h.config = [] { return std::string("{}"); };
    h.edges = [] { return std::string("{}"); };
    h.unhealthy = [this] { return std::string(problem ? "worker 0: stalled" : ""); };
    admin = std::make_unique<AdminServer>(*SocketAddress::parse("127.0.0.1:0"), std::move(h));
    std::string err;
    EXPECT_TRUE(admin->start(&err)) << err;
    port = admin->port();
  }
  std::atomic<bool> problem{false};
  std::unique_ptr<AdminServer> admin;
  int port = 0;
};

TEST(AdminServerTest, IdleClientsDoNotDelayHealthz) {
  Fixture f;
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(connectTo(f.port));  // more than kMaxConnections
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = exchange(f.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200");
  EXPECT_NE(out.find("\r\n\r\nok\n"), std::string::npos);
  for (int fd : idle) close(fd);
}

TEST(AdminServerTest, HealthzFollowsTheProblem) {
  Fixture f;
  f.problem = true;
  const std::string out = exchange(f.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 503");
  EXPECT_NE(out.find("worker 0: stalled"), std::string::npos);
}

TEST(AdminServerTest, SilentClientGets408OversizedHead431) {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange(f.port, "").substr(0, 12), "HTTP/1.1 408");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
  const std::string big =
      "GET /metrics HTTP/1.1\r\nHost: a\r\nX: " + std::string(9000, 'a') + "\r\n\r\n";
  EXPECT_EQ(exchange(f.port, big).substr(0, 12), "HTTP/1.1 431");
  EXPECT_EQ(exchange(f.port, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n").substr(0, 12),
            "HTTP/1.1 404");
}

}  // namespace
}  // namespace dpuguard::proxy
