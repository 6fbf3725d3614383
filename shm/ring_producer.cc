// RingProducer: slot and record writes, batch publish, checked reads of the peer's `cons`.
#include "shm/ring_producer.h"

#include <cstring>

namespace dpuguard::shm {

RingProducer::RingProducer(std::span<std::byte> own, std::span<const std::byte> peer, RingGeometry geometry,
                           uint32_t batch)
    : own_(own.data()), peer_(peer.data()), geometry_(geometry), mask_(geometry.capacity - 1u),
      batch_(batch == 0 ? 1 : batch), record_end_(new uint64_t[geometry.capacity]()) {}

void RingProducer::stop(RingFault f) {
  fault_ = f;
  ++stats_.faults[static_cast<size_t>(f)];
}

RingFault RingProducer::refreshConsumer() {
  if (fault_ != RingFault::kNone) return fault_;
  const uint64_t c = loadIndex(peer_ + kConsOffset);
  // The consumer can only have read what we published, and never un-reads.
  if (c < cached_cons_) {
    stop(RingFault::kIndexBackwards);
  } else if (c > published_) {
    stop(RingFault::kIndexBeyondCapacity);
  } else {
    cached_cons_ = c;
  }
  return fault_;
}

bool RingProducer::reserveRecord(uint64_t bytes, uint64_t& offset) {
  const uint64_t area = geometry_.payloadBytes();
  // Bytes still owned by the consumer: from the end of the last record it has read.
  auto used = [&] { return record_head_ - (cached_cons_ == 0 ? 0 : record_end_[(cached_cons_ - 1) & mask_]); };
  const uint64_t pos = record_head_ % area;
  const uint64_t skip = pos + bytes > area ? area - pos : 0;  // records never wrap: start over at 0
  if (used() + skip + bytes > area) {
    if (refreshConsumer() != RingFault::kNone || used() + skip + bytes > area) return false;
  }
  record_head_ += skip;
  offset = record_head_ % area;
  record_head_ += bytes;
  return true;
}

RingProducer::PushStatus RingProducer::push(uint16_t schema_id, uint16_t version, std::span<const std::byte> payload) {
  if (fault_ != RingFault::kNone) return PushStatus::kFaulted;
  if (payload.size() > geometry_.maxPayload()) return PushStatus::kTooLarge;
  if (prod_ - cached_cons_ >= geometry_.capacity) {
    if (refreshConsumer() != RingFault::kNone) return PushStatus::kFaulted;
    if (prod_ - cached_cons_ >= geometry_.capacity) return full();
  }
  const uint64_t slot = prod_ & mask_;
  Descriptor d{};  // value-initialized: padding and reserved fields are zero
  d.schema_id = schema_id;
  d.version = version;
  d.length = static_cast<uint32_t>(payload.size());
  d.seq = prod_;
  if (payload.size() <= kInlineBytes) {
    d.flags = kDescInline;
    if (!payload.empty()) std::memcpy(d.inline_bytes, payload.data(), payload.size());
  } else {
    // Records are packed back to back (16-byte aligned) in the payload area, so small messages
    // cost a fraction of a cache line, not a whole stride.
    PayloadRecordHeader h{};
    h.seq = prod_;
    h.length = d.length;
    h.schema_id = schema_id;
    d.ref.length = static_cast<uint32_t>(sizeof h + payload.size());
    uint64_t offset = 0;
    if (!reserveRecord((uint64_t{d.ref.length} + 15) & ~uint64_t{15}, offset)) {
      return fault_ != RingFault::kNone ? PushStatus::kFaulted : full();
    }
    d.ref.offset = offset;
    std::byte* record = own_ + geometry_.payloadOffset() + offset;
    std::memcpy(record, &h, sizeof h);
    std::memcpy(record + sizeof h, payload.data(), payload.size());
  }
  record_end_[slot] = record_head_;
  std::memcpy(own_ + geometry_.slotsOffset() + slot * kSlotBytes, &d, sizeof d);
  ++prod_;
  ++stats_.messages;
  stats_.bytes += payload.size();
  if (prod_ - published_ >= batch_) flush();
  return PushStatus::kOk;
}

RingProducer::PushStatus RingProducer::full() {
  flush();  // the consumer can only make room for what it can see
  ++stats_.full;
  return PushStatus::kFull;
}

void RingProducer::flush() {
  if (prod_ == published_) return;
  storeIndex(own_ + kProdOffset, prod_);
  published_ = prod_;
}

}  // namespace dpuguard::shm
