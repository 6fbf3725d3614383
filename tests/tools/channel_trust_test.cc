// ChannelTrust: the host's verdict on one channel's DPU end, driven with real signed quotes
// (a device key made here) cut into QuoteParts as the DPU cuts them.
#include "tools/dpuguard-host/channel_trust.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "attest/device_key.h"
#include "attest/digest.h"
#include "attest/quote.h"

namespace dpuguard::host {
namespace {

class ChannelTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/channel_trust_testXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::string why;
    ASSERT_TRUE(attest::DeviceKey::create(dir_ + "/dev.key", dir_ + "/dev.key.pub", &why)) << why;
    key_ = attest::DeviceKey::load(dir_ + "/dev.key", &why);
    ASSERT_TRUE(key_) << why;
    ASSERT_TRUE(log_.add("executable", "/usr/bin/dpuguard", attest::sha256Hex("exe")));
    ASSERT_TRUE(log_.add("config", "/etc/dpuguard.yaml", attest::sha256Hex("cfg")));
    anchor_.public_pem = key_->publicPem();
    ASSERT_TRUE(
        attest::Expectation::parse(attest::Expectation::fromLog(log_), &anchor_.expect, &why))
        << why;
  }
  void TearDown() override {
    if (std::system(("rm -rf " + dir_).c_str()) != 0) ADD_FAILURE() << "rm -rf " << dir_;
  }

  // The quote the DPU signs over `c`'s nonce, as JSON.
  std::string quoteFor(const shm::AttestChallenge& c, const attest::MeasurementLog& log,
                       std::string_view context = attest::kContextHostChannel) {
    attest::SignedQuote q;
    q.quote.context = std::string(context);
    q.quote.log = log;
    q.quote.nonce =
        attest::toHex(std::string_view(reinterpret_cast<const char*>(c.nonce), sizeof c.nonce));
    q.quote.boot_id = "cd2a2874-6b11-4d71-b49e-2ea2210362a6";
    q.quote.time = 1796237968;
    q.signature = key_->sign(q.quote.signedBytes());
    return attest::quoteJson(q);
  }
  // `whole` cut into parts of at most `part_bytes` data each, every one passing its check.
  static std::vector<std::vector<std::byte>> parts(const std::string& whole, size_t part_bytes,
                                                   uint32_t flags = 0) {
    std::vector<std::vector<std::byte>> out;
    for (size_t offset = 0, taken = 0; offset < whole.size(); offset += taken) {
      std::vector<std::byte> buf(sizeof(shm::QuotePartPrefix) + part_bytes);
      buf.resize(shm::encodeQuotePart(buf, whole, offset, flags, &taken));
      EXPECT_TRUE(shm::checkQuotePart(buf));
      out.push_back(buf);
    }
    return out;
  }
  void deliver(ChannelTrust& t, const std::vector<std::vector<std::byte>>& ps) {
    for (const auto& p : ps) t.onQuotePart(shm::decodeQuotePart(p));
  }

  std::string dir_;
  std::unique_ptr<attest::DeviceKey> key_;
  attest::MeasurementLog log_;
  TrustAnchor anchor_;
};

TEST_F(ChannelTrustTest, AQuoteOverTheChallengeInManyPartsIsTrusted) {
  ChannelTrust t(anchor_);
  EXPECT_EQ(t.state(), ChannelTrust::State::kPending);
  shm::AttestChallenge c;
  ASSERT_TRUE(t.challenge(&c));
  const auto ps = parts(quoteFor(c, log_), 100);
  ASSERT_GT(ps.size(), 3u);
  deliver(t, {ps.begin(), ps.end() - 1});
  EXPECT_EQ(t.state(), ChannelTrust::State::kPending);  // not whole yet
  deliver(t, {ps.back()});
  EXPECT_EQ(t.state(), ChannelTrust::State::kTrusted);
  EXPECT_TRUE(t.trusts(log_.id()));
  EXPECT_FALSE(t.trusts("0000000000000000"));
  EXPECT_TRUE(t.awaitVerdict(0));
}

