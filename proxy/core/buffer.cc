// BufferBlockCache: a thread_local list of free storage blocks; workers never share buffers.
#include "proxy/core/buffer.h"

#include <utility>
#include <vector>

#ifdef DPUGUARD_BUFFER_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace dpuguard::proxy {
namespace {

struct Blocks {
  std::vector<std::pair<size_t, std::unique_ptr<char[]>>> free;
};
thread_local Blocks t_blocks;

}  // namespace

std::unique_ptr<char[]> BufferBlockCache::take(size_t size) {
  auto& free = t_blocks.free;
  for (size_t i = free.size(); i-- > 0;) {
    if (free[i].first == size) {
      std::unique_ptr<char[]> block = std::move(free[i].second);
      free[i] = std::move(free.back());
      free.pop_back();
      return block;
    }
  }
  return std::make_unique_for_overwrite<char[]>(size);
}

void BufferBlockCache::give(std::unique_ptr<char[]> block, size_t size) {
  auto& free = t_blocks.free;
  if (free.size() < kMaxBlocks) {
    if (free.capacity() == 0) free.reserve(kMaxBlocks);
    free.emplace_back(size, std::move(block));
  }  // else: freed here
}

#if DPUGUARD_BUFFER_POISONS
void Buffer::poisonSlow(size_t at, size_t n) {
  if (n == 0 || !data_) return;
#ifdef DPUGUARD_BUFFER_ASAN
  ASAN_POISON_MEMORY_REGION(data_.get() + at, n);
#else
  std::memset(data_.get() + at, 0xDB, n);
#endif
}

void Buffer::unpoisonSlow([[maybe_unused]] size_t at, [[maybe_unused]] size_t n) {
#ifdef DPUGUARD_BUFFER_ASAN
  if (n != 0 && data_) ASAN_UNPOISON_MEMORY_REGION(data_.get() + at, n);
#endif
}
#endif

}  // namespace dpuguard::proxy
