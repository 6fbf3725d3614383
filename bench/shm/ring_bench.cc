// Host-channel ring benchmarks, all measured in the same run (SHM_DESIGN.md "Performance anchors"):
//   - cross-core throughput of 64 B and 1 KiB messages, publish batch 1 and 32, for
//       validated:   RingProducer -> RingConsumer (copy-then-validate + schema check), what ships
//       unvalidated: the same producer and layout, read by a consumer that only copies
//       rte_ring:    DPDK rte_ring SP/SC with elements of the message size (bulk enqueue, burst dequeue)
//   - round trip p50/p99 between two processes over a real ChannelEnd pair (memfd regions).
// Producer and consumer run on different cores when the machine has two.
#include <benchmark/benchmark.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "shm/channel_end.h"
#include "shm/message_codec.h"
#include "shm/ring_consumer.h"
#include "shm/ring_producer.h"

namespace {

using namespace dpuguard::shm;

constexpr uint64_t kPerIteration = 1 << 16;
constexpr uint16_t kBody = static_cast<uint16_t>(MessageSchema::kResponseBody);

void pin(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

struct Memory {
  explicit Memory(size_t n) : p(static_cast<std::byte*>(std::aligned_alloc(4096, (n + 4095) / 4096 * 4096))) {
    std::memset(p, 0, n);
  }
  ~Memory() { std::free(p); }
  std::byte* p;
};

// A message of `size` bytes that passes checkBody: body prefix + data.
std::vector<std::byte> bodyMessage(size_t size) {
  std::vector<std::byte> m(size);
  std::vector<std::byte> data(size - sizeof(BodyPrefix), std::byte{'x'});
  encodeBody(m, 1, 0, data);
  return m;
}

// Unvalidated reader of the same layout: one load of prod per poll, copies, no checks.
class CopyOnlyConsumer {
 public:
  CopyOnlyConsumer(const std::byte* peer, std::byte* own, RingGeometry g)
      : peer_(peer), own_(own), g_(g), copy_(new std::byte[g.payload_stride]) {}
  size_t poll(uint64_t& sink) {
    const uint64_t prod = loadIndex(peer_ + kProdOffset);
    const uint64_t n = std::min<uint64_t>(prod - cons_, 256);
    for (uint64_t i = 0; i < n; ++i, ++cons_) {
      Descriptor d;
      std::memcpy(&d, peer_ + g_.slotsOffset() + (cons_ & (g_.capacity - 1)) * kSlotBytes, sizeof d);
      if (d.flags & kDescInline) {
        std::memcpy(copy_.get(), d.inline_bytes, std::min<size_t>(d.length, kInlineBytes));
      } else {
        std::memcpy(copy_.get(), peer_ + g_.payloadOffset() + d.ref.offset, std::min<size_t>(d.ref.length, g_.payload_stride));
      }
      sink += static_cast<uint64_t>(copy_[sizeof(PayloadRecordHeader)]);
    }
    if (n != 0) storeIndex(own_ + kConsOffset, cons_);  // as RingConsumer: only changed values
    return n;
  }

 private:
  const std::byte* peer_;
  std::byte* own_;
  RingGeometry g_;
  std::unique_ptr<std::byte[]> copy_;
  uint64_t cons_ = 0;
};

// Runs `consume` on the second core until it returns kPerIteration messages in total.
template <class Consume>
std::thread consumerThread(Consume consume) {
  return std::thread([consume]() mutable {
    pin(1);
    uint64_t got = 0;
    while (got < kPerIteration) got += consume();
  });
}

void ourRing(benchmark::State& state, bool validated) {
  const size_t size = static_cast<size_t>(state.range(0));
  const uint32_t batch = static_cast<uint32_t>(state.range(1));
  const RingGeometry g{1024, size <= kInlineBytes ? 64u : static_cast<uint32_t>((size + 16 + 63) / 64 * 64)};
  const std::vector<std::byte> msg = bodyMessage(size);
  pin(0);
  for (auto _ : state) {
    Memory producer_region(g.regionBytes()), consumer_region(kHeaderBytes);
    RingProducer producer({producer_region.p, g.regionBytes()}, {consumer_region.p, kHeaderBytes}, g, batch);
    uint64_t sink = 0;
    std::thread consumer;
    std::unique_ptr<RingConsumer> checked;
    std::unique_ptr<CopyOnlyConsumer> raw;
    if (validated) {
      checked = std::make_unique<RingConsumer>(std::span<const std::byte>(producer_region.p, g.regionBytes()),
                                               std::span<std::byte>(consumer_region.p, kHeaderBytes), g,
                                               hostToDpuSchemas());
      consumer = consumerThread([&checked, &sink] {
        return checked->poll([&sink](const RingMessage& m) { sink += static_cast<uint64_t>(m.payload[16]); });
      });
    } else {
      raw = std::make_unique<CopyOnlyConsumer>(producer_region.p, consumer_region.p, g);
      consumer = consumerThread([&raw, &sink] { return raw->poll(sink); });
    }
    for (uint64_t i = 0; i < kPerIteration;) {
      if (producer.push(kBody, kMessageVersion, msg) == RingProducer::PushStatus::kOk) ++i;
    }
    producer.flush();
    consumer.join();
    if (checked && checked->fault() != RingFault::kNone) state.SkipWithError("validated ring faulted");
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerIteration));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPerIteration * size));
}

