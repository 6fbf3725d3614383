// ChannelEnd: one side of the host channel (SHM_DESIGN.md). It owns a sealed region carrying
// its outgoing ring, sends that region's fd to the peer over a Unix socket, attaches the
// peer's region read-only after checking seals, size and a private copy of its header, and
// runs a RingProducer (to the peer) and a RingConsumer (from the peer) over the pair.
// A fault on either ring or a stall ends the epoch: reset() builds fresh regions with
// epoch + 1 and the exchange starts over, so nothing the old peer wrote is read again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "shm/ring_consumer.h"
#include "shm/ring_layout.h"
#include "shm/ring_producer.h"
#include "shm/schema_registry.h"
#include "shm/sealed_region.h"

namespace dpuguard::shm {

enum class AttachError : uint8_t {
  kOk,
  kCreate,       // our own region could not be created
  kSend,         // the socket refused our hello
  kReceive,      // the peer closed, or sent a malformed hello / no fd
  kRegion,       // seals or size of the peer's region are wrong (SealedRegion refused it)
  kBadHeader,    // magic, version, role, geometry or size in the peer's header
  kWrongEpoch,   // the peer is at another epoch
  kSchemaMismatch,
  kWakeFd,       // the peer's wake-up fd is missing or not an eventfd
};

const char* attachErrorName(AttachError e);

struct ChannelConfig {
  RegionRole role = RegionRole::kDpu;
  RingGeometry outgoing;      // the ring we produce
  RingGeometry incoming;      // the ring we expect the peer to produce
  const SchemaRegistry* outgoing_schemas = nullptr;
  const SchemaRegistry* incoming_schemas = nullptr;
  uint32_t batch = 32;
};

// What travels with the region fd over the Unix socket.
struct ChannelHello {
  uint64_t magic;
  uint64_t epoch;
  uint64_t region_bytes;
  uint32_t role;
  uint32_t reserved;
};
static_assert(sizeof(ChannelHello) == 32);

class ChannelEnd {
 public:
  explicit ChannelEnd(const ChannelConfig& config) : config_(config) {}

  // The DPU side: creates our region for `epoch`, sends it on `sock`, then receives and
  // attaches the peer's, which must be at the same epoch.
  AttachError establish(int sock, uint64_t epoch);
  // The host side: waits for the DPU's hello, answers at the DPU's epoch and attaches.
  AttachError accept(int sock);
  // Drops both regions, rings and wake-up fds (after a fault or a stall).
  void teardown();
  ~ChannelEnd() { teardown(); }

  // Wake-ups are hints (SHM_DESIGN.md "Liveness"): after publishing, wakePeer() bumps the
  // peer's eventfd; our own, wakeFd(), becomes readable when the peer published. Callers
  // still poll on a timer, so a peer that never wakes us only costs latency.
  int wakeFd() const { return wake_fd_; }
  void clearWake() const;
  void wakePeer() const;

  bool up() const { return consumer_ != nullptr; }
  RingProducer& producer() { return *producer_; }
  RingConsumer& consumer() { return *consumer_; }
  // The first fault of either ring, or kNone.
  RingFault fault() const;
  // The peer's heartbeat word (watchdog input).
  uint64_t peerHeartbeat() const { return loadIndex(peer_.view().data() + kHeartbeatOffset); }

 private:
  AttachError checkPeerHeader(const RegionHeader& h, uint64_t epoch) const;
  AttachError sendHello(int sock, uint64_t epoch);
  // Takes ownership of fds {region, wake}; closes the region fd once mapped.
  AttachError attachPeer(const ChannelHello& theirs, const int (&fds)[2]);

  ChannelConfig config_;
  uint64_t epoch_ = 0;
  int wake_fd_ = -1;
  int peer_wake_fd_ = -1;
  SealedRegion own_;
  SealedRegion peer_;
  std::unique_ptr<RingProducer> producer_;
  std::unique_ptr<RingConsumer> consumer_;
};

}  // namespace dpuguard::shm