TEST_F(ChannelTrustTest, AnOldNonceAnotherKeyOrAnUnknownMeasurementIsRefused) {
  ChannelTrust t(anchor_);
  shm::AttestChallenge old, now;
  ASSERT_TRUE(t.challenge(&old));
  deliver(t, parts(quoteFor(old, log_), 4096));
  ASSERT_EQ(t.state(), ChannelTrust::State::kTrusted);
  ASSERT_TRUE(t.challenge(&now));
  deliver(t, parts(quoteFor(old, log_), 4096));  // a replay of the last answer
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
  EXPECT_FALSE(t.trusts(log_.id()));

  ASSERT_TRUE(t.challenge(&now));
  attest::MeasurementLog other;
  ASSERT_TRUE(other.add("executable", "/usr/bin/dpuguard", attest::sha256Hex("exe")));
  ASSERT_TRUE(other.add("config", "/etc/dpuguard.yaml", attest::sha256Hex("another config")));
  deliver(t, parts(quoteFor(now, other), 4096));
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);

  std::string why;
  ASSERT_TRUE(attest::DeviceKey::create(dir_ + "/other.key", dir_ + "/other.key.pub", &why)) << why;
  key_ = attest::DeviceKey::load(dir_ + "/other.key", &why);
  ASSERT_TRUE(t.challenge(&now));
  deliver(t, parts(quoteFor(now, log_), 4096));
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
  EXPECT_FALSE(t.awaitVerdict(0));
}

TEST_F(ChannelTrustTest, PartsOutOfOrderUnaskedOrARefusalAreNotTrusted) {
  ChannelTrust t(anchor_);
  shm::AttestChallenge c;
  ASSERT_TRUE(t.challenge(&c));
  auto ps = parts(quoteFor(c, log_), 100);
  std::swap(ps[1], ps[2]);
  deliver(t, ps);
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);

  ASSERT_TRUE(t.challenge(&c));
  deliver(t, parts(quoteFor(c, log_), 4096));
  ASSERT_EQ(t.state(), ChannelTrust::State::kTrusted);
  deliver(t, parts(quoteFor(c, log_), 4096));  // a second answer nobody asked for
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);

  ASSERT_TRUE(t.challenge(&c));
  deliver(t, parts("attestation is not configured", 4096, shm::kQuoteRefused));
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);

  ASSERT_TRUE(t.challenge(&c));
  deliver(t, parts("{\"version\":1}", 4096));  // a malformed quote
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
}

TEST_F(ChannelTrustTest, TheDpusRefusalTextReachesTheLogWithoutControlBytes) {
  // Found by the channel_trust fuzz target: the refusal's text is the DPU's own words.
  ChannelTrust t(anchor_);
  shm::AttestChallenge c;
  ASSERT_TRUE(t.challenge(&c));
  testing::internal::CaptureStderr();
  deliver(t, parts("no key\x1b[2J\ndpuguard-host: quote verified: measurement x\xe1", 4096,
                   shm::kQuoteRefused));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
  EXPECT_EQ(log,
            "dpuguard-host: not trusted, bridging nothing: the DPU did not quote: no key?[2J?"
            "dpuguard-host: quote verified: measurement x?\n");
}

TEST_F(ChannelTrustTest, AQuoteSignedForTheAdminPortIsARelayNotAnAnswer) {
  // The admin port signs over any nonce anyone sends: a process that cannot sign relays the
  // host's nonce there and hands the answer back. Its context gives it away.
  ChannelTrust t(anchor_);
  shm::AttestChallenge c;
  ASSERT_TRUE(t.challenge(&c));
  deliver(t, parts(quoteFor(c, log_, attest::kContextAdmin), 4096));
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
  EXPECT_FALSE(t.trusts(log_.id()));
}

TEST_F(ChannelTrustTest, AChallengeLeftUnansweredEndsTheTrust) {
  ChannelTrust t(anchor_);
  shm::AttestChallenge c;
  ASSERT_TRUE(t.challenge(&c));
  deliver(t, parts(quoteFor(c, log_), 4096));
  ASSERT_EQ(t.state(), ChannelTrust::State::kTrusted);
  ASSERT_TRUE(t.challenge(&c));  // answered
  deliver(t, parts(quoteFor(c, log_), 4096));
  ASSERT_EQ(t.state(), ChannelTrust::State::kTrusted);
  ASSERT_TRUE(t.challenge(&c));  // not answered before the next one is due
  EXPECT_EQ(t.state(), ChannelTrust::State::kTrusted);
  ASSERT_TRUE(t.challenge(&c));
  EXPECT_EQ(t.state(), ChannelTrust::State::kRefused);
}

}  // namespace
}  // namespace dpuguard::host
