// RingConsumer and RingProducer: the round trip, batching and back-pressure, and one test per
// validation rule, each made by changing one field of what the producer wrote.
#include "shm/ring_consumer.h"

#include <gtest/gtest.h>

#include "tests/shm/ring_test_support.h"

namespace dpuguard::shm {
namespace {

using testing::bytesOf;
using testing::kText;
using testing::RingPair;
using Push = RingProducer::PushStatus;

const std::string kShort = "inline message";                    // fits in the descriptor
const std::string kLong(200, 'L');                               // goes to a payload record

TEST(RingTest, InlineAndRecordMessagesRoundTripAcrossWrapAround) {
  RingPair r;
  std::vector<std::string> got;
  for (int i = 0; i < 100; ++i) {
    const std::string m = (i % 2 ? kLong : kShort) + std::to_string(i);
    ASSERT_EQ(r.producer.push(kText, 1, bytesOf(m)), Push::kOk);
    for (const std::string& s : r.drain()) got.push_back(s);
    ASSERT_EQ(got.back(), m);
  }
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(r.consumer.fault(), RingFault::kNone);
  EXPECT_EQ(r.consumer.stats().messages, 100u);
}

TEST(RingTest, NothingIsVisibleBeforeTheBatchIsPublished) {
  RingPair r({8, 256}, 4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  EXPECT_TRUE(r.drain().empty());
  ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);  // the 4th publishes the batch
  EXPECT_EQ(r.drain().size(), 4u);
  ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  r.producer.flush();
  EXPECT_EQ(r.drain().size(), 1u);
}

TEST(RingTest, FullRingRefusesUntilTheConsumerCatchesUp) {
  RingPair r;
  for (int i = 0; i < 8; ++i) ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  EXPECT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kFull);
  EXPECT_EQ(r.producer.stats().full, 1u);
  EXPECT_EQ(r.drain(3).size(), 3u);  // budget per poll is honoured
  EXPECT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  const std::string too_large(300, 'x');
  EXPECT_EQ(r.producer.push(kText, 1, bytesOf(too_large)), Push::kTooLarge);
}

TEST(RingTest, ProducerRefusesAConsumerIndexBeyondWhatWasPublished) {
  RingPair r;
  for (int i = 0; i < 8; ++i) ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  r.setCons(9);
  EXPECT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kFaulted);
  EXPECT_EQ(r.producer.fault(), RingFault::kIndexBeyondCapacity);
}

TEST(RingTest, ProducerRefusesAConsumerIndexGoingBackwards) {
  RingPair r;
  for (int i = 0; i < 8; ++i) ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  r.setCons(4);
  ASSERT_EQ(r.producer.refreshConsumer(), RingFault::kNone);
  r.setCons(2);
  EXPECT_EQ(r.producer.refreshConsumer(), RingFault::kIndexBackwards);
}

// Each case: push one message, break one thing, poll: nothing delivered, the named fault.
struct Tamper {
  const char* name;
  bool record;  // push kLong (payload record) instead of kShort (inline)
  void (*edit)(RingPair&);
  RingFault expected;
};

class RingValidationTest : public ::testing::TestWithParam<Tamper> {};

TEST_P(RingValidationTest, RefusesAndStops) {
  const Tamper& t = GetParam();
  RingPair r;
  ASSERT_EQ(r.producer.push(kText, 1, bytesOf(t.record ? kLong : kShort)), Push::kOk);
  t.edit(r);
  EXPECT_TRUE(r.drain().empty());
  EXPECT_EQ(r.consumer.fault(), t.expected) << ringFaultName(r.consumer.fault());
  EXPECT_EQ(r.consumer.stats().faults[static_cast<size_t>(t.expected)], 1u);
  // Stopped for good: even a repaired ring delivers nothing more in this epoch.
  ASSERT_EQ(r.producer.push(kText, 1, bytesOf(kShort)), Push::kOk);
  EXPECT_TRUE(r.drain().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Rules, RingValidationTest,
    ::testing::Values(
        Tamper{"prod_beyond_capacity", false, [](RingPair& r) { r.setProd(9); }, RingFault::kIndexBeyondCapacity},
        Tamper{"prod_wrapped_negative", false, [](RingPair& r) { r.setProd(~uint64_t{0}); },
               RingFault::kIndexBeyondCapacity},
        Tamper{"prod_backwards", false,
               [](RingPair& r) {
                 r.drain();
                 r.setProd(0);
               },
               RingFault::kIndexBackwards},
        Tamper{"bad_seq", false, [](RingPair& r) { r.slot(0).seq = 8; }, RingFault::kBadSequence},
        Tamper{"replayed_slot", false,
               [](RingPair& r) {
                 r.drain();
                 r.setProd(2);  // slot 1 still holds nothing newer than seq 0
                 std::memcpy(&r.slot(1), &r.slot(0), sizeof(Descriptor));
               },
               RingFault::kBadSequence},
        Tamper{"unknown_schema", false, [](RingPair& r) { r.slot(0).schema_id = 99; }, RingFault::kUnknownSchema},
        Tamper{"unknown_version", false, [](RingPair& r) { r.slot(0).version = 2; }, RingFault::kUnknownSchema},
        Tamper{"length_zero_below_min", false, [](RingPair& r) { r.slot(0).length = 0; }, RingFault::kBadLength},
        Tamper{"length_above_schema_max", true, [](RingPair& r) { r.slot(0).length = 4001; }, RingFault::kBadLength},
        Tamper{"length_above_ring_payload", true, [](RingPair& r) { r.slot(0).length = 241; }, RingFault::kBadLength},
        Tamper{"inline_length_above_40", false, [](RingPair& r) { r.slot(0).length = 41; }, RingFault::kBadLength},
        Tamper{"reserved_flag_bit", false, [](RingPair& r) { r.slot(0).flags |= 1u << 7; }, RingFault::kReservedBits},
        Tamper{"reserved_word", false, [](RingPair& r) { r.slot(0).reserved = 1; }, RingFault::kReservedBits},
        Tamper{"ref_reserved_word", true, [](RingPair& r) { r.slot(0).ref.reserved = 1; }, RingFault::kReservedBits},
        Tamper{"offset_past_area", true, [](RingPair& r) { r.slot(0).ref.offset = 8 * 256; },
               RingFault::kBadOffset},
        Tamper{"offset_overflow", true, [](RingPair& r) { r.slot(0).ref.offset = ~uint64_t{0} - 8; },
               RingFault::kBadOffset},
        Tamper{"record_length_disagrees", true, [](RingPair& r) { r.slot(0).ref.length += 1; },
               RingFault::kRecordMismatch},
        Tamper{"record_seq_disagrees", true, [](RingPair& r) { r.record(0).seq = 5; }, RingFault::kRecordMismatch},
        Tamper{"record_schema_disagrees", true, [](RingPair& r) { r.record(0).schema_id = 8; },
               RingFault::kRecordMismatch},
        Tamper{"record_reserved", true, [](RingPair& r) { r.record(0).reserved = 1; }, RingFault::kRecordMismatch},
        Tamper{"payload_fails_schema", false, [](RingPair& r) { r.slot(0).inline_bytes[0] = 0x01; },
               RingFault::kInvalidMessage}),
    [](const ::testing::TestParamInfo<Tamper>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace dpuguard::shm
