// Buffer: bounded, lazily allocated, compacts on append, never grows.
#include "proxy/core/buffer.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dpuguard::proxy
