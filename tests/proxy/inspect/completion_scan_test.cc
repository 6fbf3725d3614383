// CompletionScan: a blocking match in a streamed answer cuts it before the event that completes
// it, however the text is split into events (Vectorscan 5.4.9's stream scan lost matches fed
// 1-2 bytes at a time, and a token is 1-4 bytes); the verdict is the block-mode verdict over
// the whole text; escapes are decoded first; canaries are per route; nothing is scanned, and
// nothing costs, where no completion rule applies.
#include "proxy/inspect/completion_scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace dpuguard::proxy::inspect {
namespace {

constexpr uint8_t kCompletionBit = 1u << static_cast<unsigned>(Where::kCompletion);

Signature rule(const char* id, const char* pattern,
               SignatureAction action = SignatureAction::kBlock, uint8_t where = kCompletionBit) {
  Signature s;
  s.id = id;
  s.pattern = pattern;
  s.where = where;
  s.action = action;
  s.severity = "critical";
  s.caseless = false;
  return s;
}

// Completion rules, a canary on route 0 ("chat") and one on route 1 ("other"). `where` lets
// the reference set compile the same rules in block mode (as prompt rules).
std::vector<Signature> rules(uint8_t where = kCompletionBit) {
  std::vector<Signature> sigs = {
      rule("t-aws", "\\bAKIA[0-9A-Z]{16}", SignatureAction::kBlock, where),
      rule("t-drop", ";\\s*drop\\s+table", SignatureAction::kBlock, where),
      rule("t-jwt", "\\beyJ[A-Za-z0-9_-]{4,}\\.eyJ", SignatureAction::kAlert, where),
      rule("t-end", "the end$", SignatureAction::kBlock, where),
  };
  sigs.push_back(canarySignature("chat", 0, 1, "CANARY-7f3a-9b21"));
  sigs.push_back(canarySignature("other", 1, 1, "OTHER-CANARY-1234"));
  for (Signature& s : sigs) s.where = where;
  return sigs;
}

std::shared_ptr<const SignatureSet> compiled(std::vector<Signature> sigs) {
  ConfigError error;
  auto set = SignatureSet::compile(std::move(sigs), &error);
  EXPECT_NE(set, nullptr) << error.toString();
  return set;
}

std::string jsonEscaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", c);
      out += hex;
      continue;
    }
    out += c;
  }
  return out;
}

// One OpenAI chat.completion.chunk event's data carrying `content` (already JSON text).
std::string chunkJson(std::string_view content_json, int choice = 0,
                      const char* field = "content") {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":)" +
         std::to_string(choice) + R"(,"delta":{")" + field + R"(":")" + std::string(content_json) +
         R"("},"logprobs":null,"finish_reason":null}]})";
}

struct Outcome {
  bool blocked = false;
  size_t forwarded = 0;        // events forwarded before the cut
  std::string forwarded_text;  // their text
  Matches m;
  uint64_t short_writes = 0;
};

// Runs `texts` as one event each (choice 0 content), then [DONE], on route `route`.
Outcome stream(const SignatureSet& set, const std::vector<std::string>& texts, int route = 0) {
  SignatureScratch scratch;
  json::CompletionChunkParser parser(1 << 16);
  CompletionScan scan;
  Outcome o;
  scan.start(&set, scratch.forSet(set), route);
  for (const std::string& t : texts) {
    if (scan.onEvent(chunkJson(jsonEscaped(t)), parser, o.m) == EventVerdict::kBlock) break;
    ++o.forwarded;
    o.forwarded_text += t;
  }
  if (!scan.blocked()) scan.onEvent("[DONE]", parser, o.m);
  scan.finish(o.m);
  o.blocked = scan.blocked();
  o.short_writes = scan.shortWrites();
  return o;
}

std::vector<std::string> split(std::string_view text, const std::vector<size_t>& sizes) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t i = 0; at < text.size(); ++i) {
    const size_t n = sizes.empty() ? 1 : sizes[i % sizes.size()];
    out.emplace_back(text.substr(at, n));
    at += n;
  }
  return out;
}

