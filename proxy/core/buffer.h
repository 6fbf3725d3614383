// Buffer: a bounded byte buffer with a readable window [begin, end) inside fixed storage.
// Storage is allocated on first use and can be released when empty, so idle keep-alive
// connections hold no buffer memory. It never grows: a full buffer is backpressure.
// Released storage goes to a small per-thread cache (each worker is one thread), so an
// exchange that parks a pooled connection and takes it again allocates nothing.
//
// Pinning is the contract for readers that keep views into the buffer across reads (a
// parser in the middle of a message head): while pinned, no byte from the pin point on
// moves or is overwritten. consume() does not rewind an emptied window, compact() and
// release refuse, and appends go behind the bytes already there. Unpinned, consumed bytes
// are given back: under AddressSanitizer they are poisoned (a stale view is a report at
// the read), in other debug builds overwritten with 0xDB.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

// Poisoning of given-back bytes: under AddressSanitizer, or in builds without NDEBUG.
#if defined(__SANITIZE_ADDRESS__)
#define DPUGUARD_BUFFER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DPUGUARD_BUFFER_ASAN 1
#endif
#endif
#if defined(DPUGUARD_BUFFER_ASAN) || !defined(NDEBUG)
#define DPUGUARD_BUFFER_POISONS 1
#else
#define DPUGUARD_BUFFER_POISONS 0
#endif

namespace dpuguard::proxy {

// Per-thread recycling of buffer storage blocks, by size; at most kMaxBlocks are kept.
class BufferBlockCache {
 public:
  static constexpr size_t kMaxBlocks = 64;
  static std::unique_ptr<char[]> take(size_t size);
  static void give(std::unique_ptr<char[]> block, size_t size);
};

class Buffer {
 public:
  explicit Buffer(size_t capacity) : capacity_(capacity) {}
  ~Buffer() {
    pinned_ = false;
    release();
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t capacity() const { return capacity_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  bool allocated() const { return data_ != nullptr; }
  // Bytes that can still be appended: behind the window while pinned, else if the readable
  // window were moved to the front.
  size_t freeSpace() const { return pinned_ ? tailroom() : capacity_ - size(); }

  std::string_view readable() const { return {data_.get() + begin_, size()}; }
  void consume(size_t n) {
    giveBack(begin_, n);
    begin_ += n;
    if (begin_ == end_ && !pinned_) begin_ = end_ = 0;
  }

  // Writable tail for read(2); call produced(n) after. Allocates on first use.
  char* tail() {
    ensureAllocated();
    unpoison(end_, tailroom());
    return data_.get() + end_;
  }
  size_t tailroom() const { return capacity_ - end_; }
  void produced(size_t n) { end_ += n; }

  // Moves the readable window to the front of the storage (invalidating views into it).
  // Refused (false) while pinned; true once the window starts at the front.
  bool compact() {
    if (pinned_) return false;
    if (begin_ == 0) return true;
    const size_t n = size();
    unpoison(0, n);
    std::memmove(data_.get(), data_.get() + begin_, n);
    giveBack(n, end_ - n);
    end_ = n;
    begin_ = 0;
    return true;
  }

  // Appends all of `s` or nothing; compacts if that makes room. False if it cannot fit.
  bool append(std::string_view s) {
    if (s.size() > freeSpace()) return false;
    ensureAllocated();
    if (s.size() > tailroom()) compact();
    unpoison(end_, s.size());
    std::memcpy(data_.get() + end_, s.data(), s.size());
    end_ += s.size();
    return true;
  }

  // Pins the bytes from the readable window's start on (see the file comment); unpin()
  // gives back what was consumed meanwhile. Pinning twice keeps the first pin.
  void pin() { pinned_ = true; }
  void unpin() {
    if (!pinned_) return;
    pinned_ = false;
    giveBack(0, begin_);
    if (begin_ == end_) begin_ = end_ = 0;
  }
  bool pinned() const { return pinned_; }

  // Gives the storage back (to the thread's cache) if nothing is buffered or pinned.
  void releaseIfEmpty() {
    if (empty() && !pinned_) release();
  }

 private:
  void ensureAllocated() {
    if (!data_) data_ = BufferBlockCache::take(capacity_);
  }
  void release() {
    if (data_) {
      unpoison(0, capacity_);
      BufferBlockCache::give(std::move(data_), capacity_);
    }
    begin_ = end_ = 0;
  }
  // Bytes [at, at + n) that no reader may look at again, unless pinned.
  void giveBack(size_t at, size_t n) {
    if (!pinned_) poison(at, n);
  }
  void poison([[maybe_unused]] size_t at, [[maybe_unused]] size_t n) {
#if DPUGUARD_BUFFER_POISONS
    poisonSlow(at, n);
#endif
  }
  void unpoison([[maybe_unused]] size_t at, [[maybe_unused]] size_t n) {
#if DPUGUARD_BUFFER_POISONS
    unpoisonSlow(at, n);
#endif
  }
  void poisonSlow(size_t at, size_t n);
  void unpoisonSlow(size_t at, size_t n);

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool pinned_ = false;
};

}  // namespace dpuguard::proxy
