#include "parsers/http1/header_block.h"

#include <vector>

namespace dpuguard::http1 {
namespace {

// Each worker is one thread: the cache needs no lock.
std::vector<std::unique_ptr<HeaderField[]>>& cache() {
  thread_local std::vector<std::unique_ptr<HeaderField[]>> blocks;
  return blocks;
}

}  // namespace

std::unique_ptr<HeaderField[]> HeaderBlock::take() {
  auto& blocks = cache();
  if (blocks.empty()) return std::make_unique<HeaderField[]>(kMaxHeadersCapacity);
  std::unique_ptr<HeaderField[]> b = std::move(blocks.back());
  blocks.pop_back();
  return b;
}

void HeaderBlock::release() {
  if (!fields_) return;
  auto& blocks = cache();
  if (blocks.size() < kMaxCached) {
    if (blocks.capacity() == 0) blocks.reserve(kMaxCached);
    blocks.push_back(std::move(fields_));
  }
  fields_.reset();
}

}  // namespace dpuguard::http1