// The block-mode reference over `text` on route `route`: the length of the shortest prefix
// with a blocking match (patterns end on their last byte, so that is where the match
// completes), or 0. The end-anchored rule (t-end, `$`) is left out: the stream can only know
// it at the end, which the caller checks on its own.
size_t firstBlockEnd(const SignatureSet& reference, std::string_view text, int route) {
  SignatureScratch scratch;
  for (size_t n = 1; n <= text.size(); ++n) {
    Matches m;
    reference.scan(Where::kPrompt, text.substr(0, n), scratch.forSet(reference), m);
    for (size_t i = 0; i < m.count; ++i) {
      const Signature& sig = reference.signatures()[m.ids[i]];
      if (sig.action != SignatureAction::kBlock || (sig.route >= 0 && sig.route != route)) continue;
      if (sig.id != "t-end") return n;
    }
  }
  return 0;
}

// The shipped-like rules compiled once per test, with the scan's companions.
class CompletionScanTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(set, nullptr); }

  const std::shared_ptr<const SignatureSet> set = compiled(rules());
  SignatureScratch scratch;
  json::CompletionChunkParser parser{1 << 16};
  CompletionScan scan;
  Matches m;
};

TEST(CompletionScan, InactiveWhereNoCompletionRuleApplies) {
  SignatureScratch scratch;
  json::CompletionChunkParser parser(1 << 16);
  Matches m;
  CompletionScan scan;
  scan.start(nullptr, nullptr, 0);
  EXPECT_FALSE(scan.active());
  EXPECT_EQ(scan.onEvent(chunkJson("AKIAABCDEFGHIJKLMNOP"), parser, m), EventVerdict::kForward);

  std::vector<Signature> body_only = {rule("t-aws", "\\bAKIA[0-9A-Z]{16}", SignatureAction::kBlock,
                                           1u << static_cast<unsigned>(Where::kBody))};
  const auto body = compiled(std::move(body_only));
  ASSERT_NE(body, nullptr);
  EXPECT_FALSE(body->scans(Where::kCompletion));
  scan.start(body.get(), scratch.forSet(*body), 0);
  EXPECT_FALSE(scan.active());
  EXPECT_FALSE(scan.scanWhole(R"({"choices":[{"message":{"content":"AKIAABCDEFGHIJKLMNOP"}}]})", 0,
                              parser, m));
  EXPECT_EQ(m.count, 0u);

  // Canaries only: active on their route, not on another.
  std::vector<Signature> canaries = {canarySignature("chat", 1, 1, "CANARY-7f3a-9b21")};
  const auto only = compiled(std::move(canaries));
  ASSERT_NE(only, nullptr);
  scan.start(only.get(), scratch.forSet(*only), 0);
  EXPECT_FALSE(scan.active());
  scan.start(only.get(), scratch.forSet(*only), 1);
  EXPECT_TRUE(scan.active());
}

TEST(CompletionScan, ACredentialOneCharacterPerEventIsCutBeforeItsLastCharacter) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  const std::string text = "Here it is: AKIAIOSFODNN7EXAMPLE and more text after it.";
  const Outcome o = stream(*set, split(text, {1}));
  EXPECT_TRUE(o.blocked);
  const size_t key_end = text.find("AKIA") + 20;
  EXPECT_EQ(o.forwarded_text, text.substr(0, key_end - 1));  // all but the key's last character
  ASSERT_GE(o.m.block, 0);
  EXPECT_EQ(set->signatures()[static_cast<size_t>(o.m.block)].id, "t-aws");
  EXPECT_EQ(o.short_writes, 0u);
}

TEST(CompletionScan, ASecretSplitAcrossTwoEventsIsCutBeforeTheSecond) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  const Outcome o = stream(*set, {"The key: AKIAIOSF", "ODNN7EXAMPLE", " ok"});
  EXPECT_TRUE(o.blocked);
  EXPECT_EQ(o.forwarded, 1u);
  EXPECT_EQ(o.forwarded_text.find("ODNN7EXAMPLE"), std::string::npos);
}