void BM_ValidatedRing(benchmark::State& state) { ourRing(state, true); }
void BM_UnvalidatedRing(benchmark::State& state) { ourRing(state, false); }

void BM_DpdkRteRingSpSc(benchmark::State& state) {
  const unsigned size = static_cast<unsigned>(state.range(0));
  const unsigned batch = static_cast<unsigned>(state.range(1));
  const ssize_t bytes = rte_ring_get_memsize_elem(size, 1024);
  Memory mem(static_cast<size_t>(bytes));
  auto* ring = reinterpret_cast<rte_ring*>(mem.p);
  if (bytes < 0 || rte_ring_init(ring, "bench", 1024, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
    state.SkipWithError("rte_ring_init failed");
    return;
  }
  std::vector<std::byte> out(size_t{size} * batch);
  for (unsigned i = 0; i < batch; ++i) {
    const std::vector<std::byte> m = bodyMessage(size);
    std::memcpy(out.data() + size_t{i} * size, m.data(), size);
  }
  pin(0);
  for (auto _ : state) {
    uint64_t sink = 0;
    std::thread consumer = consumerThread([ring, size, &sink] {
      static thread_local std::vector<std::byte> in(size_t{64} * 1024);
      const unsigned n = rte_ring_sc_dequeue_burst_elem(ring, in.data(), size, 32, nullptr);
      if (n > 0) sink += static_cast<uint64_t>(in[16]);
      return uint64_t{n};
    });
    for (uint64_t i = 0; i < kPerIteration;) {
      i += rte_ring_sp_enqueue_bulk_elem(ring, out.data(), size, batch, nullptr);
    }
    consumer.join();
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerIteration));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPerIteration * size));
}

#define RING_ARGS ->Args({64, 1})->Args({64, 32})->Args({1024, 1})->Args({1024, 32})->UseRealTime()->MinTime(0.5)
BENCHMARK(BM_DpdkRteRingSpSc) RING_ARGS;
BENCHMARK(BM_ValidatedRing) RING_ARGS;
BENCHMARK(BM_UnvalidatedRing) RING_ARGS;

// Round trip between two processes: the DPU side sends a 64-byte request body, the host side
// (a forked process with its own ChannelEnd) answers with a 64-byte response body; both spin.
void BM_ChannelRoundTrip(benchmark::State& state) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
    state.SkipWithError("socketpair");
    return;
  }
  const std::vector<std::byte> msg = bodyMessage(64);
  const pid_t pid = fork();
  if (pid == 0) {
    pin(1);
    close(sv[0]);
    ChannelEnd host(channelConfigFor(RegionRole::kHost, RingGeometry{256, 1024}, 1));
    if (host.establish(sv[1], 1) != AttachError::kOk) _exit(1);
    bool stop = false;
    while (!stop && host.fault() == RingFault::kNone) {
      host.consumer().poll([&](const RingMessage& m) {
        if (decodeBody(m.payload).prefix.flags & kBodyEndStream) stop = true;
        host.producer().push(kBody, kMessageVersion, msg);
      });
    }
    _exit(0);
  }
  close(sv[1]);
  pin(0);
  ChannelEnd dpu(channelConfigFor(RegionRole::kDpu, RingGeometry{256, 1024}, 1));
  if (dpu.establish(sv[0], 1) != AttachError::kOk) {
    state.SkipWithError("establish");
    return;
  }
  const uint16_t request_body = static_cast<uint16_t>(MessageSchema::kRequestBody);
  std::vector<double> ns;
  ns.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    dpu.producer().push(request_body, kMessageVersion, msg);
    while (dpu.consumer().poll([](const RingMessage&) {}) == 0 && dpu.fault() == RingFault::kNone) {
    }
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<std::byte> last = bodyMessage(64);
  reinterpret_cast<BodyPrefix*>(last.data())->flags = kBodyEndStream;
  dpu.producer().push(request_body, kMessageVersion, last);
  waitpid(pid, nullptr, 0);
  close(sv[0]);
  std::sort(ns.begin(), ns.end());
  if (!ns.empty()) {
    state.counters["p50_ns"] = ns[ns.size() / 2];
    state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  }
}
BENCHMARK(BM_ChannelRoundTrip)->UseRealTime()->MinTime(1.0);

}  // namespace
