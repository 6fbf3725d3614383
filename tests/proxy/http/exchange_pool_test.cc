// ExchangePool: exchanges come back clean (state at its defaults, parser reset) and are
// reused, buffers keep a bounded capacity, and the pool holds a bounded number of spares.
#include <gtest/gtest.h>

#include <vector>

#include "proxy/http/exchange.h"

namespace dpuguard::proxy {
namespace {

TEST(ExchangePool, AReleasedExchangeComesBackCleanAndIsReused) {
  ExchangePool pool;
  std::unique_ptr<Exchange> e = pool.acquire();
  EXPECT_EQ(pool.inUse(), 1u);
  Exchange* first = e.get();
  e->state.status = 502;
  e->state.request_done = true;
  e->state.bytes_in = 99;
  e->state.endpoint = 3;
  e->method = "POST";
  e->path.assign(100, 'p');
  http1::NullBodySink none;
  ASSERT_EQ(e->parser.feed("GET / HT", none).status, http1::ParseStatus::kNeedMore);
  ASSERT_TRUE(e->parser.inMessage());
  pool.release(std::move(e));
  EXPECT_EQ(pool.inUse(), 0u);
  EXPECT_EQ(pool.spare(), 1u);

  std::unique_ptr<Exchange> again = pool.acquire();
  EXPECT_EQ(again.get(), first);  // reused, not reallocated
  EXPECT_EQ(again->state.status, 0);
  EXPECT_FALSE(again->state.request_done);
  EXPECT_EQ(again->state.bytes_in, 0u);
  EXPECT_EQ(again->state.endpoint, -1);
  EXPECT_EQ(again->state.head_start_ms, -1);
  EXPECT_TRUE(again->method.empty());
  EXPECT_TRUE(again->path.empty());
  EXPECT_GE(again->path.capacity(), 100u);  // small buffers keep their capacity
  EXPECT_FALSE(again->parser.inMessage());  // the half-read head of its last use is gone
  EXPECT_EQ(again->parser.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n", none).status,
            http1::ParseStatus::kHeadComplete);
  pool.release(std::move(again));
}

TEST(ExchangePool, LargeBuffersAreFreedAndSparesAreBounded) {
  ExchangePool pool;
  std::unique_ptr<Exchange> e = pool.acquire();
  e->request_head.assign(1 << 20, 'h');
  pool.release(std::move(e));
  e = pool.acquire();
  EXPECT_LT(e->request_head.capacity(), size_t{1} << 20);
  pool.release(std::move(e));

  std::vector<std::unique_ptr<Exchange>> many;
  for (size_t i = 0; i < ExchangePool::kMaxFree + 10; ++i) many.push_back(pool.acquire());
  for (auto& x : many) pool.release(std::move(x));
  EXPECT_EQ(pool.spare(), ExchangePool::kMaxFree);
  EXPECT_EQ(pool.inUse(), 0u);
}

}  // namespace
}  // namespace dpuguard::proxy
