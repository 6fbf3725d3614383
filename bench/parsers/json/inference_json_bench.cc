// The JSON views' throughput (parsers/json): an OpenAI chat request read by
// InferenceRequestParser (full simdjson DOM validation + the fields inspection uses), and a
// streamed completion chunk read by CompletionChunkParser. Baseline in the same run: simdjson
// alone parsing the same bytes (what validation costs before our own field walk).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>

#include "parsers/json/completion_chunk.h"
#include "parsers/json/inference_request.h"

namespace dpuguard::json {
namespace {

std::string chatBody(size_t n) {
  const std::string p =
      "The data processing unit sits between the network and the host, so the inspection proxy sees every "
      "request before the inference server does. ";
  std::string content;
  while (content.size() < n) content += p;
  content.resize(n);
  return R"({"model":"llama-3-8b-instruct","max_tokens":256,"stream":true,"stream_options":{"include_usage":true},)"
         R"("messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":")" +
         content + R"("}],"temperature":0.2,"top_p":0.9})";
}

void BM_InferenceRequest(benchmark::State& state) {
  std::string body = chatBody(static_cast<size_t>(state.range(0)));
  const size_t size = body.size();
  body.resize(size + kJsonPadding);
  InferenceRequestParser parser(1 << 24);
  InferenceRequest view;
  for (auto _ : state) {
    if (parser.parse(InferenceApi::kChatCompletions, std::string_view(body.data(), size), body.size(), view) !=
        RequestError::kNone) {
      state.SkipWithError("parse failed");
    }
    benchmark::DoNotOptimize(view.prompt_bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_InferenceRequest)->Arg(4096)->Arg(65536);

void BM_BaselineSimdjsonDom(benchmark::State& state) {
  std::string body = chatBody(static_cast<size_t>(state.range(0)));
  const size_t size = body.size();
  body.resize(size + simdjson::SIMDJSON_PADDING);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(body.data(), size, false).get(doc)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_BaselineSimdjsonDom)->Arg(4096)->Arg(65536);

void BM_CompletionChunk(benchmark::State& state) {
  const std::string chunk =
      R"({"id":"chatcmpl-9f2","object":"chat.completion.chunk","created":1732190000,"model":"llama-3-8b-instruct",)"
      R"("choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]})";
  CompletionChunkParser parser(1 << 16);
  CompletionChunk c;
  for (auto _ : state) {
    parser.parse(chunk, chunk.size(), c);
    benchmark::DoNotOptimize(c.text_pieces);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CompletionChunk);

}  // namespace
}  // namespace dpuguard::json
