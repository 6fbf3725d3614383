// SealedRegion: a shared-memory region backed by a sealed memfd (SHM_DESIGN.md "Region").
// The writer creates it read-write; the peer attaches read-only after checking the seals and
// the size, so the writer can never shrink it under the reader (no SIGBUS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dpuguard::shm {

enum class RegionError : uint8_t { kOk, kCreate, kResize, kSeal, kMap, kBadSeals, kBadSize, kReopen };

class SealedRegion {
 public:
  SealedRegion() = default;
  ~SealedRegion();
  SealedRegion(SealedRegion&& other) noexcept;
  SealedRegion& operator=(SealedRegion&& other) noexcept;
  SealedRegion(const SealedRegion&) = delete;
  SealedRegion& operator=(const SealedRegion&) = delete;

  // Creates a zeroed region of `size` bytes, sealed against shrink/grow/further sealing,
  // mapped read-write. `name` shows up in /proc/PID/fd for debugging only.
  static RegionError create(const char* name, size_t size, SealedRegion& out);

  // Maps a peer's region read-only from `fd` (e.g. received over SCM_RIGHTS). Requires the
  // seals F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL and exactly `expected_size` bytes.
  // Does not take ownership of `fd`.
  static RegionError attachReadOnly(int fd, size_t expected_size, SealedRegion& out);

  int fd() const { return fd_; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }
  std::span<std::byte> bytes() { return {static_cast<std::byte*>(base_), writable_ ? size_ : 0}; }
  std::span<const std::byte> view() const { return {static_cast<const std::byte*>(base_), size_}; }

 private:
  void release();

  int fd_ = -1;
  void* base_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
};

}  // namespace dpuguard::shm
