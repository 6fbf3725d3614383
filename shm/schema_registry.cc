// SchemaRegistry: a small fixed table; lookups are a linear scan over at most 32 entries.
#include "shm/schema_registry.h"

namespace dpuguard::shm {

bool SchemaRegistry::add(const SchemaInfo& info) {
  if (count_ == kMaxSchemas || info.min_bytes > info.max_bytes || info.check == nullptr) return false;
  if (find(info.id, info.version) != nullptr) return false;
  schemas_[count_++] = info;
  return true;
}

const SchemaInfo* SchemaRegistry::find(uint16_t id, uint16_t version) const {
  for (size_t i = 0; i < count_; ++i) {
    if (schemas_[i].id == id && schemas_[i].version == version) return &schemas_[i];
  }
  return nullptr;
}

uint64_t SchemaRegistry::hash() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  };
  for (size_t i = 0; i < count_; ++i) {
    mix(schemas_[i].id, 2);
    mix(schemas_[i].version, 2);
    mix(schemas_[i].min_bytes, 4);
    mix(schemas_[i].max_bytes, 4);
  }
  return h;
}

}  // namespace dpuguard::shm
