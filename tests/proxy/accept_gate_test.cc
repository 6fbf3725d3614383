// AcceptGate over a real listener and event loop: max_connections removes the listener from
// epoll and a close puts it back; a descriptor in the reserve pauses accepts for kBackoffMs;
// EMFILE pauses too, and is counted; EAGAIN is nothing.
#include "proxy/accept_gate.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "proxy/core/socket_ops.h"

namespace dpuguard::proxy {
namespace {

struct CountingHandler final : IoHandler {
  void onIo(uint32_t) override { ++events; }
  int events = 0;
};

struct Fixture {
  Fixture() {
    std::string err;
    fd = listenSocket(*SocketAddress::parse("127.0.0.1:0"), false, &err);
    loop.add(fd, EPOLLIN, &handler);
    gate = std::make_unique<AcceptGate>(loop, metrics,
                                        std::vector<AcceptGate::Listener>{{fd, &handler}}, "test");
    // A connection waits in the listen queue: the listener is readable while polled.
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    client = socket(AF_INET, SOCK_STREAM, 0);
    connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~Fixture() {
    close(client);
    close(fd);
  }
  int turn() {
    handler.events = 0;
    loop.runOnce([] {}, 20);
    return handler.events;
  }
  EventLoop loop;
  WorkerMetrics metrics;
  CountingHandler handler;
  std::unique_ptr<AcceptGate> gate;
  int fd = -1;
  int client = -1;
};

TEST(AcceptGateTest, MaxConnectionsPausesUntilOneCloses) {
  Fixture f;
  EXPECT_EQ(f.turn(), 1);
  f.gate->setMaxConnections(2);
  EXPECT_TRUE(f.gate->admit(1));
  EXPECT_FALSE(f.gate->admit(2));
  EXPECT_TRUE(f.gate->paused());
  EXPECT_EQ(f.metrics.connections_limited.load(), 1u);
  EXPECT_EQ(f.metrics.accept_paused.load(), 1);
  EXPECT_EQ(f.turn(), 0);  // not polled: no spinning on the queued connection
  f.gate->closed(1);
  EXPECT_FALSE(f.gate->paused());
  EXPECT_EQ(f.turn(), 1);
}

TEST(AcceptGateTest, DescriptorExhaustionBacksOffAndIsCounted) {
  Fixture f;
  EXPECT_TRUE(f.gate->failed(EAGAIN));
  EXPECT_FALSE(f.gate->paused());
  f.gate->failed(EMFILE);
  EXPECT_TRUE(f.gate->paused());
  EXPECT_EQ(f.metrics.accept_errors[static_cast<size_t>(AcceptError::kEmfile)].load(), 1u);
  EXPECT_EQ(f.turn(), 0);
  for (int i = 0; i < 30 && f.gate->paused(); ++i) f.turn();  // kBackoffMs later it polls again
  EXPECT_FALSE(f.gate->paused());
  EXPECT_EQ(f.turn(), 1);
}

TEST(AcceptGateTest, TheReserveIsKeptFree) {
  Fixture f;
  EXPECT_FALSE(f.gate->inReserve(3));
  EXPECT_TRUE(f.gate->inReserve(f.gate->reserveFloor()));
  EXPECT_TRUE(f.gate->paused());
  EXPECT_EQ(f.metrics.accept_errors[static_cast<size_t>(AcceptError::kFdReserve)].load(), 1u);
}

}  // namespace
}  // namespace dpuguard::proxy