TEST(CompletionScan, EverySplitGivesTheBlockModeVerdictAndCutsAtTheCompletingEvent) {
  const auto set = compiled(rules());
  const auto reference = compiled(rules(1u << static_cast<unsigned>(Where::kPrompt)));
  ASSERT_NE(set, nullptr);
  ASSERT_NE(reference, nullptr);
  std::mt19937 rng(11);
  const char* secrets[] = {
      "AKIAIOSFODNN7EXAMPLE", "; drop  table",       "CANARY-7f3a-9b21", "OTHER-CANARY-1234",
      "eyJhbGci.eyJzdWIi",    "AKIAIOSFODNN7EXAMPL", "the end"};
  for (int t = 0; t < 2000; ++t) {
    std::string text(20 + rng() % 200, 'x');
    for (char& c : text) c = "xa ;{\"\\\tAKIA0"[rng() % 13];
    const std::string secret = secrets[rng() % std::size(secrets)];
    if (t % 4 != 3) text.insert(rng() % text.size(), secret);
    if (t % 7 == 0) text += "the end";
    std::vector<size_t> sizes;
    for (int i = 0; i < 16; ++i) sizes.push_back(t % 3 == 0 ? 1 + rng() % 2 : 1 + rng() % 40);
    const int route = static_cast<int>(rng() % 2);
    const size_t end = firstBlockEnd(*reference, text, route);
    const bool at_end = text.ends_with("the end");  // t-end: known only at [DONE]
    for (const auto& cut : {split(text, {1}), split(text, sizes), std::vector<std::string>{text}}) {
      const Outcome o = stream(*set, cut, route);
      ASSERT_EQ(o.blocked, end != 0 || at_end) << "case " << t << ": " << text;
      ASSERT_EQ(o.short_writes, 0u);
      if (end == 0) {  // passed whole, or cut only at [DONE]
        ASSERT_EQ(o.forwarded_text, text) << "case " << t;
        continue;
      }
      // Forwarded: exactly the events before the one holding the match's last byte.
      size_t before = 0, at = 0;
      while (before < cut.size() && at + cut[before].size() < end) at += cut[before++].size();
      ASSERT_EQ(o.forwarded, before) << "case " << t << ": " << text;
      ASSERT_EQ(o.forwarded_text, text.substr(0, at)) << "case " << t;
    }
  }
}

TEST(CompletionScan, AnAlertIsCountedAndNotBlocked) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  const Outcome o = stream(*set, split("the token eyJhbGciOi.eyJzdWIiOi is a JWT", {3}));
  EXPECT_FALSE(o.blocked);
  EXPECT_EQ(o.forwarded_text, "the token eyJhbGciOi.eyJzdWIiOi is a JWT");
  ASSERT_EQ(o.m.count, 1u);
  EXPECT_EQ(set->signatures()[o.m.ids[0]].id, "t-jwt");
  EXPECT_EQ(o.m.block, -1);
}

TEST_F(CompletionScanTest, EscapesAreDecodedBeforeTheScan) {
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("key \\u0041KIA"), parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson("IOSFODNN7EXAMP"), parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson("L\\u0045"), parser, m), EventVerdict::kBlock);
  // A surrogate pair: the canary is matched in UTF-8.
  std::vector<Signature> emoji = {canarySignature("chat", 0, 1, "leak-\xF0\x9F\x98\x80-canary")};
  const auto e = compiled(std::move(emoji));
  ASSERT_NE(e, nullptr);
  Matches m2;
  scan.start(e.get(), scratch.forSet(*e), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("leak-\\ud83d"), parser, m2),
            EventVerdict::kForward);  // a lone surrogate
  scan.start(e.get(), scratch.forSet(*e), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("leak-\\ud83d\\ude00"), parser, m2), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson("-canary"), parser, m2), EventVerdict::kBlock);
  EXPECT_EQ(e->signatures()[static_cast<size_t>(m2.block)].id, "dpg-leak-chat-1");
}

