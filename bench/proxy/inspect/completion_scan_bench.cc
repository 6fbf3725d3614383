// Output guardrails' cost per KiB of generated text, next to the request-body scan, with the
// same rules (config/rules/completion.yaml, compiled for both `body` and `completion`, plus
// two route canaries) over the same benign prose:
//   BM_BodyStreamScan        BodyScan over the text as one body (the request side)
//   BM_CompletionStream      CompletionScan over an OpenAI chat stream of that text, one token
//                            (Arg bytes, 4 is typical) per chat.completion.chunk event: each
//                            event parsed (simdjson) and scanned, then [DONE]
//   BM_CompletionStreamScan  the same with the events parsed beforehand: the scan alone, what
//                            it adds when the token meter's parse is shared (onEventText)
//   BM_ChunkParse            the per-event parse alone (what the token meter already pays)
//   BM_CompletionWhole       a whole chat.completion answer: parse and one scan
// Bytes/s counts generated text, so ns per KiB is 1024e9 / (bytes/s); compare within one run.
#include <benchmark/benchmark.h>
#include <hs/hs.h>

#include <string>
#include <vector>

#include "parsers/json/completion_chunk.h"
#include "proxy/inspect/completion_scan.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/loader/signature_file_loader.h"

namespace dpuguard::proxy::inspect {
namespace {

std::shared_ptr<const SignatureSet> completionRules() {
  static std::shared_ptr<const SignatureSet> set = [] {
    std::vector<ConfigError> errors;
    std::vector<Signature> sigs = loadSignatureFile(
        std::string(DPUGUARD_SOURCE_DIR) + "/config/rules/completion.yaml", &errors);
    for (Signature& s : sigs) {
      s.where = static_cast<uint8_t>((1u << static_cast<unsigned>(Where::kBody)) |
                                     (1u << static_cast<unsigned>(Where::kCompletion)));
    }
    sigs.push_back(canarySignature("chat", 0, 1, "dpg-canary-3f9a1c7e52"));
    sigs.push_back(canarySignature("chat", 0, 2, "CANARY-7f3a-9b21"));
    ConfigError error;
    return SignatureSet::compile(std::move(sigs), &error);
  }();
  return set;
}

std::string prose(size_t n) {
  const std::string p =
      "The data processing unit sits between the network and the host, so the inspection proxy "
      "sees "
      "every answer before the client does. Operators want to know that a model never writes a "
      "credential, a private key or its own system prompt into an answer, streamed or not. ";
  std::string out;
  while (out.size() < n) out += p;
  out.resize(n);
  return out;
}

std::vector<std::string> chunks(const std::string& text, size_t token) {
  std::vector<std::string> events;
  for (size_t at = 0; at < text.size(); at += token) {
    events.push_back(
        R"({"id":"chatcmpl-9d2f1c","object":"chat.completion.chunk","created":1718000000,"model":"llama-3-8b-instruct",)"
        R"("system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":")" +
        text.substr(at, token) + R"("},"logprobs":null,"finish_reason":null}]})");
  }
  return events;
}

void setCounters(benchmark::State& state, size_t text_bytes, size_t events) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text_bytes));
  state.counters["events"] = static_cast<double>(events);
}

void BM_BodyStreamScan(benchmark::State& state) {
  const auto set = completionRules();
  const std::string text = prose(static_cast<size_t>(state.range(0)));
  SignatureScratch scratch;
  BodyScan scan;
  Matches m;
  for (auto _ : state) {
    m.clear();
    scan.start(set.get(), scratch.forSet(*set));
    scan.feed(text, m);
    scan.finish(m);
    benchmark::DoNotOptimize(m.count);
  }
  if (m.count != 0) state.SkipWithError("benign text matched");
  setCounters(state, text.size(), 1);
}
BENCHMARK(BM_BodyStreamScan)->Arg(4096);

