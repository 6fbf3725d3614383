// TimerHeap implementation.
#include "proxy/core/timer_heap.h"

namespace dpuguard::proxy {

void TimerHeap::schedule(Timer* t, int64_t deadline_ms) {
  if (t->scheduled()) {
    const int64_t old = t->deadline_;
    t->deadline_ = deadline_ms;
    if (deadline_ms < old) siftUp(t->index_);
    else siftDown(t->index_);
    return;
  }
  t->deadline_ = deadline_ms;
  heap_.push_back(t);
  t->index_ = heap_.size() - 1;
  siftUp(t->index_);
}

void TimerHeap::cancel(Timer* t) {
  if (!t->scheduled()) return;
  const size_t i = t->index_;
  Timer* last = heap_.back();
  heap_.pop_back();
  t->index_ = Timer::kNotScheduled;
  if (last == t) return;
  place(i, last);
  siftUp(i);
  siftDown(last->index_);
}

void TimerHeap::runDue(int64_t now_ms) {
  while (!heap_.empty() && heap_.front()->deadline_ <= now_ms) {
    Timer* t = heap_.front();
    cancel(t);
    t->onTimer();
  }
}

void TimerHeap::siftUp(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline_ <= t->deadline_) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerHeap::siftDown(size_t i) {
  Timer* t = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline_ < heap_[child]->deadline_) ++child;
    if (t->deadline_ <= heap_[child]->deadline_) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace dpuguard::proxy
