// ExchangePool: a free list of Exchanges; reset on the way back in.
#include "proxy/http/exchange.h"

namespace dpuguard::proxy {
namespace {

// Buffers over this are freed when an exchange comes back (an odd large request must not
// pin its memory in the pool).
constexpr size_t kKeepBytes = 16 * 1024;

void trim(std::string& s) {
  s.clear();
  if (s.capacity() > kKeepBytes) std::string().swap(s);
}

}  // namespace

std::unique_ptr<Exchange> ExchangePool::acquire() {
  ++in_use_;
  if (free_.empty()) return std::make_unique<Exchange>();
  std::unique_ptr<Exchange> e = std::move(free_.back());
  free_.pop_back();
  return e;
}

void ExchangePool::release(std::unique_ptr<Exchange> e) {
  if (e == nullptr) return;
  --in_use_;
  e->state = {};
  e->parser.reset();
  e->collector.release();
  trim(e->request_head);
  trim(e->method);
  trim(e->path);
  trim(e->scratch);
  trim(e->client);
  if (free_.size() < kMaxFree) free_.push_back(std::move(e));
}

}  // namespace dpuguard::proxy
