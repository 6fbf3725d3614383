// HeaderBlock: the storage for one message's header fields (kMaxHeadersCapacity of them,
// 8 KiB), taken when a head starts and given back when the parser's owner goes idle, so an
// idle keep-alive connection holds no field storage. Given-back blocks stay in a per-thread
// cache (at most kMaxCached), so a busy connection takes and gives without allocating.
#pragma once

#include <cstddef>
#include <memory>

#include "parsers/http1/limits.h"
#include "parsers/http1/message_head.h"

namespace dpuguard::http1 {

class HeaderBlock {
 public:
  static constexpr size_t kMaxCached = 64;

  HeaderBlock() = default;
  ~HeaderBlock() { release(); }
  HeaderBlock(const HeaderBlock&) = delete;
  HeaderBlock& operator=(const HeaderBlock&) = delete;

  // The fields, allocated (or taken from the cache) on first use.
  HeaderField* fields() {
    if (!fields_) fields_ = take();
    return fields_.get();
  }
  bool held() const { return fields_ != nullptr; }
  // Gives the storage back to this thread's cache. Views into it become invalid.
  void release();

 private:
  static std::unique_ptr<HeaderField[]> take();

  std::unique_ptr<HeaderField[]> fields_;
};

}  // namespace dpuguard::http1
