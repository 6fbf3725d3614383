// SchemaRegistry: the allowlist of message schemas a ring accepts (SHM_DESIGN.md "Every
// message", step 3-4): id, version, payload min/max and a bounds-checked decoder check. Both
// sides hash their registry into the region header, so a peer built with other schemas is
// refused on attach instead of misread later.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dpuguard::shm {

// Returns true when `payload` is a well-formed message of the schema (the decoder's verdict).
using SchemaCheck = bool (*)(std::span<const std::byte> payload);

struct SchemaInfo {
  uint16_t id = 0;
  uint16_t version = 0;
  uint32_t min_bytes = 0;
  uint32_t max_bytes = 0;
  SchemaCheck check = nullptr;
  const char* name = "";
};

class SchemaRegistry {
 public:
  static constexpr size_t kMaxSchemas = 32;

  // Adds a schema; false when the table is full, the id/version is taken or min > max.
  bool add(const SchemaInfo& info);
  // The schema for (id, version), or nullptr when it is not on the allowlist.
  const SchemaInfo* find(uint16_t id, uint16_t version) const;
  // FNV-1a over (id, version, min, max) of every schema in insertion order.
  uint64_t hash() const;

 private:
  std::array<SchemaInfo, kMaxSchemas> schemas_{};
  size_t count_ = 0;
};

}  // namespace dpuguard::shm
