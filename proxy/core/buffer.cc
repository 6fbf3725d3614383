// BufferBlockCache: a thread_local list of free storage blocks; workers never share buffers.
#include "proxy/core/buffer.h"

#include <utility>
#include <vector>

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

}  // namespace dpuguard::proxy
