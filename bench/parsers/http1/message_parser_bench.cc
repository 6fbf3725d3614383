// MessageParser vs raw strict llhttp on a realistic corpus: OpenAI-style inference requests
// with 10-30 headers and JSON bodies, and SSE streaming responses. Two baselines, measured in
// the same run: llhttp with no callbacks (the floor), and llhttp with span callbacks that
// record the head (the least any proxy needs). Heap allocations are counted per message.
// Run: make bench.
#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "parsers/http1/message_parser.h"

// Counts every heap allocation in this process; the parser must make none per message.
static std::atomic<uint64_t> g_allocations{0};
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using dpuguard::http1::MessageParser;
using dpuguard::http1::ParseStatus;

std::string jsonBody(size_t n) {
  std::string b = R"({"model":"llama-3.1-70b-instruct","stream":true,"messages":[{"role":"user","content":")";
  while (b.size() + 4 < n) b += "word ";
  return b + "\"}]}";
}

// One request head with `extra` headers beyond the usual client set, plus its JSON body.
std::string inferenceRequest(int extra, size_t body_bytes, bool with_body) {
  std::string body = jsonBody(body_bytes);
  std::string h = "POST /v1/chat/completions HTTP/1.1\r\nHost: inference.internal:8000\r\n"
                  "User-Agent: OpenAI/Python 1.30.1\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate\r\n"
                  "Content-Type: application/json\r\nAuthorization: Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyz\r\n"
                  "X-Stainless-Lang: python\r\nX-Stainless-Runtime: CPython\r\nX-Request-Id: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\r\n";
  for (int i = 0; i < extra; ++i) {
    h += "X-Trace-Attr-" + std::to_string(i) + ": tenant=team-" + std::to_string(i * 7) + ";zone=us-east-1b\r\n";
  }
  // Heads-only corpus: the same heads without a body (and so without Content-Length).
  if (!with_body) return h + "\r\n";
  return h + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Pipelined corpus: requests with 10, 18 and 30 headers and 300 B - 4 KB bodies.
std::string requestCorpus(bool with_body) {
  std::string s;
  for (int round = 0; round < 8; ++round) {
    s += inferenceRequest(0, 300, with_body);     // 10 headers
    s += inferenceRequest(8, 1200, with_body);    // 18 headers
    s += inferenceRequest(20, 4000, with_body);   // 30 headers
  }
  return s;
}

// A streamed chat completion: chunked SSE, one event per chunk, as vLLM sends it.
std::string sseResponse() {
  std::string s =
      "HTTP/1.1 200 OK\r\ndate: Sat, 21 Nov 2026 10:00:00 GMT\r\nserver: uvicorn\r\n"
      "content-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
  for (int i = 0; i < 64; ++i) {
    std::string ev = "data: {\"id\":\"chatcmpl-42\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                     "\"delta\":{\"content\":\"tok" + std::to_string(i) + "\"}}]}\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", ev.size());
    s += size + ev + "\r\n";
  }
  return s + "0\r\n\r\n";
}

size_t countMessages(const std::string& stream, llhttp_type_t type) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  static size_t n;
  n = 0;
  settings.on_message_complete = [](llhttp_t*) { ++n; return 0; };
  llhttp_t p;
  llhttp_init(&p, type, &settings);
  llhttp_execute(&p, stream.data(), stream.size());
  return n;
}

int noSpan(llhttp_t*, const char*, size_t) { return 0; }

void report(benchmark::State& state, const std::string& stream, size_t messages, uint64_t allocs) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages));
  state.counters["allocs_per_msg"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations() * messages);
}

// Raw strict llhttp over the whole stream; with `spans`, no-op data callbacks are installed
// so llhttp does the span bookkeeping a head-recording user needs.
void runLlhttp(benchmark::State& state, const std::string* stream, llhttp_type_t type, bool spans) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  if (spans) {
    settings.on_method = settings.on_url = settings.on_status = noSpan;
    settings.on_header_field = settings.on_header_value = settings.on_body = noSpan;
  }
  llhttp_t parser;
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    llhttp_init(&parser, type, &settings);
    benchmark::DoNotOptimize(llhttp_execute(&parser, stream->data(), stream->size()));
  }
  report(state, *stream, countMessages(*stream, type), g_allocations.load() - before);
}

void BM_LlhttpNoCallbacks(benchmark::State& state, const std::string* stream, llhttp_type_t type) {
  runLlhttp(state, stream, type, false);
}

void BM_LlhttpSpanCallbacks(benchmark::State& state, const std::string* stream, llhttp_type_t type) {
  runLlhttp(state, stream, type, true);
}

void BM_MessageParser(benchmark::State& state, const std::string* stream, llhttp_type_t type) {
  MessageParser parser(type == HTTP_REQUEST ? MessageParser::Kind::kRequest : MessageParser::Kind::kResponse, {});
  dpuguard::http1::NullBodySink sink;
  size_t messages = 0;
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    parser.reset();
    std::string_view rest(*stream);
    messages = 0;
    while (true) {
      const auto r = parser.feed(rest, sink);
      rest.remove_prefix(r.consumed);
      if (r.status == ParseStatus::kMessageComplete) ++messages;
      if (r.status == ParseStatus::kError) state.SkipWithError("parse error");
      if (r.status == ParseStatus::kError || (r.status == ParseStatus::kNeedMore && rest.empty())) break;
      if (r.status == ParseStatus::kMessageComplete && rest.empty()) break;
    }
    benchmark::DoNotOptimize(parser.head().headers.size());
  }
  report(state, *stream, messages, g_allocations.load() - before);
}

const std::string kHeads = requestCorpus(false);
const std::string kRequests = requestCorpus(true);
const std::string kSse = sseResponse();

BENCHMARK_CAPTURE(BM_LlhttpNoCallbacks, request_heads, &kHeads, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_LlhttpSpanCallbacks, request_heads, &kHeads, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_MessageParser, request_heads, &kHeads, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_LlhttpNoCallbacks, requests_with_json, &kRequests, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_LlhttpSpanCallbacks, requests_with_json, &kRequests, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_MessageParser, requests_with_json, &kRequests, HTTP_REQUEST);
BENCHMARK_CAPTURE(BM_LlhttpNoCallbacks, sse_response, &kSse, HTTP_RESPONSE);
BENCHMARK_CAPTURE(BM_LlhttpSpanCallbacks, sse_response, &kSse, HTTP_RESPONSE);
BENCHMARK_CAPTURE(BM_MessageParser, sse_response, &kSse, HTTP_RESPONSE);

}  // namespace
