// EventLoop::post/cancel: readiness for handlers without an fd (host streams) is delivered on
// the next turn, merged, never inside post(), and never to a handler cancelled meanwhile.
#include "proxy/core/event_loop.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <functional>
#include <vector>

namespace dpuguard::proxy {
namespace {

struct Recorder final : IoHandler {
  std::vector<uint32_t> events;
  std::function<void()> then;
  void onIo(uint32_t ev) override {
    events.push_back(ev);
    if (then) then();
  }
};

const std::function<void()> kNothing = [] {};

TEST(EventLoopPostTest, DeliversOnTheNextTurnMerged) {
  EventLoop loop;
  Recorder r;
  loop.post(&r, EPOLLIN);
  loop.post(&r, EPOLLOUT);
  EXPECT_TRUE(r.events.empty());  // not inside post()
  loop.runOnce(kNothing, 1000);   // returns at once: something is posted
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0], static_cast<uint32_t>(EPOLLIN | EPOLLOUT));
  loop.runOnce(kNothing, 0);
  EXPECT_EQ(r.events.size(), 1u);  // once only
}

TEST(EventLoopPostTest, CancelledHandlersHearNothingEvenInTheSameTurn) {
  EventLoop loop;
  Recorder a, b;
  a.then = [&] { loop.cancel(&b); };  // a's handler ends b before b's turn comes
  loop.post(&a, EPOLLIN);
  loop.post(&b, EPOLLIN);
  loop.runOnce(kNothing, 0);
  EXPECT_EQ(a.events.size(), 1u);
  EXPECT_TRUE(b.events.empty());
  loop.post(&b, EPOLLIN);
  loop.cancel(&b);
  loop.runOnce(kNothing, 0);
  EXPECT_TRUE(b.events.empty());
}

TEST(EventLoopPostTest, PostingFromAHandlerWaitsForTheFollowingTurn) {
  EventLoop loop;
  Recorder r;
  int turns = 0;
  r.then = [&] {
    if (++turns < 3) loop.post(&r, EPOLLIN);
  };
  loop.post(&r, EPOLLIN);
  loop.runOnce(kNothing, 0);
  EXPECT_EQ(r.events.size(), 1u);
  loop.runOnce(kNothing, 0);
  loop.runOnce(kNothing, 0);
  loop.runOnce(kNothing, 0);
  EXPECT_EQ(r.events.size(), 3u);
}

}  // namespace
}  // namespace dpuguard::proxy