void BM_CompletionStream(benchmark::State& state) {
  const auto set = completionRules();
  const std::string text = prose(4096);
  const std::vector<std::string> events = chunks(text, static_cast<size_t>(state.range(0)));
  SignatureScratch scratch;
  json::CompletionChunkParser parser(32 * 1024);
  CompletionScan scan;
  Matches m;
  uint64_t scanned = 0;
  for (auto _ : state) {
    m.clear();
    scan.start(set.get(), scratch.forSet(*set), 0);
    for (const std::string& e : events) benchmark::DoNotOptimize(scan.onEvent(e, parser, m));
    scan.onEvent("[DONE]", parser, m);
    scan.finish(m);
    scanned = scan.scannedBytes();
  }
  if (m.count != 0 || scan.blocked()) state.SkipWithError("benign answer matched");
  setCounters(state, text.size(), events.size());
  state.counters["rescan_x"] = static_cast<double>(scanned) / static_cast<double>(text.size());
  size_t stream_bytes = 0;
  hs_stream_size(set->database(Where::kCompletion), &stream_bytes);
  state.counters["stream_state_B"] = static_cast<double>(stream_bytes);
}
BENCHMARK(BM_CompletionStream)->Arg(1)->Arg(4)->Arg(16);

void BM_CompletionStreamScan(benchmark::State& state) {
  const auto set = completionRules();
  const std::string text = prose(4096);
  const std::vector<std::string> events = chunks(text, static_cast<size_t>(state.range(0)));
  json::CompletionChunkParser parser(32 * 1024);
  std::vector<json::GeneratedText> parsed(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    json::CompletionChunk c;
    parser.parse(events[i], events[i].size(), c, &parsed[i]);
  }
  SignatureScratch scratch;
  CompletionScan scan;
  Matches m;
  for (auto _ : state) {
    m.clear();
    scan.start(set.get(), scratch.forSet(*set), 0);
    for (size_t i = 0; i < events.size(); ++i) {
      benchmark::DoNotOptimize(scan.onEventText(events[i], &parsed[i], m));
    }
    scan.onEventText("[DONE]", nullptr, m);
    scan.finish(m);
  }
  if (m.count != 0 || scan.blocked()) state.SkipWithError("benign answer matched");
  setCounters(state, text.size(), events.size());
}
BENCHMARK(BM_CompletionStreamScan)->Arg(1)->Arg(4)->Arg(16);

void BM_ChunkParse(benchmark::State& state) {
  const std::string text = prose(4096);
  const std::vector<std::string> events = chunks(text, static_cast<size_t>(state.range(0)));
  json::CompletionChunkParser parser(32 * 1024);
  json::GeneratedText generated;
  for (auto _ : state) {
    for (const std::string& e : events) {
      json::CompletionChunk c;
      benchmark::DoNotOptimize(parser.parse(e, e.size(), c, &generated));
    }
  }
  setCounters(state, text.size(), events.size());
}
BENCHMARK(BM_ChunkParse)->Arg(4);

void BM_CompletionWhole(benchmark::State& state) {
  const auto set = completionRules();
  const std::string text = prose(static_cast<size_t>(state.range(0)));
  const std::string body =
      R"({"id":"chatcmpl-9d2f1c","object":"chat.completion","created":1718000000,"model":"llama-3-8b-instruct",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":")" +
      text +
      R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":1024}})";
  SignatureScratch scratch;
  json::CompletionChunkParser parser(1 << 20);
  CompletionScan scan;
  Matches m;
  for (auto _ : state) {
    m.clear();
    scan.start(set.get(), scratch.forSet(*set), 0);
    benchmark::DoNotOptimize(scan.scanWhole(body, body.size(), parser, m));
  }
  if (m.count != 0) state.SkipWithError("benign answer matched");
  setCounters(state, text.size(), 1);
}
BENCHMARK(BM_CompletionWhole)->Arg(4096);

}  // namespace
}  // namespace dpuguard::proxy::inspect
