// SealedRegion: seals are really applied and the peer's mapping is really read-only.
#include "shm/sealed_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace dpuguard::shm {
namespace {

TEST(SealedRegionTest, CreateSealsAndMapsWritable) {
  SealedRegion r;
  ASSERT_EQ(SealedRegion::create("test", 4096, r), RegionError::kOk);
  EXPECT_TRUE(r.writable());
  EXPECT_EQ(r.bytes().size(), 4096u);
  const int seals = fcntl(r.fd(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  EXPECT_NE(ftruncate(r.fd(), 0), 0) << "shrinking a sealed region must fail";
}

TEST(SealedRegionTest, PeerInAnotherProcessSeesWritesReadOnly) {
  SealedRegion r;
  ASSERT_EQ(SealedRegion::create("test", 4096, r), RegionError::kOk);
  r.bytes()[10] = std::byte{42};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SealedRegion peer;
    if (SealedRegion::attachReadOnly(r.fd(), 4096, peer) != RegionError::kOk) _exit(2);
    if (peer.view()[10] != std::byte{42}) _exit(3);
    if (!peer.bytes().empty()) _exit(4);
    // Writing through the mapping must fault: the peer cannot write our pages.
    if (mprotect(const_cast<std::byte*>(peer.view().data()), 4096, PROT_READ | PROT_WRITE) == 0) _exit(5);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SealedRegionTest, AttachRejectsUnsealedOrWrongSize) {
  SealedRegion r;
  ASSERT_EQ(SealedRegion::create("test", 4096, r), RegionError::kOk);
  SealedRegion peer;
  EXPECT_EQ(SealedRegion::attachReadOnly(r.fd(), 8192, peer), RegionError::kBadSize);
  const int raw = memfd_create("unsealed", MFD_CLOEXEC);
  ASSERT_GE(raw, 0);
  ASSERT_EQ(ftruncate(raw, 4096), 0);
  EXPECT_EQ(SealedRegion::attachReadOnly(raw, 4096, peer), RegionError::kBadSeals);
  close(raw);
}

}  // namespace
}  // namespace dpuguard::shm
