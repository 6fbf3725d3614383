// Hostile-peer tests with two real processes: the parent is the DPU's ChannelEnd, a forked
// child plays the host and attacks through what it is allowed to write (its own region and the
// Unix socket). In every case the parent must not crash or read out of bounds (this suite also
// runs under ASan+UBSan), must name the fault, and must recover: it re-creates the channel with
// epoch + 1 and then receives every message of a well-behaved host intact.
#include "shm/channel_end.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "shm/fd_passing.h"
#include "shm/message_codec.h"
#include "shm/stall_watchdog.h"

namespace dpuguard::shm {
namespace {

constexpr RingGeometry kGeometry{64, 1024};
constexpr int kGoodMessages = 2000;

uint64_t nowMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

enum class Hello { kGood, kUnsealed, kWrongSize, kWrongEpoch, kWrongSchema, kWrongRole, kPipeAsWakeFd };

// The host, written by hand so it can lie.
struct HostileHost {
  int sock;
  SealedRegion own;
  SealedRegion peer;

  bool hello(uint64_t epoch, Hello how = Hello::kGood) {
    own = SealedRegion{};
    peer = SealedRegion{};
    const size_t size = kGeometry.regionBytes();
    int fd = -1;
    if (how == Hello::kUnsealed) {
      fd = memfd_create("unsealed", MFD_CLOEXEC);
      if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) return false;
    } else {
      if (SealedRegion::create("hostile", size, own) != RegionError::kOk) return false;
      RegionHeader h{};
      h.magic = kRegionMagic;
      h.layout_version = kLayoutVersion;
      h.role = static_cast<uint32_t>(how == Hello::kWrongRole ? RegionRole::kDpu : RegionRole::kHost);
      h.epoch = how == Hello::kWrongEpoch ? epoch + 5 : epoch;
      h.schema_set_hash = how == Hello::kWrongSchema ? 12345 : hostToDpuSchemas().hash();
      h.capacity = kGeometry.capacity;
      h.slot_bytes = kSlotBytes;
      h.payload_stride = kGeometry.payload_stride;
      h.region_bytes = size;
      std::memcpy(own.bytes().data(), &h, sizeof h);
      fd = own.fd();
    }
    ChannelHello hello{kRegionMagic, epoch, how == Hello::kWrongSize ? size + 4096 : size,
                       static_cast<uint32_t>(RegionRole::kHost), 0};
    int wake[2] = {-1, -1};
    if (how == Hello::kPipeAsWakeFd ? pipe(wake) != 0 : (wake[0] = eventfd(0, EFD_CLOEXEC)) < 0) return false;
    const int fds[2] = {fd, wake[0]};
    const bool sent = sendWithFds(sock, fds, std::as_bytes(std::span(&hello, 1)));
    if (how == Hello::kUnsealed) close(fd);
    ChannelHello theirs{};
    int their_fds[2];
    if (!sent || !receiveWithFds(sock, their_fds, std::as_writable_bytes(std::span(&theirs, 1)))) return false;
    const RegionError e = SealedRegion::attachReadOnly(their_fds[0], theirs.region_bytes, peer);
    close(their_fds[0]);
    close(their_fds[1]);
    return e == RegionError::kOk;
  }

  std::byte* ownBytes() { return own.bytes().data(); }
  Descriptor* slot(uint64_t i) {
    return reinterpret_cast<Descriptor*>(ownBytes() + kGeometry.slotsOffset() + (i % kGeometry.capacity) * kSlotBytes);
  }
  uint64_t peerCons() const { return loadIndex(peer.view().data() + kConsOffset); }

