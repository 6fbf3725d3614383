// Test support: a producer region and a consumer region in plain process memory, plus a tiny
// schema set, so each validation rule can be hit by editing exactly one shared byte.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "shm/ring_consumer.h"
#include "shm/ring_producer.h"

namespace dpuguard::shm::testing {

inline constexpr uint16_t kText = 7;  // schema: printable ASCII, 1..4000 bytes

inline bool checkText(std::span<const std::byte> p) {
  for (std::byte b : p) {
    if (static_cast<unsigned char>(b) < 0x20 || static_cast<unsigned char>(b) > 0x7e) return false;
  }
  return true;
}

inline const SchemaRegistry& textSchemas() {
  static const SchemaRegistry r = [] {
    SchemaRegistry s;
    s.add(SchemaInfo{kText, 1, 1, 4000, checkText, "text"});
    return s;
  }();
  return r;
}

inline std::span<const std::byte> bytesOf(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
inline std::string textOf(std::span<const std::byte> p) { return {reinterpret_cast<const char*>(p.data()), p.size()}; }

struct Region {
  explicit Region(size_t n) : storage(new std::byte[n + 64]()), size(n) {}
  std::byte* data() const { return storage.get() + (64 - reinterpret_cast<uintptr_t>(storage.get()) % 64) % 64; }
  std::span<std::byte> span() const { return {data(), size}; }
  std::unique_ptr<std::byte[]> storage;
  size_t size;
};

struct RingPair {
  explicit RingPair(RingGeometry g = {8, 256}, uint32_t batch = 1)
      : geometry(g), producer_region(g.regionBytes()), consumer_region(kHeaderBytes),
        producer(producer_region.span(), consumer_region.span(), g, batch),
        consumer(producer_region.span(), consumer_region.span(), g, textSchemas()) {}

  Descriptor& slot(uint64_t index) {
    return *reinterpret_cast<Descriptor*>(producer_region.data() + geometry.slotsOffset() +
                                          (index & (geometry.capacity - 1)) * kSlotBytes);
  }
  PayloadRecordHeader& record(uint64_t index) {
    return *reinterpret_cast<PayloadRecordHeader*>(producer_region.data() + geometry.payloadOffset() +
                                                   slot(index).ref.offset);
  }
  void setProd(uint64_t v) { storeIndex(producer_region.data() + kProdOffset, v); }
  void setCons(uint64_t v) { storeIndex(consumer_region.data() + kConsOffset, v); }
  std::vector<std::string> drain(size_t budget = RingConsumer::kDefaultBudget) {
    std::vector<std::string> got;
    consumer.poll([&](const RingMessage& m) { got.push_back(textOf(m.payload)); }, budget);
    return got;
  }

  RingGeometry geometry;
  Region producer_region;
  Region consumer_region;
  RingProducer producer;
  RingConsumer consumer;
};

}  // namespace dpuguard::shm::testing