TEST(CompletionScan, CanariesBelongToTheirRoute) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  const std::vector<std::string> leak = split("The instructions say CANARY-7f3a-9b21 here", {4});
  const Outcome chat = stream(*set, leak, 0);
  EXPECT_TRUE(chat.blocked);
  EXPECT_EQ(set->signatures()[static_cast<size_t>(chat.m.block)].id, "dpg-leak-chat-1");
  EXPECT_EQ(set->signatures()[static_cast<size_t>(chat.m.block)].severity, "critical");
  const Outcome other = stream(*set, leak, 1);
  EXPECT_FALSE(other.blocked);
  EXPECT_EQ(other.m.count, 0u);
  // Case-sensitive, and a literal: regex syntax in a canary is just bytes.
  EXPECT_FALSE(stream(*set, {"canary-7f3a-9b21"}, 0).blocked);
  std::vector<Signature> regexy = {canarySignature("chat", 0, 1, "a.b*c(d)[e]")};
  const auto r = compiled(std::move(regexy));
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(stream(*r, {"axbbbcd e"}, 0).blocked);
  EXPECT_TRUE(stream(*r, {"say a.b*c(d)[e] now"}, 0).blocked);
}

TEST_F(CompletionScanTest, ChoicesToolCallsAndReasoningAreScannedEachOnItsOwn) {
  // n = 2, interleaved: choice 1's key is split across its events, choice 0's between them.
  scan.start(set.get(), scratch.forSet(*set), 0);
  const char* one[] = {"AKIA", "IOSF", "ODNN", "7EXA", "MPLE"};
  EventVerdict last = EventVerdict::kForward;
  for (const char* piece : one) {
    ASSERT_EQ(scan.onEvent(chunkJson("zz", 0), parser, m), EventVerdict::kForward);
    last = scan.onEvent(chunkJson(piece, 1), parser, m);
  }
  EXPECT_EQ(last, EventVerdict::kBlock);
  // Two fields of one choice are not one text: no match across content and reasoning.
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("AKIAIOSF", 0, "reasoning_content"), parser, m),
            EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson("ODNN7EXAMPLE", 0, "content"), parser, m),
            EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson("ODNN7EXAMPLE", 0, "reasoning_content"), parser, m),
            EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson(" AKIAIOSFODNN7EXAMPLE", 0, "reasoning"), parser, m),
            EventVerdict::kBlock);
  // Tool-call arguments, streamed.
  scan.start(set.get(), scratch.forSet(*set), 0);
  auto tool = [](const char* args) {
    return std::string(
               R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":")") +
           args + "\"}}]}}]}";
  };
  EXPECT_EQ(scan.onEvent(tool("{\\\"key\\\": \\\"AKIAIOSF"), parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(tool("ODNN7EXAMPLE\\\"}"), parser, m), EventVerdict::kBlock);
}

TEST_F(CompletionScanTest, AnEventWithAFieldGivenTwiceIsCut) {
  // A client keeps the last "content" ("AKIA", "IOSF", ...): the scan cannot know which the
  // client reads, so it does not forward it.
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(R"({"choices":[{"delta":{"content":"z","content":"AKIA"}}]})", parser, m),
            EventVerdict::kBlock);
  EXPECT_TRUE(scan.blocked());
  EXPECT_LT(m.block, 0);  // no rule: unreadable
  scan.start(set.get(), scratch.forSet(*set), 0);
  const std::string whole =
      R"({"choices":[{"message":{"content":"ok","content":"AKIAIOSFODNN7EXAMPLE"}}]})" +
      std::string(64, '\0');
  EXPECT_TRUE(
      scan.scanWhole(std::string_view(whole.data(), whole.size() - 64), whole.size(), parser, m));
}

