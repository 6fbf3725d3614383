// InspectingBodySink: scan writes of kMinScanWrite bytes or more, held bytes at the end.
#include "proxy/inspect/inspecting_body_sink.h"

#include <cstring>

namespace dpuguard::proxy::inspect {

void InspectingBodySink::pass(std::string_view data) {
  if (blocked_ || data.empty()) return;
  blocked_ = scan_.feed(data, matches_);
  if (!blocked_) next_->onBodyData(data);
}

void InspectingBodySink::onBodyData(std::string_view data) {
  if (blocked_) return;
  constexpr size_t k = kMinScanWrite;
  const size_t total = held_n_ + data.size();
  if (total < 2 * k) {  // not enough for a write and a held tail: hold it all
    std::memcpy(held_.data() + held_n_, data.data(), data.size());
    held_n_ = total;
    return;
  }
  // Everything but the last k bytes of held + data goes to the scan, in at most two writes
  // of >= k bytes; those last k bytes are held next.
  const size_t scan_n = total - k;
  if (scan_n <= held_n_) {  // data is shorter than k: the scan takes held bytes only
    pass(std::string_view(held_.data(), scan_n));
    std::memmove(held_.data(), held_.data() + scan_n, held_n_ - scan_n);
    std::memcpy(held_.data() + held_n_ - scan_n, data.data(), data.size());
    held_n_ = k;
    return;
  }
  const size_t from_data = scan_n - held_n_;  // data's bytes in the scan; data.size() > k here
  if (scan_n <= kMaxHeld) {                   // one write, assembled behind the held bytes
    std::memcpy(held_.data() + held_n_, data.data(), from_data);
    pass(std::string_view(held_.data(), scan_n));
  } else {
    // Held bytes topped up to k (fits: held_n_ < 2k), then the rest straight from data
    // (>= kMaxHeld + 1 - 2k >= k bytes).
    const size_t top = held_n_ > 0 && held_n_ < k ? k - held_n_ : 0;
    if (held_n_ > 0) {
      std::memcpy(held_.data() + held_n_, data.data(), top);
      pass(std::string_view(held_.data(), held_n_ + top));
    }
    pass(data.substr(top, from_data - top));
  }
  std::memcpy(held_.data(), data.data() + from_data, k);
  held_n_ = k;
}

void InspectingBodySink::finish() {
  // The held bytes go on only after the end-of-body matches (a `\b` or `$` at the end): a
  // blocked body never reaches the upstream whole.
  const std::string_view held(held_.data(), held_n_);
  held_n_ = 0;
  if (blocked_) return;
  if (!held.empty()) blocked_ = scan_.feed(held, matches_);
  if (!blocked_) blocked_ = scan_.finish(matches_);
  if (!blocked_ && !held.empty()) next_->onBodyData(held);
}

}  // namespace dpuguard::proxy::inspect
