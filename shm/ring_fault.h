// RingFault: why a ring stopped trusting its peer. Any fault stops the ring for good; the
// channel then tears it down and re-creates it with epoch + 1 (SHM_DESIGN.md "Liveness").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpuguard::shm {

enum class RingFault : uint8_t {
  kNone,
  kIndexBeyondCapacity,  // peer index more than `capacity` ahead of ours
  kIndexBackwards,       // peer index lower than one it published before
  kBadSequence,          // descriptor or record seq is not the slot's index
  kUnknownSchema,        // schema id/version not on the allowlist
  kBadLength,            // length outside the schema's min/max or the ring's payload bound
  kReservedBits,         // a reserved flag or field is not zero
  kBadOffset,            // payload reference outside the payload area
  kRecordMismatch,       // payload record header disagrees with the descriptor
  kInvalidMessage,       // the schema's decoder refused the payload
  kStalled,              // no progress within the watchdog period
};
inline constexpr size_t kRingFaultCount = static_cast<size_t>(RingFault::kStalled) + 1;

constexpr std::string_view ringFaultName(RingFault f) {
  constexpr std::array<std::string_view, kRingFaultCount> kNames = {
      "none",       "index_beyond_capacity", "index_backwards", "bad_sequence",    "unknown_schema", "bad_length",
      "reserved_bits", "bad_offset",       "record_mismatch", "invalid_message", "stalled"};
  return kNames[static_cast<size_t>(f)];
}

// Counters a ring end keeps for /metrics; plain integers owned by one thread.
struct RingStats {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t polls = 0;
  uint64_t full = 0;  // producer: pushes refused because the ring was full
  std::array<uint64_t, kRingFaultCount> faults{};
};

}  // namespace dpuguard::shm
