// Quote and DeviceKey: sign, serialize, parse, verify; every tampering refused precisely.
#include "attest/quote.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "attest/device_key.h"
#include "attest/digest.h"
#include "attest/expectation.h"

namespace dpuguard::attest {
namespace {

class QuoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/quote_testXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::string why;
    ASSERT_TRUE(DeviceKey::create(dir_ + "/dev.key", dir_ + "/dev.key.pub", &why)) << why;
    key_ = DeviceKey::load(dir_ + "/dev.key", &why);
    ASSERT_TRUE(key_) << why;
    pub_ = key_->publicPem();
    ASSERT_TRUE(q_.quote.log.add("executable", "/usr/bin/dpuguard", sha256Hex("exe")));
    ASSERT_TRUE(q_.quote.log.add("config", "/etc/dpuguard.yaml", sha256Hex("cfg")));
    q_.quote.context = std::string(kContextAdmin);
    q_.quote.nonce = std::string(64, 'a');
    q_.quote.boot_id = "cd2a2874-6b11-4d71-b49e-2ea2210362a6";
    q_.quote.time = 1796237968;
    q_.signature = key_->sign(q_.quote.signedBytes());
    ASSERT_EQ(q_.signature.size(), kSignatureBytes);
    ASSERT_TRUE(Expectation::parse(Expectation::fromLog(q_.quote.log), &expect_, &why)) << why;
  }
  void TearDown() override {
    if (std::system(("rm -rf " + dir_).c_str()) != 0) ADD_FAILURE() << "rm -rf " << dir_;
  }

  // The quote's JSON with `from` replaced by `to` once.
  std::string edited(const std::string& from, const std::string& to) {
    std::string json = quoteJson(q_);
    const size_t at = json.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? json : json.replace(at, from.size(), to);
  }
  std::string parseError(const std::string& json) {
    SignedQuote out;
    std::string why;
    EXPECT_FALSE(parseQuote(json, &out, &why));
    return why;
  }

  std::string dir_;
  std::unique_ptr<DeviceKey> key_;
  std::string pub_;
  SignedQuote q_;
  Expectation expect_;
};

TEST_F(QuoteTest, AGoodQuoteRoundTripsAndVerifies) {
  SignedQuote back;
  std::string why;
  ASSERT_TRUE(parseQuote(quoteJson(q_), &back, &why)) << why;
  EXPECT_EQ(back.quote.log.entries(), q_.quote.log.entries());
  EXPECT_EQ(back.quote.signedBytes(), q_.quote.signedBytes());
  EXPECT_EQ(verifyQuote(back, q_.quote.nonce, pub_, expect_), "");
}

TEST_F(QuoteTest, AnotherNonceIsAReplay) {
  EXPECT_EQ(verifyQuote(q_, std::string(64, 'b'), pub_, expect_),
            "the quote answers another nonce (a replay?)");
}

