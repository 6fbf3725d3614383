// RingLayout: the byte layout of one writer's shared-memory region (SHM_DESIGN.md "Region",
// "Ring"). Each side writes only its own region and maps the peer's read-only, so a ring spans
// two regions: slots, payload records and `prod` live in the producer's region, `cons` in the
// consumer's. Everything here is plain data with static_asserts on size and offsets.
//
//   [0, 128)      RegionHeader (read once by the peer on attach; a private copy is kept)
//   [128, 256)    prod: index of the next slot this region's owner will publish
//   [256, 384)    cons: index of the next slot the owner will read from the peer's ring
//   [384, 512)    heartbeat: bumped by the owner on every poll (watchdog input)
//   [4096, ...)   capacity x 64-byte Descriptor, then the payload area (capacity x payload_stride
//                 bytes) where out-of-line records are packed back to back
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace dpuguard::shm {

inline constexpr uint64_t kRegionMagic = 0x314d485347555044ULL;  // "DPUGSHM1" little-endian
inline constexpr uint32_t kLayoutVersion = 1;
inline constexpr size_t kHeaderBytes = 4096;
inline constexpr size_t kLineBytes = 128;  // two cache lines: no false sharing with the prefetcher
inline constexpr size_t kProdOffset = 128;
inline constexpr size_t kConsOffset = 256;
inline constexpr size_t kHeartbeatOffset = 384;
inline constexpr size_t kSlotBytes = 64;
inline constexpr uint32_t kMaxCapacity = 1u << 16;
inline constexpr uint32_t kMaxPayloadStride = 1u << 20;

enum class RegionRole : uint32_t { kDpu = 1, kHost = 2 };

struct RegionHeader {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t role;  // RegionRole
  uint64_t epoch;
  uint64_t schema_set_hash;
  uint32_t capacity;        // slots in the ring this region carries; a power of two
  uint32_t slot_bytes;      // kSlotBytes
  uint32_t payload_stride;  // largest record (PayloadRecordHeader + payload), multiple of 64
  uint32_t reserved0;
  uint64_t region_bytes;
  uint8_t reserved[72];
};
static_assert(sizeof(RegionHeader) == 128 && std::is_trivially_copyable_v<RegionHeader>);
static_assert(offsetof(RegionHeader, epoch) == 16 && offsetof(RegionHeader, capacity) == 32 &&
              offsetof(RegionHeader, region_bytes) == 48);

// Descriptor flags: bit 0 says where the payload is; every other bit is reserved and must be 0.
inline constexpr uint32_t kDescInline = 1u << 0;
inline constexpr uint32_t kDescKnownFlags = kDescInline;
inline constexpr size_t kInlineBytes = 40;

struct PayloadRef {
  uint64_t offset;  // into the payload area, from its first byte
  uint32_t length;  // of the whole record, header included
  uint32_t reserved;
};

struct Descriptor {
  uint16_t schema_id;
  uint16_t version;
  uint32_t length;  // payload bytes
  uint64_t seq;     // == the slot's ring index: catches skips, replays and reordering
  uint32_t flags;
  uint32_t reserved;
  union {
    uint8_t inline_bytes[kInlineBytes];
    PayloadRef ref;
  };
};
static_assert(sizeof(Descriptor) == kSlotBytes && std::is_trivially_copyable_v<Descriptor>);
static_assert(offsetof(Descriptor, seq) == 8 && offsetof(Descriptor, flags) == 16 &&
              offsetof(Descriptor, inline_bytes) == 24 && offsetof(Descriptor, ref) == 24);

// Out-of-line payloads start with this header, which repeats the descriptor's fields so a
// torn or redirected record is caught by comparison.
struct PayloadRecordHeader {
  uint64_t seq;
  uint32_t length;
  uint16_t schema_id;
  uint16_t reserved;
};
static_assert(sizeof(PayloadRecordHeader) == 16 && std::is_trivially_copyable_v<PayloadRecordHeader>);

// The shape both sides agree on for one ring.
struct RingGeometry {
  uint32_t capacity = 256;
  uint32_t payload_stride = 16384;

  constexpr uint32_t maxPayload() const { return payload_stride - static_cast<uint32_t>(sizeof(PayloadRecordHeader)); }
  constexpr size_t slotsOffset() const { return kHeaderBytes; }
  constexpr size_t payloadOffset() const { return kHeaderBytes + size_t{capacity} * kSlotBytes; }
  constexpr size_t payloadBytes() const { return size_t{capacity} * payload_stride; }
  constexpr size_t regionBytes() const { return payloadOffset() + payloadBytes(); }
  constexpr bool valid() const {
    return capacity >= 2 && capacity <= kMaxCapacity && (capacity & (capacity - 1)) == 0 &&
           payload_stride >= 64 && payload_stride <= kMaxPayloadStride && payload_stride % 64 == 0;
  }
};

// Index words in shared memory: one aligned 64-bit load or store, acquire/release. The peer is
// another process, so these are the only synchronization; everything else is copied once.
inline uint64_t loadIndex(const void* at) { return __atomic_load_n(static_cast<const uint64_t*>(at), __ATOMIC_ACQUIRE); }
inline void storeIndex(void* at, uint64_t v) { __atomic_store_n(static_cast<uint64_t*>(at), v, __ATOMIC_RELEASE); }

}  // namespace dpuguard::shm
