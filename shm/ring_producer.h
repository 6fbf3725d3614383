// RingProducer: the writing end of one SPSC ring (SHM_DESIGN.md "Ring"). It writes descriptors
// and payload records into its own region and publishes `prod` once per batch; the only thing
// it reads from the peer is the consumer's `cons`, once when its cached copy says the ring is
// full, and it checks that value like any other input from the peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "shm/ring_fault.h"
#include "shm/ring_layout.h"

namespace dpuguard::shm {

class RingProducer {
 public:
  enum class PushStatus : uint8_t { kOk, kFull, kTooLarge, kFaulted };

  // `own`: this side's writable region (at least geometry.regionBytes()); `peer`: the
  // consumer's region mapped read-only (at least kHeaderBytes). Both must outlive the producer;
  // `own` is fresh (zeroed), as every channel epoch starts with new regions.
  RingProducer(std::span<std::byte> own, std::span<const std::byte> peer, RingGeometry geometry, uint32_t batch = 32);

  // Copies one message into the next slot: inline when it fits in the descriptor, else as a
  // payload record. kFull publishes what is pending and leaves the message unsent; kTooLarge
  // means the payload exceeds geometry.maxPayload(); kFaulted means the peer's `cons` was garbage.
  PushStatus push(uint16_t schema_id, uint16_t version, std::span<const std::byte> payload);
  // Publishes every pushed message (one release store of `prod`).
  void flush();

  RingFault fault() const { return fault_; }
  const RingStats& stats() const { return stats_; }
  // Messages published and not yet consumed, as of the last `cons` the peer showed us.
  uint64_t inFlight() const { return published_ - cached_cons_; }
  // Re-reads the peer's `cons` (checked); returns the fault, if any.
  RingFault refreshConsumer();

 private:
  void stop(RingFault f);
  PushStatus full();
  // Room for a record of `bytes` (16-aligned) in the payload area; false if the consumer
  // still owns too much of it.
  bool reserveRecord(uint64_t bytes, uint64_t& offset);

  std::byte* own_;
  const std::byte* peer_;
  RingGeometry geometry_;
  uint64_t mask_;
  uint32_t batch_;
  uint64_t prod_ = 0;       // next index to write
  uint64_t published_ = 0;  // last value stored to `prod`
  uint64_t cached_cons_ = 0;
  uint64_t record_head_ = 0;                 // bytes of payload area ever allocated (never wraps)
  std::unique_ptr<uint64_t[]> record_end_;   // per slot: record_head_ after its message
  RingFault fault_ = RingFault::kNone;
  RingStats stats_;
};

}  // namespace dpuguard::shm
