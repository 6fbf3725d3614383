// RingConsumer: copy-then-validate of descriptors and payload records.
#include "shm/ring_consumer.h"

#include <cstring>

namespace dpuguard::shm {

RingConsumer::RingConsumer(std::span<const std::byte> peer, std::span<std::byte> own, RingGeometry geometry,
                           const SchemaRegistry& schemas)
    : peer_(peer.data()), own_(own.data()), geometry_(geometry), mask_(geometry.capacity - 1u), schemas_(schemas),
      copy_(new std::byte[geometry.payload_stride]) {}

void RingConsumer::stop(RingFault f) {
  if (fault_ != RingFault::kNone) return;
  fault_ = f;
  ++stats_.faults[static_cast<size_t>(f)];
}

uint64_t RingConsumer::begin() {
  ++stats_.polls;
  storeIndex(own_ + kHeartbeatOffset, ++heartbeat_);
  if (fault_ != RingFault::kNone) return 0;
  const uint64_t prod = loadIndex(peer_ + kProdOffset);  // the only read of `prod` this poll
  if (prod < last_prod_) {
    stop(RingFault::kIndexBackwards);
    return 0;
  }
  if (prod - cons_ > geometry_.capacity) {
    stop(RingFault::kIndexBeyondCapacity);
    return 0;
  }
  last_prod_ = prod;
  return prod - cons_;
}

void RingConsumer::end() {
  // Only a changed value is stored: the producer polls this line when the ring is full, and a
  // store that changes nothing would still take the line away from it.
  if (cons_ != published_cons_) {
    storeIndex(own_ + kConsOffset, cons_);
    published_cons_ = cons_;
  }
}

RingFault RingConsumer::read(RingMessage& out) {
  Descriptor d;
  std::memcpy(&d, peer_ + geometry_.slotsOffset() + (cons_ & mask_) * kSlotBytes, sizeof d);
  // From here on only the private copy `d` is read.
  RingFault f = RingFault::kNone;
  const SchemaInfo* schema = schemas_.find(d.schema_id, d.version);
  if (d.seq != cons_) {
    f = RingFault::kBadSequence;
  } else if (schema == nullptr) {
    f = RingFault::kUnknownSchema;
  } else if ((d.flags & ~kDescKnownFlags) != 0 || d.reserved != 0) {
    f = RingFault::kReservedBits;
  } else if (d.length < schema->min_bytes || d.length > schema->max_bytes || d.length > geometry_.maxPayload()) {
    f = RingFault::kBadLength;
  }
  if (f != RingFault::kNone) {
    stop(f);
    return f;
  }
  std::byte* payload = copy_.get();
  if ((d.flags & kDescInline) != 0) {
    if (d.length > kInlineBytes) {
      stop(RingFault::kBadLength);
      return fault_;
    }
    std::memcpy(payload, d.inline_bytes, d.length);
  } else {
    const PayloadRef ref = d.ref;
    const uint64_t area = geometry_.payloadBytes();
    if (ref.reserved != 0) {
      f = RingFault::kReservedBits;
    } else if (ref.length != sizeof(PayloadRecordHeader) + uint64_t{d.length}) {
      f = RingFault::kRecordMismatch;  // also bounds the copy below by payload_stride
    } else if (ref.offset > area || ref.length > area - ref.offset) {
      f = RingFault::kBadOffset;
    }
    if (f != RingFault::kNone) {
      stop(f);
      return f;
    }
    std::memcpy(copy_.get(), peer_ + geometry_.payloadOffset() + ref.offset, ref.length);
    PayloadRecordHeader h;
    std::memcpy(&h, copy_.get(), sizeof h);
    if (h.seq != d.seq || h.length != d.length || h.schema_id != d.schema_id || h.reserved != 0) {
      stop(RingFault::kRecordMismatch);
      return fault_;
    }
    payload += sizeof h;
  }
  const std::span<const std::byte> bytes(payload, d.length);
  if (!schema->check(bytes)) {
    stop(RingFault::kInvalidMessage);
    return fault_;
  }
  out = RingMessage{d.schema_id, d.version, d.seq, bytes};
  ++stats_.messages;
  stats_.bytes += d.length;
  return RingFault::kNone;
}

}  // namespace dpuguard::shm
