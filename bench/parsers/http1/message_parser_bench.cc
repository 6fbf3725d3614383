// MessageParser vs bare llhttp (same strict build, no-op callbacks) on the same requests:
// the ratio between the two is what our wrapper costs. Run: make bench.
#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <string>

#include "parsers/http1/message_parser.h"

namespace {

const std::string kChatRequest =
    "POST /v1/chat/completions HTTP/1.1\r\nHost: inference.internal\r\nUser-Agent: openai-python/1.30\r\n"
    "Accept: application/json\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-xxxxxxxxxxxxxxxx\r\n"
    "X-Request-Id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0\r\nContent-Length: 64\r\n\r\n" +
    std::string(64, 'x');

const std::string kSmallGet = "GET /v1/models HTTP/1.1\r\nHost: inference.internal\r\nAccept: */*\r\n\r\n";

void BM_LlhttpBaseline(benchmark::State& state, const std::string& req) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  llhttp_t parser;
  for (auto _ : state) {
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    benchmark::DoNotOptimize(llhttp_execute(&parser, req.data(), req.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * req.size()));
}

void BM_MessageParser(benchmark::State& state, const std::string& req) {
  dpuguard::http1::MessageParser parser(dpuguard::http1::MessageParser::Kind::kRequest, {});
  dpuguard::http1::NullBodySink sink;
  for (auto _ : state) {
    parser.reset();
    size_t pos = 0;
    for (int i = 0; i < 4; ++i) {  // head, then body/end
      auto r = parser.feed(std::string_view(req).substr(pos), sink);
      pos += r.consumed;
      if (r.status == dpuguard::http1::ParseStatus::kMessageComplete) break;
    }
    benchmark::DoNotOptimize(parser.head().headers.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * req.size()));
}

BENCHMARK_CAPTURE(BM_LlhttpBaseline, small_get, kSmallGet);
BENCHMARK_CAPTURE(BM_MessageParser, small_get, kSmallGet);
BENCHMARK_CAPTURE(BM_LlhttpBaseline, chat_post, kChatRequest);
BENCHMARK_CAPTURE(BM_MessageParser, chat_post, kChatRequest);

}  // namespace