TEST_F(QuoteTest, AnotherKeyOrAnyEditedFieldBreaksTheSignature) {
  std::string why;
  ASSERT_TRUE(DeviceKey::create(dir_ + "/other.key", dir_ + "/other.pub", &why)) << why;
  std::ifstream in(dir_ + "/other.pub");
  const std::string other((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(verifyQuote(q_, q_.quote.nonce, other, expect_),
            "the signature does not verify with the given public key");
  SignedQuote later = q_;
  later.quote.time += 1;
  EXPECT_EQ(verifyQuote(later, q_.quote.nonce, pub_, expect_),
            "the signature does not verify with the given public key");
  SignedQuote elsewhere = q_;  // the context is signed: an admin quote cannot pass as another
  elsewhere.quote.context = std::string(kContextHostChannel);
  EXPECT_EQ(verifyQuote(elsewhere, q_.quote.nonce, pub_, expect_),
            "the signature does not verify with the given public key");
  EXPECT_EQ(verifyQuote(q_, q_.quote.nonce, "not a key", expect_),
            "the public key is not a PEM Ed25519 public key");
}

TEST_F(QuoteTest, AChangedDigestIsNamedByItsComponent) {
  SignedQuote changed = q_;
  changed.quote.log = MeasurementLog();
  ASSERT_TRUE(changed.quote.log.add("executable", "/usr/bin/dpuguard", sha256Hex("exe")));
  ASSERT_TRUE(changed.quote.log.add("config", "/etc/dpuguard.yaml", sha256Hex("cfg2")));
  changed.signature = key_->sign(changed.quote.signedBytes());
  EXPECT_EQ(verifyQuote(changed, q_.quote.nonce, pub_, expect_),
            "component 'config' (/etc/dpuguard.yaml) differs: sha256 " + sha256Hex("cfg2") +
                " is not an expected value");
}

TEST_F(QuoteTest, MalformedQuotesAreRefusedPrecisely) {
  EXPECT_EQ(parseError("{").rfind("the quote is not JSON: ", 0), 0u);
  EXPECT_EQ(parseError("[]"), "the quote is not a JSON object");
  EXPECT_EQ(parseError(edited("\"version\":1", "\"version\":2")),
            "the quote's version is missing or not 1");
  EXPECT_EQ(parseError(edited("\"nonce\":\"" + std::string(64, 'a'), "\"nonce\":\"aa")),
            "the quote's nonce: the nonce must be 16 to 64 bytes (32 to 128 hex digits), not 2 "
            "digits");
  EXPECT_EQ(parseError(edited("\"time\":1796237968", "\"time\":-1")),
            "the quote's 'time' is missing or not a whole number");
  EXPECT_EQ(parseError(edited("\"composite\":\"", "\"composite\":\"0")),
            "the quote's composite does not match its log");
  EXPECT_EQ(parseError(edited("\"measurement_id\":\"", "\"measurement_id\":\"0")),
            "the quote's measurement_id does not match its composite");
  EXPECT_EQ(parseError(edited("\"index\":1", "\"index\":7")), "log entry 1 has index 7");
  EXPECT_EQ(parseError(edited("\"component\":\"config\"", "\"component\":\"CONFIG\"")),
            "log entry 1: component must be [a-z_]{1,32}, path percent-encoded (at most 4096 "
            "bytes) and sha256 64 lower-case hex digits");
  EXPECT_EQ(parseError(edited("\"signature\":\"", "\"signature\":\"00")),
            "the quote's signature must be 128 hex digits");
  EXPECT_EQ(parseError(std::string(kMaxQuoteBytes + 1, ' ')),
            "the quote is larger than 2097152 bytes");
  EXPECT_EQ(parseError(edited("\"context\":\"admin\"", "\"context\":\"other\"")),
            "the quote's context must be 'admin' or 'host_channel'");
  // A key twice (parsers disagree on which counts) or a key nobody defined.
  EXPECT_EQ(parseError(edited("\"version\":1", "\"version\":1,\"log\":[]")),
            "the quote gives 'log' twice");
  EXPECT_EQ(parseError(edited("\"version\":1", "\"version\":1,\"note\":\"x\"")),
            "the quote has an unknown key 'note'");
  EXPECT_EQ(parseError(
                edited("\"index\":1,", "\"index\":1,\"sha256\":\"" + std::string(64, 'a') + "\",")),
            "the quote's log entry 1 gives 'sha256' twice");
}

TEST_F(QuoteTest, NonceBounds) {
  EXPECT_EQ(nonceProblem(""), "a nonce is required (nonce=HEX)");
  EXPECT_EQ(nonceProblem("zz"), "the nonce must be hex digits");
  EXPECT_EQ(nonceProblem(std::string(31, 'a')),
            "the nonce must be whole bytes: an even number of hex digits, not 31");
  EXPECT_NE(nonceProblem(std::string(30, 'a')), "");
  EXPECT_NE(nonceProblem(std::string(130, 'a')), "");
  EXPECT_EQ(nonceProblem(std::string(32, 'a')), "");
  EXPECT_EQ(nonceProblem(std::string(128, 'a')), "");
}

TEST_F(QuoteTest, TheDeviceKeyIsOwnerOnlyAndNeverOverwritten) {
  std::string why;
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/dev.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(DeviceKey::create(dir_ + "/dev.key", dir_ + "/again.pub", &why));
  EXPECT_NE(why.find("File exists"), std::string::npos) << why;
  ASSERT_EQ(chmod((dir_ + "/dev.key").c_str(), 0640), 0);
  EXPECT_EQ(DeviceKey::load(dir_ + "/dev.key", &why), nullptr);
  EXPECT_NE(why.find("mode 0640"), std::string::npos) << why;
  EXPECT_EQ(DeviceKey::load(dir_ + "/dev.key.pub", &why), nullptr);  // 0644
  ASSERT_EQ(chmod((dir_ + "/dev.key.pub").c_str(), 0600), 0);
  EXPECT_EQ(DeviceKey::load(dir_ + "/dev.key.pub", &why), nullptr);
  EXPECT_NE(why.find("holds no PEM private key"), std::string::npos) << why;
}

}  // namespace
}  // namespace dpuguard::attest
