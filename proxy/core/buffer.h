// Buffer: a bounded byte buffer with a readable window [begin, end) inside fixed storage.
// Storage is allocated on first use and can be released when empty, so idle keep-alive
// connections hold no buffer memory. It never grows: a full buffer is backpressure.
// Released storage goes to a small per-thread cache (each worker is one thread), so an
// exchange that parks a pooled connection and takes it again allocates nothing.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

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
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t capacity() const { return capacity_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  bool allocated() const { return data_ != nullptr; }
  // Bytes that could be appended if the readable window were moved to the front.
  size_t freeSpace() const { return capacity_ - size(); }

  std::string_view readable() const { return {data_.get() + begin_, size()}; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Writable tail for read(2); call produced(n) after. Allocates on first use.
  char* tail() {
    ensureAllocated();
    return data_.get() + end_;
  }
  size_t tailroom() const { return capacity_ - end_; }
  void produced(size_t n) { end_ += n; }

  // Moves the readable window to the front of the storage. Invalidates views into it:
  // callers that hold views (a parser mid-head) must not compact.
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_.get(), data_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }

  // Appends all of `s` or nothing; compacts if that makes room. False if it cannot fit.
  bool append(std::string_view s) {
    if (s.size() > freeSpace()) return false;
    ensureAllocated();
    if (s.size() > tailroom()) compact();
    std::memcpy(data_.get() + end_, s.data(), s.size());
    end_ += s.size();
    return true;
  }

  // Gives the storage back (to the thread's cache) if nothing is buffered.
  void releaseIfEmpty() {
    if (empty()) release();
  }

 private:
  void ensureAllocated() {
    if (!data_) data_ = BufferBlockCache::take(capacity_);
  }
  void release() {
    if (data_) BufferBlockCache::give(std::move(data_), capacity_);
    begin_ = end_ = 0;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace dpuguard::proxy
