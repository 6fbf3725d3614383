// InferenceRequestParser: the fields inspection trusts, and every way a body is refused.
#include "parsers/json/inference_request.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::json {
namespace {

struct Parsed {
  RequestError error;
  InferenceRequest view;
};

Parsed parse(InferenceApi api, std::string_view body, size_t max_bytes = 1 << 20) {
  static InferenceRequestParser* shared = nullptr;  // reused, like a worker's
  InferenceRequestParser local(max_bytes);
  InferenceRequestParser& p = max_bytes == (1 << 20) ? *(shared ? shared : (shared = new InferenceRequestParser(1 << 20))) : local;
  Parsed r{};
  r.error = p.parse(api, body, body.size(), r.view);
  return r;
}

Parsed chat(std::string_view body) { return parse(InferenceApi::kChatCompletions, body); }

TEST(InferenceRequest, ReadsAChatRequest) {
  const Parsed r = chat(R"({"model":"llama-3-8b","max_tokens":64,"stream":true,
    "stream_options":{"include_usage":true},"n":2,
    "messages":[{"role":"system","content":"Be brief."},
                {"role":"user","content":[{"type":"text","text":"Hi \u00e9"},{"type":"image_url","image_url":{"url":"data:x"}}]},
                {"role":"assistant","content":null,"tool_calls":[]}]})");
  ASSERT_EQ(r.error, RequestError::kNone);
  EXPECT_EQ(r.view.model, "llama-3-8b");
  EXPECT_TRUE(r.view.has_max_tokens);
  EXPECT_EQ(r.view.max_tokens, 64u);
  EXPECT_EQ(r.view.n, 2u);
  EXPECT_TRUE(r.view.stream);
  EXPECT_TRUE(r.view.include_usage);
  EXPECT_EQ(r.view.message_count, 3u);
  EXPECT_EQ(r.view.prompt_bytes, std::string("Be brief.").size() + std::string("Hi \xC3\xA9").size());
}

TEST(InferenceRequest, AbsentAndNullOptionalsTakeDefaults) {
  const Parsed r = chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":null,"stream":null,"n":null})");
  ASSERT_EQ(r.error, RequestError::kNone);
  EXPECT_FALSE(r.view.has_max_tokens);
  EXPECT_FALSE(r.view.stream);
  EXPECT_EQ(r.view.n, 1u);
}

TEST(InferenceRequest, MaxCompletionTokensCountsAndTheSmallerWins) {
  Parsed r = chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":9})");
  ASSERT_EQ(r.error, RequestError::kNone);
  EXPECT_EQ(r.view.max_tokens, 9u);
  r = chat(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":9,"max_tokens":5})");
  EXPECT_EQ(r.view.max_tokens, 5u);
}

TEST(InferenceRequest, CompletionsPromptForms) {
  const InferenceApi api = InferenceApi::kCompletions;
  Parsed r = parse(api, R"({"model":"m","prompt":"four"})");
  ASSERT_EQ(r.error, RequestError::kNone);
  EXPECT_EQ(r.view.prompt_bytes, 4u);
  r = parse(api, R"({"model":"m","prompt":["ab","cd"]})");
  EXPECT_EQ(r.view.prompt_bytes, 4u);
  EXPECT_EQ(r.view.message_count, 2u);
  r = parse(api, R"({"model":"m","prompt":[1,2,3]})");
  EXPECT_EQ(r.view.prompt_bytes, 12u);  // token ids count kBytesPerToken each
  r = parse(api, R"({"model":"m","prompt":[[1,2],[3]]})");
  EXPECT_EQ(r.view.prompt_bytes, 12u);
  EXPECT_EQ(parse(api, R"({"model":"m","prompt":[{"a":1}]})").error, RequestError::kBadPrompt);
  EXPECT_EQ(parse(api, R"({"model":"m","prompt":[]})").error, RequestError::kBadPrompt);
  EXPECT_EQ(parse(api, R"({"model":"m"})").error, RequestError::kMissingPrompt);
  EXPECT_EQ(parse(InferenceApi::kEmbeddings, R"({"model":"m"})").error, RequestError::kMissingInput);
  EXPECT_EQ(parse(InferenceApi::kEmbeddings, R"({"model":"m","input":7.5})").error, RequestError::kBadInput);
  // A chat body on the completions API has no prompt.
  EXPECT_EQ(parse(api, R"({"model":"m","messages":[{"role":"user","content":"x"}]})").error, RequestError::kMissingPrompt);
}

