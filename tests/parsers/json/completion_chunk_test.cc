// CompletionChunkParser: counting generated pieces and reading usage, from real server shapes.
#include "parsers/json/completion_chunk.h"

#include <gtest/gtest.h>

namespace dpuguard::json {
namespace {

CompletionChunk read(std::string_view json, bool* ok = nullptr) {
  CompletionChunkParser p(1 << 16);
  CompletionChunk c;
  const bool parsed = p.parse(json, json.size(), c);
  if (ok) *ok = parsed;
  return c;
}

TEST(CompletionChunk, CountsAStreamedChatToken) {
  const CompletionChunk c = read(
      R"({"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" Hello"},"finish_reason":null}]})");
  EXPECT_EQ(c.text_pieces, 1u);
  EXPECT_FALSE(c.has_usage);
}

TEST(CompletionChunk, RoleOnlyAndEmptyDeltasAreNotTokens) {
  EXPECT_EQ(
      read(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})").text_pieces,
      0u);
  EXPECT_EQ(read(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})").text_pieces, 0u);
}

TEST(CompletionChunk, CountsEveryChoiceAndEveryKindOfOutput) {
  EXPECT_EQ(read(R"({"choices":[{"text":"a"},{"text":"b"}]})").text_pieces, 2u);
  EXPECT_EQ(read(R"({"choices":[{"delta":{"reasoning_content":"hmm"}}]})").text_pieces, 1u);
  EXPECT_EQ(
      read(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]})")
          .text_pieces,
      1u);
}

TEST(CompletionChunk, ReadsUsageFromTheFinalChunkOrAWholeCompletion) {
  CompletionChunk c = read(
      R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})");
  EXPECT_TRUE(c.has_usage);
  EXPECT_EQ(c.prompt_tokens, 12u);
  EXPECT_EQ(c.completion_tokens, 34u);
  c = read(
      R"({"object":"chat.completion","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
  EXPECT_EQ(c.text_pieces, 1u);
  EXPECT_EQ(c.completion_tokens, 1u);
  // vLLM's continuous usage stats: usage null on most chunks.
  EXPECT_FALSE(read(R"({"choices":[],"usage":null})").has_usage);
  EXPECT_FALSE(read(R"({"usage":{"completion_tokens":-3}})").has_usage);
}

TEST(CompletionChunk, RefusesWhatIsNotAnObject) {
  bool ok = true;
  read("[DONE]", &ok);
  EXPECT_FALSE(ok);
  read("[1,2]", &ok);
  EXPECT_FALSE(ok);
  read(R"({"choices":"nope","usage":7})", &ok);
  EXPECT_TRUE(ok);  // an object with odd fields: nothing counted, nothing trusted
}

// The generated text, as the output guardrails read it: "piece|piece|..." with the channel
// (c content, f refusal, r reasoning, t tool arguments), choice and tool of each.
std::string text(std::string_view json, bool* ok = nullptr) {
  static CompletionChunkParser p(1 << 16);
  CompletionChunk c;
  GeneratedText t;
  t.bytes = "stale";  // cleared by parse
  const bool parsed = p.parse(json, json.size(), c, &t);
  if (ok) *ok = parsed;
  std::string out;
  for (const OutputPiece& piece : t.pieces) {
    out += out.empty() ? "" : "|";
    out += "cfrt"[static_cast<int>(piece.channel)];
    out += std::to_string(piece.choice) + "." + std::to_string(piece.tool) + ":" +
           std::string(t.piece(piece));
    if (t.bytes[piece.offset + piece.size] != '\0') return "no NUL after a piece";
  }
  if (t.bytes.size() > json.size()) return "longer than the JSON";
  return out;
}

TEST(CompletionChunkText, DeltaContentDecoded) {
  EXPECT_EQ(text(R"({"choices":[{"index":0,"delta":{"content":"\u0041KIA \"q\" \\ \n"}}]})"),
            "c0.0:AKIA \"q\" \\ \n");
  // A surrogate pair is one code point, in UTF-8.
  EXPECT_EQ(text(R"({"choices":[{"delta":{"content":"\ud83d\ude00!"}}]})"),
            "c0.0:\xF0\x9F\x98\x80!");
  EXPECT_EQ(text(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})"), "");
  EXPECT_EQ(
      text(
          R"({"choices":[{"delta":{"content":null},"finish_reason":"stop"}],"usage":{"completion_tokens":3}})"),
      "");
}

