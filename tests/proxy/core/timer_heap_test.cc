// TimerHeap: fires in deadline order, supports cancel and reschedule in any position.
#include "proxy/core/timer_heap.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace dpuguard::proxy {
namespace {

struct Recorder final : Timer {
  Recorder(std::vector<int>* log, int id) : log_(log), id_(id) {}
  void onTimer() override { log_->push_back(id_); }
  std::vector<int>* log_;
  int id_;
};

TEST(TimerHeapTest, FiresInOrderAndOnlyWhenDue) {
  std::vector<int> log;
  TimerHeap heap;
  Recorder a(&log, 1), b(&log, 2), c(&log, 3);
  heap.schedule(&a, 30);
  heap.schedule(&b, 10);
  heap.schedule(&c, 20);
  EXPECT_EQ(heap.next(), 10);
  heap.runDue(15);
  EXPECT_EQ(log, (std::vector<int>{2}));
  heap.runDue(100);
  EXPECT_EQ(log, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(heap.next(), -1);
  EXPECT_FALSE(a.scheduled());
}

TEST(TimerHeapTest, CancelAndReschedule) {
  std::vector<int> log;
  TimerHeap heap;
  Recorder a(&log, 1), b(&log, 2), c(&log, 3);
  heap.schedule(&a, 10);
  heap.schedule(&b, 20);
  heap.schedule(&c, 30);
  heap.cancel(&a);
  heap.schedule(&c, 5);   // earlier
  heap.schedule(&b, 50);  // later
  heap.runDue(100);
  EXPECT_EQ(log, (std::vector<int>{3, 2}));
}

TEST(TimerHeapTest, RandomOperationsKeepOrder) {
  std::mt19937 rng(42);
  std::vector<int> log;
  std::vector<std::unique_ptr<Recorder>> timers;
  TimerHeap heap;
  for (int i = 0; i < 200; ++i) timers.push_back(std::make_unique<Recorder>(&log, i));
  for (int round = 0; round < 2000; ++round) {
    Recorder* t = timers[rng() % timers.size()].get();
    if (rng() % 4 == 0) heap.cancel(t);
    else heap.schedule(t, static_cast<int64_t>(rng() % 1000));
  }
  std::vector<int64_t> deadlines;
  for (auto& t : timers) {
    if (t->scheduled()) deadlines.push_back(t->deadline());
  }
  log.clear();
  heap.runDue(1000);
  ASSERT_EQ(log.size(), deadlines.size());
  for (size_t i = 1; i < log.size(); ++i) {
    EXPECT_LE(timers[static_cast<size_t>(log[i - 1])]->deadline(), timers[static_cast<size_t>(log[i])]->deadline());
  }
}

}  // namespace
}  // namespace dpuguard::proxy