  // Sends `n` well-formed response-body messages "event <i>" with stream id i.
  bool sendGood(int n) {
    RingProducer producer(own.bytes(), peer.view(), kGeometry, 8);
    std::byte buf[128];
    for (int i = 0; i < n;) {
      const std::string data = "event " + std::to_string(i);
      const size_t len = encodeBody(buf, static_cast<uint64_t>(i), 0, std::as_bytes(std::span(data)));
      const auto s = producer.push(static_cast<uint16_t>(MessageSchema::kResponseBody), kMessageVersion,
                                   std::span(buf, len));
      if (s == RingProducer::PushStatus::kFaulted) return false;
      if (s == RingProducer::PushStatus::kFull) {
        std::this_thread::yield();
        continue;
      }
      ++i;
    }
    producer.flush();
    return true;
  }
};

using Attack = std::function<void(HostileHost&)>;

// Child: epoch 1 with `how`, then the attack, then a good epoch 2; exits when the parent closes.
[[noreturn]] void runHost(int sock, Hello how, const Attack& attack) {
  HostileHost host{sock, {}, {}};
  const bool first = host.hello(1, how);
  if (first && attack) attack(host);
  if (!host.hello(2)) _exit(10);
  if (!host.sendGood(kGoodMessages)) _exit(11);
  char c;
  while (read(sock, &c, 1) > 0) {
  }
  _exit(0);
}

struct Outcome {
  AttachError first = AttachError::kOk;
  RingFault fault = RingFault::kNone;
  size_t delivered_before = 0;
  size_t largest_poll = 0;
};

// Parent: epoch 1 until a fault (or `stall_ms` of no heartbeat), then epoch 2 must carry every
// good message intact.
Outcome runDpu(Hello how, const Attack& attack, size_t budget = 256, uint64_t stall_ms = 300) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    runHost(sv[1], how, attack);
  }
  close(sv[1]);
  Outcome out;
  ChannelEnd dpu(channelConfigFor(RegionRole::kDpu, kGeometry));
  out.first = dpu.establish(sv[0], 1);
  if (out.first == AttachError::kOk) {
    // Something in flight to the host, so a host that stops reading is a stall.
    std::byte buf[256];
    const WireField host_field{"host", "inference"};
    const size_t len = encodeRequestHead(buf, 1, WireMethod::kGet, kHeadEndStream, "/v1/models", {&host_field, 1});
    dpu.producer().push(static_cast<uint16_t>(MessageSchema::kRequestHead), kMessageVersion, std::span(buf, len));
    dpu.producer().flush();
    StallWatchdog watchdog(stall_ms);
    const uint64_t deadline = nowMs() + 10'000;
    while (dpu.fault() == RingFault::kNone && nowMs() < deadline) {
      const size_t n = dpu.consumer().poll([&](const RingMessage&) { ++out.delivered_before; }, budget);
      out.largest_poll = std::max(out.largest_poll, n);
      if (watchdog.stalled(dpu.peerHeartbeat() + dpu.consumer().consumed(), nowMs())) {
        dpu.consumer().stop(RingFault::kStalled);
      }
    }
    out.fault = dpu.fault();
  }
  EXPECT_EQ(dpu.establish(sv[0], 2), AttachError::kOk) << "re-creation with epoch + 1";
  int got = 0;
  const uint64_t deadline = nowMs() + 10'000;
  while (dpu.up() && got < kGoodMessages && nowMs() < deadline && dpu.fault() == RingFault::kNone) {
    dpu.consumer().poll([&](const RingMessage& m) {
      const BodyView b = decodeBody(m.payload);
      const std::string want = "event " + std::to_string(got);
      EXPECT_EQ(b.prefix.stream_id, static_cast<uint64_t>(got));
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data.data()), b.data.size()), want);
      ++got;
    });
  }
  EXPECT_EQ(got, kGoodMessages) << "recovered channel delivers everything";
  EXPECT_EQ(dpu.fault(), RingFault::kNone);
  close(sv[0]);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "host exit status " << status;
  return out;
}

TEST(HostilePeerTest, ProdIndexBeyondCapacity) {
  const Outcome o = runDpu(Hello::kGood, [](HostileHost& h) { storeIndex(h.ownBytes() + kProdOffset, 1000); });
  EXPECT_EQ(o.fault, RingFault::kIndexBeyondCapacity);
}

TEST(HostilePeerTest, ProdIndexGoingBackwards) {
  const Outcome o = runDpu(Hello::kGood, [](HostileHost& h) {
    if (!h.sendGood(10)) _exit(20);
    while (h.peerCons() < 10) std::this_thread::yield();
    storeIndex(h.ownBytes() + kProdOffset, 5);
  });
  EXPECT_EQ(o.fault, RingFault::kIndexBackwards);
  EXPECT_EQ(o.delivered_before, 10u);
}

