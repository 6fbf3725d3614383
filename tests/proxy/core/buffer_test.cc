// Buffer: bounded, lazily allocated, compacts on append, never grows.
#include "proxy/core/buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string_view>

namespace dpuguard::proxy {
namespace {

TEST(BufferTest, AppendConsumeAndBound) {
  Buffer b(8);
  EXPECT_FALSE(b.allocated());
  EXPECT_TRUE(b.append("abcde"));
  EXPECT_TRUE(b.allocated());
  EXPECT_FALSE(b.append("xyzw"));  // all or nothing: 5 + 4 > 8
  EXPECT_EQ(b.readable(), "abcde");
  b.consume(3);
  EXPECT_EQ(b.freeSpace(), 6u);
  EXPECT_TRUE(b.append("123456"));  // needs the compaction
  EXPECT_EQ(b.readable(), "de123456");
  EXPECT_EQ(b.freeSpace(), 0u);
}

TEST(BufferTest, TailAndProduced) {
  Buffer b(4);
  std::memcpy(b.tail(), "ab", 2);
  b.produced(2);
  EXPECT_EQ(b.tailroom(), 2u);
  b.consume(1);
  b.compact();
  EXPECT_EQ(b.tailroom(), 3u);
  EXPECT_EQ(b.readable(), "b");
}

TEST(BufferTest, ReleaseOnlyWhenEmpty) {
  Buffer b(4);
  b.append("a");
  b.releaseIfEmpty();
  EXPECT_TRUE(b.allocated());
  b.consume(1);
  b.releaseIfEmpty();
  EXPECT_FALSE(b.allocated());
  EXPECT_TRUE(b.append("abcd"));
}

TEST(BufferTest, ReleasedStorageIsReusedBySameSizeBuffers) {
  const char* first = nullptr;
  {
    Buffer a(4096);
    ASSERT_TRUE(a.append("x"));
    first = a.readable().data();
    a.consume(1);
    a.releaseIfEmpty();  // back to this thread's cache, not to malloc
  }
  Buffer b(4096);
  ASSERT_TRUE(b.append("y"));
  EXPECT_EQ(b.readable().data(), first);
  Buffer other_size(2048);
  ASSERT_TRUE(other_size.append("z"));
  EXPECT_NE(other_size.readable().data(), first);
}

// The contract a parser mid-head relies on: pinned bytes never move and are never
// overwritten, even when every byte was consumed (the old code rewound to offset 0).
TEST(BufferTest, PinnedBytesStayWhereTheyAre) {
  Buffer b(64);
  ASSERT_TRUE(b.append("GET /ok HT"));
  b.pin();
  const char* head = b.readable().data();
  b.consume(10);
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(b.compact());
  EXPECT_EQ(b.freeSpace(), 54u);  // only behind the window while pinned
  std::memcpy(b.tail(), "TP/1.1", 6);
  b.produced(6);
  EXPECT_EQ(b.readable().data(), head + 10);
  EXPECT_EQ(std::string_view(head, 16), "GET /ok HTTP/1.1");
  b.releaseIfEmpty();
  EXPECT_TRUE(b.allocated());  // not while pinned
}

TEST(BufferTest, AppendWhilePinnedNeverCompacts) {
  Buffer b(8);
  ASSERT_TRUE(b.append("abcd"));
  b.consume(2);
  b.pin();
  EXPECT_FALSE(b.append("wxyzv"));  // would need the two consumed bytes back
  EXPECT_TRUE(b.append("wxyz"));
  EXPECT_EQ(b.readable(), "cdwxyz");
}

TEST(BufferTest, UnpinGivesBackAndRewindsAnEmptyWindow) {
  Buffer b(16);
  ASSERT_TRUE(b.append("abc"));
  b.pin();
  b.consume(3);
  b.unpin();
  EXPECT_FALSE(b.pinned());
  EXPECT_EQ(b.tailroom(), 16u);
  EXPECT_TRUE(b.compact());
}

#if defined(DPUGUARD_BUFFER_ASAN)
// Under ASan a view kept past its pin is a report at the read, not a silent wrong byte.
TEST(BufferDeathTest, ReadingAConsumedByteIsAReport) {
  Buffer b(64);
  ASSERT_TRUE(b.append("GET /ok HTTP/1.1\r\n"));
  const std::string_view stale = b.readable();
  ASSERT_TRUE(b.append("X-Long-Enough-To-Keep-A-Granule: 1\r\n"));
  b.consume(stale.size() + 8);
  EXPECT_DEATH(
      {
        volatile char c = stale[0];
        (void)c;
      },
      "use-after-poison");
}
#elif !defined(NDEBUG)
TEST(BufferTest, ConsumedBytesAreOverwrittenInDebugBuilds) {
  Buffer b(64);
  ASSERT_TRUE(b.append("GET /ok"));
  const char* p = b.readable().data();
  ASSERT_TRUE(b.append(" HTTP/1.1"));
  b.consume(4);
  EXPECT_EQ(static_cast<unsigned char>(p[0]), 0xDBu);
}
#endif

}  // namespace
}  // namespace dpuguard::proxy
