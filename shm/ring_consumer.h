// RingConsumer: the reading end of one SPSC ring, the code that faces a possibly hostile peer
// (SHM_DESIGN.md "Every message"). Per poll it loads the peer's `prod` once and checks
// 0 <= prod - cons <= capacity; per message it copies the descriptor, then the payload, into
// private memory exactly once and validates only the copies (no double fetch), against the
// schema allowlist. The first fault stops the ring; nothing after it is delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "shm/ring_fault.h"
#include "shm/ring_layout.h"
#include "shm/schema_registry.h"

namespace dpuguard::shm {

// A validated message; `payload` points into the consumer's private buffer and stays valid
// until the next message is read.
struct RingMessage {
  uint16_t schema_id = 0;
  uint16_t version = 0;
  uint64_t seq = 0;
  std::span<const std::byte> payload;
};

class RingConsumer {
 public:
  static constexpr size_t kDefaultBudget = 256;  // messages per poll: the peer cannot starve us

  // `peer`: the producer's region mapped read-only (at least geometry.regionBytes()); `own`:
  // this side's writable region, where `cons` and the heartbeat are published. Both, and
  // `schemas`, must outlive the consumer. Allocates its private copy buffer once, here.
  RingConsumer(std::span<const std::byte> peer, std::span<std::byte> own, RingGeometry geometry,
               const SchemaRegistry& schemas);

  // Delivers up to `budget` validated messages to `handler(const RingMessage&)`, publishes
  // `cons` once and returns how many were delivered. After a fault returns 0 and does nothing.
  template <class Handler>
  size_t poll(Handler&& handler, size_t budget = kDefaultBudget) {
    const uint64_t available = begin();
    size_t n = 0;
    for (; n < available && n < budget; ++n) {
      prefetchSlot(cons_ + 4);  // a hint only: never dereferenced unless it is published
      RingMessage m;
      if (read(m) != RingFault::kNone) break;
      handler(static_cast<const RingMessage&>(m));
      ++cons_;
    }
    end();
    return n;
  }

  RingFault fault() const { return fault_; }
  const RingStats& stats() const { return stats_; }
  uint64_t consumed() const { return cons_; }
  // Marks the ring stopped from outside (the watchdog saw a stall).
  void stop(RingFault f);

 private:
  void prefetchSlot(uint64_t index) const {
    __builtin_prefetch(peer_ + geometry_.slotsOffset() + (index & mask_) * kSlotBytes);
  }
  uint64_t begin();  // heartbeat, one load of `prod`, index checks; messages available
  void end();        // publishes `cons`
  RingFault read(RingMessage& out);

  const std::byte* peer_;
  std::byte* own_;
  RingGeometry geometry_;
  uint64_t mask_;
  const SchemaRegistry& schemas_;
  std::unique_ptr<std::byte[]> copy_;  // private: payload_stride bytes
  uint64_t cons_ = 0;
  uint64_t published_cons_ = 0;
  uint64_t last_prod_ = 0;
  uint64_t heartbeat_ = 0;
  RingFault fault_ = RingFault::kNone;
  RingStats stats_;
};

}  // namespace dpuguard::shm
