// ChannelEnd: region exchange and header checks.
#include "shm/channel_end.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

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
    case AttachError::kWakeFd: return "wake_fd";
  }
  return "unknown";
}

RingFault ChannelEnd::fault() const {
  if (consumer_ && consumer_->fault() != RingFault::kNone) return consumer_->fault();
  if (producer_ && producer_->fault() != RingFault::kNone) return producer_->fault();
  return RingFault::kNone;
}

namespace {

// Only an eventfd may be written to on the peer's word: anything else (a pipe that can fill
// up, a socket to elsewhere) is refused.
bool isEventFd(int fd) {
  char path[64];
  char target[64] = {};
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(path, target, sizeof target - 1);
  return n > 0 && std::string_view(target, static_cast<size_t>(n)) == "anon_inode:[eventfd]";
}

}  // namespace

void ChannelEnd::clearWake() const {
  uint64_t v;
  if (wake_fd_ >= 0) [[maybe_unused]] ssize_t n = read(wake_fd_, &v, sizeof v);
}

void ChannelEnd::wakePeer() const {
  const uint64_t one = 1;
  if (peer_wake_fd_ >= 0) [[maybe_unused]] ssize_t n = write(peer_wake_fd_, &one, sizeof one);
}

void ChannelEnd::teardown() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (peer_wake_fd_ >= 0) close(peer_wake_fd_);
  wake_fd_ = peer_wake_fd_ = -1;
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
  if (const AttachError e = sendHello(sock, epoch); e != AttachError::kOk) return e;
  ChannelHello theirs{};
  int fds[2] = {-1, -1};
  if (!receiveWithFds(sock, fds, std::as_writable_bytes(std::span(&theirs, 1)))) return AttachError::kReceive;
  return attachPeer(theirs, fds);
}

AttachError ChannelEnd::accept(int sock) {
  teardown();
  ChannelHello theirs{};
  int fds[2] = {-1, -1};
  if (!receiveWithFds(sock, fds, std::as_writable_bytes(std::span(&theirs, 1)))) return AttachError::kReceive;
  if (const AttachError e = sendHello(sock, theirs.epoch); e != AttachError::kOk) {
    close(fds[0]);
    close(fds[1]);
    return e;
  }
  return attachPeer(theirs, fds);
}

AttachError ChannelEnd::sendHello(int sock, uint64_t epoch) {
  epoch_ = epoch;
  const RingGeometry& out = config_.outgoing;
  if (!out.valid() || !config_.incoming.valid() ||
      SealedRegion::create("dpuguard-ring", out.regionBytes(), own_) != RegionError::kOk) {
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
  // The hello carries two fds: our region and the eventfd we want to be woken on.
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return AttachError::kCreate;
  ChannelHello hello{kRegionMagic, epoch, out.regionBytes(), static_cast<uint32_t>(config_.role), 0};
  const int fds[2] = {own_.fd(), wake_fd_};
  return sendWithFds(sock, fds, std::as_bytes(std::span(&hello, 1))) ? AttachError::kOk : AttachError::kSend;
}

AttachError ChannelEnd::attachPeer(const ChannelHello& theirs, const int (&fds)[2]) {
  peer_wake_fd_ = fds[1];
  const bool hello_ok = theirs.magic == kRegionMagic && theirs.region_bytes == config_.incoming.regionBytes();
  const RegionError attached =
      hello_ok ? SealedRegion::attachReadOnly(fds[0], theirs.region_bytes, peer_) : RegionError::kBadSize;
  close(fds[0]);
  AttachError e = !hello_ok ? AttachError::kBadHeader : attached != RegionError::kOk ? AttachError::kRegion : AttachError::kOk;
  if (e == AttachError::kOk && (!isEventFd(peer_wake_fd_) || fcntl(peer_wake_fd_, F_SETFL, O_NONBLOCK) != 0)) {
    e = AttachError::kWakeFd;
  }
  if (e == AttachError::kOk) {
    RegionHeader copy;  // read once; only the copy is checked
    std::memcpy(&copy, peer_.view().data(), sizeof copy);
    e = checkPeerHeader(copy, epoch_);
  }
  if (e != AttachError::kOk) {
    teardown();
    return e;
  }
  producer_ = std::make_unique<RingProducer>(own_.bytes(), peer_.view(), config_.outgoing, config_.batch);
  consumer_ = std::make_unique<RingConsumer>(peer_.view(), own_.bytes(), config_.incoming, *config_.incoming_schemas);
  return AttachError::kOk;
}

}  // namespace dpuguard::shm