TEST_F(CompletionScanTest, AnEventThatIsNotJsonIsScannedAsItIs) {
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent("not json AKIAIOSF", parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent("ODNN7EXAMPLE", parser, m), EventVerdict::kBlock);
}

TEST_F(CompletionScanTest, EndAnchoredMatchesAreCheckedBeforeDone) {
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("and that is the end"), parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent("[DONE]", parser, m), EventVerdict::kBlock);
  EXPECT_TRUE(scan.finish(m));
  // Without [DONE], finish() reports it.
  Matches m2;
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("the end"), parser, m2), EventVerdict::kForward);
  EXPECT_TRUE(scan.finish(m2));
  EXPECT_GE(m2.block, 0);
}

TEST(CompletionScan, EachAnswerStartsAfresh) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  SignatureScratch scratch;
  json::CompletionChunkParser parser(1 << 16);
  CompletionScan scan;
  for (int i = 0; i < 3; ++i) {
    Matches m;
    scan.start(set.get(), scratch.forSet(*set), 0);
    EXPECT_EQ(scan.onEvent(chunkJson("a long enough answer that ends in AKIAIOSF"), parser, m),
              EventVerdict::kForward);
    // no [DONE]: the next answer must not continue this one's text
  }
  Matches m;
  scan.start(set.get(), scratch.forSet(*set), 0);
  EXPECT_EQ(scan.onEvent(chunkJson("ODNN7EXAMPLE"), parser, m), EventVerdict::kForward);
  EXPECT_EQ(scan.onEvent(chunkJson(" AKIAIOSFODNN7EXAMPLE"), parser, m), EventVerdict::kBlock);
  scan.start(set.get(), scratch.forSet(*set), 0);  // a blocked answer is over too
  EXPECT_FALSE(scan.blocked());
  EXPECT_EQ(scan.onEvent(chunkJson("fine"), parser, m), EventVerdict::kForward);
}

// A scan that cannot run passes nothing: here Vectorscan refuses a missing scratch.
TEST(CompletionScan, FailsClosed) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  json::CompletionChunkParser parser(1 << 16);
  CompletionScan scan;
  Matches m;
  scan.start(set.get(), nullptr, 0);
  EXPECT_EQ(scan.onEvent(chunkJson("harmless"), parser, m), EventVerdict::kBlock);
  EXPECT_TRUE(scan.blocked());
  EXPECT_EQ(m.block, -1);  // no rule: the log says the scan failed
}

TEST(CompletionScan, AWholeAnswerIsBlockedOrPassed) {
  const auto set = compiled(rules());
  ASSERT_NE(set, nullptr);
  SignatureScratch scratch;
  json::CompletionChunkParser parser(1 << 16);
  CompletionScan scan;
  auto whole = [&](std::string_view body, int route = 0) {
    Matches m;
    scan.start(set.get(), scratch.forSet(*set), route);
    return scan.scanWhole(body, body.size(), parser, m);
  };
  EXPECT_TRUE(whole(
      R"({"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"use \u0041KIAIOSFODNN7EXAMPLE"}}]})"));
  EXPECT_FALSE(whole(
      R"({"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"use AKIA keys"}}]})"));
  EXPECT_TRUE(
      whole(R"({"object":"text_completion","choices":[{"index":0,"text":"CANARY-7f3a-9b21"}]})"));
  EXPECT_FALSE(whole(
      R"({"object":"text_completion","choices":[{"index":0,"text":"CANARY-7f3a-9b21"}]})", 1));
  EXPECT_TRUE(whole("plain text AKIAIOSFODNN7EXAMPLE"));  // not JSON: the body as it is
  // Pieces of different choices are not one text; "$" means the end of a piece's text.
  EXPECT_FALSE(
      whole(R"({"choices":[{"index":0,"text":"AKIAIOSF"},{"index":1,"text":"ODNN7EXAMPLE"}]})"));
  EXPECT_TRUE(whole(R"({"choices":[{"index":0,"message":{"content":"this is the end"}}]})"));
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
