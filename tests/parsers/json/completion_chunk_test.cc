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
  const CompletionChunk c = read(R"({"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" Hello"},"finish_reason":null}]})");
  EXPECT_EQ(c.text_pieces, 1u);
  EXPECT_FALSE(c.has_usage);
}

TEST(CompletionChunk, RoleOnlyAndEmptyDeltasAreNotTokens) {
  EXPECT_EQ(read(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})").text_pieces, 0u);
  EXPECT_EQ(read(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})").text_pieces, 0u);
}

TEST(CompletionChunk, CountsEveryChoiceAndEveryKindOfOutput) {
  EXPECT_EQ(read(R"({"choices":[{"text":"a"},{"text":"b"}]})").text_pieces, 2u);
  EXPECT_EQ(read(R"({"choices":[{"delta":{"reasoning_content":"hmm"}}]})").text_pieces, 1u);
  EXPECT_EQ(read(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}}]})").text_pieces, 1u);
}

TEST(CompletionChunk, ReadsUsageFromTheFinalChunkOrAWholeCompletion) {
  CompletionChunk c = read(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})");
  EXPECT_TRUE(c.has_usage);
  EXPECT_EQ(c.prompt_tokens, 12u);
  EXPECT_EQ(c.completion_tokens, 34u);
  c = read(R"({"object":"chat.completion","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}})");
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

}  // namespace
}  // namespace dpuguard::json
