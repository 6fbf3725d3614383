// Fuzz target: the ring consumer against a hostile producer. The input is a script for the
// peer: publish messages through a real RingProducer, poke any byte of its region (descriptors,
// payload records, the prod index), set prod to any value, and poll the DPU's consumer; pokes
// are also applied while a poll is running, between two messages it reads. Invariants:
//   - every delivered message passes its schema check again, has seq = previous + 1 and a
//     payload no larger than the ring allows (and ASan sees no read outside either region);
//   - once the consumer reports a fault it delivers nothing more, and cons never passes a
//     prod value the peer published.
// Ops (byte 0 = op, then its operands; the input ends the script):
//   0 push: schema selector, 2-byte length, payload bytes     1 poke: 2-byte offset, value
//   2 set prod: 1-byte delta from the consumer's cons (signed) 3 poll: budget
//   4 poke-during-poll: 2-byte offset, value (applied after the next delivered message)
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "shm/message_codec.h"
#include "shm/ring_consumer.h"
#include "shm/ring_producer.h"

namespace {

using namespace dpuguard::shm;

constexpr RingGeometry kGeometry{8, 256};
constexpr MessageSchema kSchemas[] = {MessageSchema::kResponseHead, MessageSchema::kResponseBody,
                                      MessageSchema::kStreamReset, MessageSchema::kIdentityLabel,
                                      MessageSchema::kDrain};

bool recheck(uint16_t id, std::span<const std::byte> p) {
  switch (static_cast<MessageSchema>(id)) {
    case MessageSchema::kResponseHead: return checkResponseHead(p);
    case MessageSchema::kResponseBody: return checkBody(p);
    case MessageSchema::kStreamReset: return checkStreamReset(p);
    case MessageSchema::kIdentityLabel: return checkIdentityLabel(p);
    case MessageSchema::kDrain: return checkDrain(p);
    default: return false;
  }
}

struct Script {
  const uint8_t* p;
  const uint8_t* end;
  bool more(size_t n) const { return p <= end && static_cast<size_t>(end - p) >= n; }
  uint8_t u8() { return *p++; }
  uint16_t u16() {
    const uint16_t v = static_cast<uint16_t>(p[0] | (p[1] << 8));
    p += 2;
    return v;
  }
};

struct Run {
  // Exactly sized heap regions: ASan reports any access past them.
  std::unique_ptr<std::byte[]> producer_region{new std::byte[kGeometry.regionBytes()]()};
  std::unique_ptr<std::byte[]> consumer_region{new std::byte[kHeaderBytes]()};
  RingProducer producer{{producer_region.get(), kGeometry.regionBytes()}, {consumer_region.get(), kHeaderBytes},
                        kGeometry, 1};
  RingConsumer consumer{{producer_region.get(), kGeometry.regionBytes()}, {consumer_region.get(), kHeaderBytes},
                        kGeometry, hostToDpuSchemas()};
  uint64_t delivered = 0;
  uint64_t max_prod = 0;  // the highest prod the peer ever stored
  std::vector<std::pair<size_t, uint8_t>> pending_pokes;

  void poke(size_t offset, uint8_t v) { producer_region[offset % kGeometry.regionBytes()] = std::byte{v}; }
  void noteProd() { max_prod = std::max(max_prod, loadIndex(producer_region.get() + kProdOffset)); }
};

}  // namespace

namespace {

struct Summary {
  uint64_t delivered;
  RingFault fault;
};

Summary play(const uint8_t* data, size_t size) {
  Run r;
  Script s{data, data + size};
  std::vector<std::byte> payload;
  while (s.more(1)) {
    switch (s.u8() % 5) {
      case 0: {
        if (!s.more(3)) break;
        const MessageSchema schema = kSchemas[s.u8() % std::size(kSchemas)];
        const size_t wanted = s.u16() % 300;  // read before `end - p` (argument order is unspecified)
        const size_t len = std::min<size_t>(wanted, static_cast<size_t>(s.end - s.p));
        payload.assign(reinterpret_cast<const std::byte*>(s.p), reinterpret_cast<const std::byte*>(s.p + len));
        s.p += len;
        r.producer.push(static_cast<uint16_t>(schema), kMessageVersion, payload);
        r.producer.flush();
        r.noteProd();
        break;
      }
      case 1:
        if (s.more(3)) {
          const uint16_t offset = s.u16();  // operands in script order (argument order is unspecified)
          r.poke(offset, s.u8());
        }
        r.noteProd();
        break;
      case 2:
        if (s.more(1)) {
          storeIndex(r.producer_region.get() + kProdOffset,
                     r.consumer.consumed() + static_cast<uint64_t>(static_cast<int8_t>(s.u8())));
          r.noteProd();
        }
        break;
      case 3: {
        const size_t budget = s.more(1) ? s.u8() % 16 + 1 : 16;
        const bool was_faulted = r.consumer.fault() != RingFault::kNone;
        const size_t n = r.consumer.poll(
            [&](const RingMessage& m) {
              if (m.seq != r.delivered || m.payload.size() > kGeometry.maxPayload() ||
                  !recheck(m.schema_id, m.payload)) {
                std::abort();
              }
              ++r.delivered;
              for (auto [off, v] : r.pending_pokes) r.poke(off, v);  // between this read and the next
              r.pending_pokes.clear();
              r.noteProd();
            },
            budget);
        if ((was_faulted && n != 0) || n > budget || r.consumer.consumed() > r.max_prod) std::abort();
        break;
      }
      default:
        if (s.more(3)) {
          const uint16_t offset = s.u16();
          r.pending_pokes.emplace_back(offset, s.u8());
        }
        break;
    }
  }
  return Summary{r.delivered, r.consumer.fault()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  play(data, size);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  // How the consumer ended: still trusting the peer, or stopped on which fault.
  const Summary r = play(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  const std::string n = std::to_string(r.delivered) + "-delivered";
  return r.fault == RingFault::kNone ? "accepted:" + n : "rejected:" + std::string(ringFaultName(r.fault)) + " " + n;
}
