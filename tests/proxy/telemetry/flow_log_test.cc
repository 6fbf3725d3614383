// FlowLog, FlowLogQueue, FlowLogWriter: a full queue drops and counts, a worker never waits,
// the writer delivers to a pipe and to a datagram socket, one line per datagram.
#include "proxy/telemetry/flow_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace dpuguard::proxy {
namespace {

std::string readAll(int fd, size_t want) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  char buf[65536];
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0)
      out.append(buf, static_cast<size_t>(n));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return out;
}

TEST(FlowLogTest, QueueDropsWhatDoesNotFitAndRefusesMixingSinks) {
  std::string err;
  auto a = FlowLogSink::open("off", &err);
  auto b = FlowLogSink::open("off", &err);
  FlowLogQueue q;
  EXPECT_EQ(q.push(a, "x\n", 1, 4), FlowLogQueue::Push::kQueued);
  EXPECT_EQ(q.push(a, "yyy\n", 1, 4), FlowLogQueue::Push::kDropped);
  EXPECT_EQ(q.push(b, "z\n", 1, 4), FlowLogQueue::Push::kBusy);
  std::string out;
  EXPECT_EQ(q.take(out), a);
  EXPECT_EQ(out, "x\n");
  EXPECT_EQ(q.push(b, "z\n", 1, 4), FlowLogQueue::Push::kQueued);
}

TEST(FlowLogTest, AStalledPipeCostsLinesNeverTheWorker) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  const std::string path = "/proc/self/fd/" + std::to_string(p[1]);
  std::string err;
  auto sink = FlowLogSink::open(path, &err);
  ASSERT_NE(sink, nullptr) << err;
  FlowLogWriter writer;
  FlowLog log;
  Counter dropped{0};
  log.setSink(sink);
  log.setQueue(writer.addQueue(), &dropped);
  log.setQueueCapacity(16384);
  writer.start();
  FlowRecord r;
  r.path = "/a-path-long-enough-to-fill-a-pipe-soon";
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) {
    log.append(r);
    if (i % 10 == 0) log.flush();
  }
  log.flush();
  // Nobody reads the pipe: 20000 lines cannot fit 64 KiB + 16 KiB; the loop above never waited.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_GT(dropped.load(), 0u);
  const std::string got = readAll(p[0], 1000);  // the reader wakes up: lines flow again
  EXPECT_EQ(got.substr(0, 9), "{\"time\":\"");
  writer.stop(200);
  close(p[0]);
  close(p[1]);
}

TEST(FlowLogTest, DatagramSinkSendsOneLinePerDatagram) {
  const std::string path = "/tmp/dpuguard-flow-log-test-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  const int rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
  std::string err;
  auto sink = FlowLogSink::open("unix:" + path, &err);
  ASSERT_NE(sink, nullptr) << err;
  const std::atomic<bool> wait{false};
  EXPECT_EQ(sink->write("{\"a\":1}\n{\"b\":2}\n", wait), 0u);
  char buf[256];
  EXPECT_EQ(std::string(buf, static_cast<size_t>(recv(rx, buf, sizeof buf, 0))), "{\"a\":1}");
  EXPECT_EQ(std::string(buf, static_cast<size_t>(recv(rx, buf, sizeof buf, 0))), "{\"b\":2}");
  EXPECT_EQ(FlowLogSink::open("unix:/nonexistent/x.sock", &err), nullptr);
  close(rx);
  unlink(path.c_str());
}

}  // namespace
}  // namespace dpuguard::proxy