TEST(CompletionChunkText, EveryKindOfOutputWithItsChoice) {
  EXPECT_EQ(text(R"({"choices":[{"index":3,"text":"legacy"}]})"), "c3.0:legacy");
  EXPECT_EQ(text(R"({"choices":[{"text":"a"},{"text":"b"}]})"),
            "c0.0:a|c1.0:b");  // no index: position
  EXPECT_EQ(text(R"({"choices":[{"index":1,"delta":{"reasoning_content":"hmm","content":"ok"}}]})"),
            "r1.0:hmm|c1.0:ok");
  EXPECT_EQ(text(R"({"choices":[{"delta":{"reasoning":"so"}}]})"), "r0.0:so");
  EXPECT_EQ(text(R"({"choices":[{"delta":{"refusal":"no"}}]})"), "f0.0:no");
  EXPECT_EQ(
      text(
          R"({"choices":[{"delta":{"tool_calls":[{"index":2,"function":{"arguments":"{\"a\":"}}]}}]})"),
      "t0.2:{\"a\":");
  EXPECT_EQ(
      text(
          R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},{"function":{"arguments":"[1]"}}]}}]})"),
      "t0.0:{}|t0.1:[1]");
  EXPECT_EQ(
      text(R"({"choices":[{"message":{"function_call":{"name":"f","arguments":"{\"x\":1}"}}}]})"),
      "t0.0:{\"x\":1}");
  EXPECT_EQ(
      text(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"}}]})"),
      "c0.0:whole answer");
}

TEST(CompletionChunkText, HostileShapesAreReadNotTrusted) {
  // A key given twice is read twice (a client may keep the last), and the text is ambiguous.
  EXPECT_EQ(text(R"({"choices":[{"delta":{"content":"benign","content":"AKIA"}}]})"),
            "c0.0:benign|c0.0:AKIA");
  EXPECT_EQ(text(R"({"choices":[{"index":99999999999,"text":"x"}]})"), "c4294967295.0:x");
  EXPECT_EQ(
      text(R"({"choices":[{"index":-1,"text":"x"},7,{"delta":"s"},{"delta":{"content":5}}]})"),
      "c0.0:x");
  bool ok = true;
  EXPECT_EQ(text("[DONE]", &ok), "");
  EXPECT_FALSE(ok);
  EXPECT_EQ(text(R"({"choices":[{"delta":{"content":"\ud800"}}]})", &ok),
            "");  // a lone surrogate: not JSON
  EXPECT_FALSE(ok);
  EXPECT_EQ(text(R"({"choices":[{"delta":{"content":"x"}}]} trailing)", &ok), "");
  EXPECT_FALSE(ok);
}

TEST(CompletionChunkText, AFieldGivenTwiceMakesTheTextAmbiguous) {
  CompletionChunkParser parser(1 << 16);
  CompletionChunk chunk;
  GeneratedText t;
  for (
      const char* twice :
      {R"({"choices":[{"delta":{"content":"z","content":"AKIA"}}]})",
       R"({"choices":[{"index":0,"delta":{"content":"a"},"delta":{"content":"b"}}]})",
       R"({"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"a","arguments":"b"}}]}}]})",
       R"({"choices":[{"message":{"content":[{"type":"text","text":"a","text":"b"}]}}]})"}) {
    const std::string json = twice;
    ASSERT_TRUE(parser.parse(json, json.size(), chunk, &t)) << twice;
    EXPECT_TRUE(t.ambiguous) << twice;
  }
  const std::string once =
      R"({"choices":[{"delta":{"content":"a","role":"assistant"}},{"delta":{"content":"b"}}]})";
  ASSERT_TRUE(parser.parse(once, once.size(), chunk, &t));
  EXPECT_FALSE(t.ambiguous);  // the same key in two objects is not twice
}

TEST(CompletionChunkText, ContentGivenAsPartsIsRead) {
  EXPECT_EQ(
      text(R"({"choices":[{"message":{"content":[{"type":"text","text":"key AKIA"},)"
           R"({"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"IOSF"}]}}]})"),
      "c0.0:key AKIA|c0.0:IOSF");
}

}  // namespace
}  // namespace dpuguard::json
