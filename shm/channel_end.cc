// ChannelEnd: region exchange and header checks.
#include "shm/channel_end.h"

#include <unistd.h>

#include <cstring>

#include "shm/fd_passing.h"

namespace dpuguard::shm {

const char* attachErrorName(AttachError e) {
  switch (e) {
    case AttachError::kOk: return "ok";
    case AttachError::kCreate: return "create";
    case AttachError::kSend: return "send";
    case AttachError::kReceive: return "receive";
    case AttachError::kRegion: return "region";
    case AttachError::kBadHeader: return "bad_header";
    case AttachError::kWrongEpoch: return "wrong_epoch";
    case AttachError::kSchemaMismatch: return "schema_mismatch";
  }
  return "unknown";
}

RingFault ChannelEnd::fault() const {
  if (consumer_ && consumer_->fault() != RingFault::kNone) return consumer_->fault();
  if (producer_ && producer_->fault() != RingFault::kNone) return producer_->fault();
  return RingFault::kNone;
}

void ChannelEnd::teardown() {
  producer_.reset();
  consumer_.reset();
  peer_ = SealedRegion{};
  own_ = SealedRegion{};
}

AttachError ChannelEnd::checkPeerHeader(const RegionHeader& h, uint64_t epoch) const {
  const RegionRole peer_role = config_.role == RegionRole::kDpu ? RegionRole::kHost : RegionRole::kDpu;
  const RingGeometry& g = config_.incoming;
  if (h.magic != kRegionMagic || h.layout_version != kLayoutVersion || h.role != static_cast<uint32_t>(peer_role) ||
      h.capacity != g.capacity || h.slot_bytes != kSlotBytes || h.payload_stride != g.payload_stride ||
      h.region_bytes != g.regionBytes()) {
    return AttachError::kBadHeader;
  }
  if (h.epoch != epoch) return AttachError::kWrongEpoch;
  if (h.schema_set_hash != config_.incoming_schemas->hash()) return AttachError::kSchemaMismatch;
  return AttachError::kOk;
}

AttachError ChannelEnd::establish(int sock, uint64_t epoch) {
  teardown();
  epoch_ = epoch;
  const RingGeometry& out = config_.outgoing;
  if (!out.valid() || !config_.incoming.valid() || SealedRegion::create("dpuguard-ring", out.regionBytes(), own_) != RegionError::kOk) {
    return AttachError::kCreate;
  }
  RegionHeader header{};
  header.magic = kRegionMagic;
  header.layout_version = kLayoutVersion;
  header.role = static_cast<uint32_t>(config_.role);
  header.epoch = epoch;
  header.schema_set_hash = config_.outgoing_schemas->hash();
  header.capacity = out.capacity;
  header.slot_bytes = kSlotBytes;
  header.payload_stride = out.payload_stride;
  header.region_bytes = out.regionBytes();
  std::memcpy(own_.bytes().data(), &header, sizeof header);

  ChannelHello hello{kRegionMagic, epoch, out.regionBytes(), static_cast<uint32_t>(config_.role), 0};
  if (!sendWithFd(sock, own_.fd(), std::as_bytes(std::span(&hello, 1)))) return AttachError::kSend;

  ChannelHello theirs{};
  const int fd = receiveWithFd(sock, std::as_writable_bytes(std::span(&theirs, 1)));
  if (fd < 0) return AttachError::kReceive;
  const bool hello_ok = theirs.magic == kRegionMagic && theirs.region_bytes == config_.incoming.regionBytes();
  const RegionError attached = hello_ok ? SealedRegion::attachReadOnly(fd, theirs.region_bytes, peer_) : RegionError::kBadSize;
  close(fd);
  if (!hello_ok) return AttachError::kBadHeader;
  if (attached != RegionError::kOk) return AttachError::kRegion;
  RegionHeader copy;  // read once; only the copy is checked
  std::memcpy(&copy, peer_.view().data(), sizeof copy);
  if (const AttachError e = checkPeerHeader(copy, epoch); e != AttachError::kOk) {
    teardown();
    return e;
  }
  producer_ = std::make_unique<RingProducer>(own_.bytes(), peer_.view(), out, config_.batch);
  consumer_ = std::make_unique<RingConsumer>(peer_.view(), own_.bytes(), config_.incoming, *config_.incoming_schemas);
  return AttachError::kOk;
}

}  // namespace dpuguard::shm
