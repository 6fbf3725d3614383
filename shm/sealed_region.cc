// SealedRegion: memfd + seals + mmap.
#include "shm/sealed_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

namespace dpuguard::shm {
namespace {
constexpr int kRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
}

SealedRegion::~SealedRegion() { release(); }

SealedRegion::SealedRegion(SealedRegion&& other) noexcept { *this = std::move(other); }

SealedRegion& SealedRegion::operator=(SealedRegion&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    writable_ = std::exchange(other.writable_, false);
  }
  return *this;
}

void SealedRegion::release() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
  base_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

RegionError SealedRegion::create(const char* name, size_t size, SealedRegion& out) {
  SealedRegion r;
  r.fd_ = memfd_create(name, MFD_ALLOW_SEALING | MFD_CLOEXEC);
  if (r.fd_ < 0) return RegionError::kCreate;
  if (ftruncate(r.fd_, static_cast<off_t>(size)) != 0) return RegionError::kResize;
  if (fcntl(r.fd_, F_ADD_SEALS, kRequiredSeals) != 0) return RegionError::kSeal;
  r.base_ = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd_, 0);
  if (r.base_ == MAP_FAILED) {
    r.base_ = nullptr;
    return RegionError::kMap;
  }
  r.size_ = size;
  r.writable_ = true;
  out = std::move(r);
  return RegionError::kOk;
}

RegionError SealedRegion::attachReadOnly(int fd, size_t expected_size, SealedRegion& out) {
  const int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & kRequiredSeals) != kRequiredSeals) return RegionError::kBadSeals;
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) != expected_size) return RegionError::kBadSize;
  // Reopen through /proc so our descriptor itself is read-only: even a bug on our side
  // cannot write into the peer's pages.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  SealedRegion r;
  r.fd_ = open(path, O_RDONLY | O_CLOEXEC);
  if (r.fd_ < 0) return RegionError::kReopen;
  r.base_ = mmap(nullptr, expected_size, PROT_READ, MAP_SHARED, r.fd_, 0);
  if (r.base_ == MAP_FAILED) {
    r.base_ = nullptr;
    return RegionError::kMap;
  }
  r.size_ = expected_size;
  r.writable_ = false;
  out = std::move(r);
  return RegionError::kOk;
}

}  // namespace dpuguard::shm