TEST(HostilePeerTest, LengthsAndBytesRewrittenWhileTheConsumerReads) {
  // Publishes slots and keeps rewriting their lengths, record headers and payload bytes while
  // the DPU reads them (between its length read and its copy, if the scheduler lets it), then
  // ends with a descriptor that no schema allows.
  const Outcome o = runDpu(Hello::kGood, [](HostileHost& h) {
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    auto next = [&rng] { return rng = rng * 6364136223846793005ULL + 1442695040888963407ULL; };
    std::byte* payload = h.ownBytes() + kGeometry.payloadOffset();
    for (uint64_t i = 0; i < 60; ++i) {
      Descriptor d{};
      d.schema_id = static_cast<uint16_t>(MessageSchema::kResponseBody);
      d.version = kMessageVersion;
      d.seq = i;
      d.length = 16 + 100;
      d.ref = PayloadRef{(i % kGeometry.capacity) * kGeometry.payload_stride, 16 + 116, 0};
      PayloadRecordHeader rec{i, d.length, d.schema_id, 0};
      std::memcpy(payload + d.ref.offset, &rec, sizeof rec);
      BodyPrefix body{i, 0, 100};
      std::memcpy(payload + d.ref.offset + sizeof rec, &body, sizeof body);
      std::memcpy(h.slot(i), &d, sizeof d);
      storeIndex(h.ownBytes() + kProdOffset, i + 1);
      for (int k = 0; k < 2000; ++k) {
        const uint64_t r = next();
        Descriptor* s = h.slot(i - (r % 4 <= i ? r % 4 : 0));
        switch (r >> 61) {
          case 0: s->length = static_cast<uint32_t>(r >> 16); break;
          case 1: s->ref.offset = r >> 8; break;
          case 2: s->ref.length = static_cast<uint32_t>(r); break;
          case 3: payload[(r >> 20) % kGeometry.payloadBytes()] = static_cast<std::byte>(r); break;
          default: s->length = d.length; s->ref = d.ref; break;  // put it back: a torn view
        }
      }
    }
    Descriptor bad{};
    bad.seq = 60;
    bad.schema_id = static_cast<uint16_t>(MessageSchema::kResponseBody);
    bad.version = kMessageVersion;
    bad.length = 0xffffffff;
    std::memcpy(h.slot(60), &bad, sizeof bad);
    storeIndex(h.ownBytes() + kProdOffset, 61);
  });
  EXPECT_NE(o.fault, RingFault::kNone);
  EXPECT_NE(o.fault, RingFault::kStalled);
}

TEST(HostilePeerTest, StalledHostIsNoticedByTheWatchdog) {
  const Outcome o = runDpu(Hello::kGood, [](HostileHost&) { /* never polls, never answers */ });
  EXPECT_EQ(o.fault, RingFault::kStalled);
}

TEST(HostilePeerTest, FloodIsReadAtMostABudgetPerPoll) {
  const Outcome o = runDpu(
      Hello::kGood,
      [](HostileHost& h) {
        if (!h.sendGood(5000)) _exit(21);
        while (h.peerCons() < 5000) std::this_thread::yield();
        storeIndex(h.ownBytes() + kProdOffset, 0);  // then end the epoch
      },
      16);
  EXPECT_EQ(o.delivered_before, 5000u);
  EXPECT_LE(o.largest_poll, 16u);
  EXPECT_EQ(o.fault, RingFault::kIndexBackwards);
}

TEST(HostilePeerTest, BadHellosAreRefusedWithTheirReason) {
  EXPECT_EQ(runDpu(Hello::kUnsealed, nullptr).first, AttachError::kRegion);
  EXPECT_EQ(runDpu(Hello::kWrongSize, nullptr).first, AttachError::kBadHeader);
  EXPECT_EQ(runDpu(Hello::kWrongEpoch, nullptr).first, AttachError::kWrongEpoch);
  EXPECT_EQ(runDpu(Hello::kWrongSchema, nullptr).first, AttachError::kSchemaMismatch);
  EXPECT_EQ(runDpu(Hello::kWrongRole, nullptr).first, AttachError::kBadHeader);
  EXPECT_EQ(runDpu(Hello::kPipeAsWakeFd, nullptr).first, AttachError::kWakeFd);
}

}  // namespace
}  // namespace dpuguard::shm