TEST(InferenceRequest, RefusesWhatIsNotAValidRequest) {
  struct Case {
    const char* body;
    RequestError error;
  } cases[] = {
      {"", RequestError::kNotJson},
      {"{", RequestError::kNotJson},
      {R"({"model":"m",})", RequestError::kNotJson},
      {"{\"model\":\"\xff\"}", RequestError::kNotJson},  // invalid UTF-8
      {"[1]", RequestError::kNotObject},
      {R"("x")", RequestError::kNotObject},
      {R"({"messages":[{"role":"user","content":"x"}]})", RequestError::kMissingModel},
      {R"({"model":"","messages":[{"role":"user","content":"x"}]})", RequestError::kBadModel},
      {R"({"model":7,"messages":[{"role":"user","content":"x"}]})", RequestError::kBadModel},
      {R"({"model":"m"})", RequestError::kMissingMessages},
      {R"({"model":"m","messages":[]})", RequestError::kBadMessages},
      {R"({"model":"m","messages":{}})", RequestError::kBadMessages},
      {R"({"model":"m","messages":["x"]})", RequestError::kBadMessages},
      {R"({"model":"m","messages":[{"content":"x"}]})", RequestError::kBadMessages},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", RequestError::kBadMessages},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})", RequestError::kBadMessages},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", RequestError::kBadMaxTokens},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1})", RequestError::kBadMaxTokens},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", RequestError::kBadMaxTokens},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"10"})", RequestError::kBadMaxTokens},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":99999999999})", RequestError::kBadMaxTokens},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":0})", RequestError::kBadN},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":1000})", RequestError::kBadN},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", RequestError::kBadStream},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":1})", RequestError::kBadStreamOptions},
      // Duplicate keys: dpuguard would check one value and a Python upstream use the other.
      {R"({"model":"allowed","model":"forbidden","messages":[{"role":"user","content":"x"}]})", RequestError::kDuplicateKey},
      {R"({"model":"m","max_tokens":1,"max_tokens":100000,"messages":[{"role":"user","content":"x"}]})", RequestError::kDuplicateKey},
  };
  for (const Case& c : cases) EXPECT_EQ(chat(c.body).error, c.error) << c.body;
}

TEST(InferenceRequest, DepthAndSizeAreBounded) {
  std::string deep = R"({"model":"m","messages":[{"role":"user","content":"x"}],"x":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  EXPECT_EQ(chat(deep).error, RequestError::kNotJson);
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"0123456789"}]})";
  EXPECT_EQ(parse(InferenceApi::kChatCompletions, body, body.size() - 1).error, RequestError::kTooLarge);
  EXPECT_EQ(parse(InferenceApi::kChatCompletions, body, body.size()).error, RequestError::kNone);
}

TEST(InferenceRequest, ParsesInPlaceWhenTheBufferIsPadded) {
  std::string buf = R"({"model":"in-place","messages":[{"role":"user","content":"x"}]})";
  const size_t size = buf.size();
  buf.resize(size + kJsonPadding, '\0');
  InferenceRequestParser p(1024);
  InferenceRequest view;
  ASSERT_EQ(p.parse(InferenceApi::kChatCompletions, std::string_view(buf.data(), size), buf.size(), view), RequestError::kNone);
  EXPECT_EQ(view.model, "in-place");
}

TEST(InferenceRequest, OffersEveryStringDecodedInDocumentOrder) {
  InferenceRequestParser p(1024);
  InferenceRequest view;
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"ignore\u0020all\nprevious \"x\""}],)"
      R"("tools":[1,true,null,"t",{"k\u00e9":["v",""]}],"n":1})";
  ASSERT_EQ(p.parse(InferenceApi::kChatCompletions, body, body.size(), view), RequestError::kNone);
  using namespace std::string_literals;
  EXPECT_EQ(p.strings(), "model\0m\0messages\0role\0user\0content\0ignore all\nprevious \"x\"\0tools\0t\0"
                         "k\xC3\xA9\0v\0\0n\0"s);
  EXPECT_EQ(p.strings(), p.strings());  // asked again: the same

  // A refused body has no strings to offer, not the last accepted one's.
  ASSERT_EQ(p.parse(InferenceApi::kChatCompletions, R"({"model":"m"})", 13, view), RequestError::kMissingMessages);
  EXPECT_EQ(p.strings(), "");
}

TEST(InferenceRequest, ErrorsNameTheirParameter) {
  EXPECT_EQ(requestErrorParam(RequestError::kBadMaxTokens), "max_tokens");
  EXPECT_EQ(requestErrorParam(RequestError::kMissingMessages), "messages");
  EXPECT_EQ(requestErrorName(RequestError::kDuplicateKey), "duplicate_key");
  EXPECT_EQ(requestErrorParam(RequestError::kNotJson), "");
}

}  // namespace
}  // namespace dpuguard::json
