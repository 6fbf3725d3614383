// RingProducer/RingConsumer on two threads of one process: the publication protocol (release
// store of prod/cons, acquire load by the other side) is what makes slot and record contents
// visible. This test is the one ThreadSanitizer checks (make test builds it with -fsanitize=thread).
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "tests/shm/ring_test_support.h"

namespace dpuguard::shm {
namespace {

using testing::bytesOf;
using testing::kText;
using testing::RingPair;

std::string messageFor(uint64_t i) {
  // Sizes cross the inline limit (40) and the record path, content depends on the index.
  return std::string(1 + (i * 7) % 200, static_cast<char>('a' + i % 26)) + std::to_string(i);
}

TEST(RingThreadsTest, EveryMessageArrivesOnceInOrderAndIntact) {
  constexpr uint64_t kCount = 200'000;
  RingPair r({64, 256}, 8);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kCount;) {
      const std::string m = messageFor(i);
      const auto s = r.producer.push(kText, 1, bytesOf(m));
      ASSERT_NE(s, RingProducer::PushStatus::kFaulted);
      if (s == RingProducer::PushStatus::kOk) ++i;
      else std::this_thread::yield();
    }
    r.producer.flush();
  });
  uint64_t next = 0;
  bool intact = true;
  while (next < kCount && r.consumer.fault() == RingFault::kNone) {
    const size_t n = r.consumer.poll([&](const RingMessage& m) {
      intact = intact && m.seq == next && testing::textOf(m.payload) == messageFor(next);
      ++next;
    });
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_TRUE(intact);
  EXPECT_EQ(next, kCount);
  EXPECT_EQ(r.consumer.fault(), RingFault::kNone);
  EXPECT_EQ(r.producer.fault(), RingFault::kNone);
}

}  // namespace
}  // namespace dpuguard::shm
