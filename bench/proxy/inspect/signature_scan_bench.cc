// Vectorscan DPI throughput with the shipped rule sets (config/rules/, 250 signatures): a
// request body scanned in stream mode (as the session does, in the chunks it arrives in), an
// inference body's decoded strings (the `prompt` rules), and a header section in block mode, over
// ordinary prose (the common case: no match). Baseline in the same run: memchr over the same bytes
// (a lower bound for any scan). Bytes/s is reported; compare the ratio, not the absolute figure, on
// a shared machine.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "parsers/json/inference_request.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/loader/signature_file_loader.h"

namespace dpuguard::proxy::inspect {
namespace {

std::shared_ptr<const SignatureSet> shipped(const char* only = nullptr) {
  std::vector<Signature> all;
  for (const char* f : {"path-traversal", "injection", "prompt-injection", "credentials"}) {
    if (only != nullptr && std::strcmp(only, f) != 0) continue;
    std::vector<ConfigError> errors;
    for (Signature& s : loadSignatureFile(
             std::string(DPUGUARD_SOURCE_DIR) + "/config/rules/" + f + ".yaml", &errors)) {
      all.push_back(std::move(s));
    }
  }
  ConfigError error;
  return SignatureSet::compile(std::move(all), &error);
}

std::string prose(size_t n) {
  const std::string p =
      "The data processing unit sits between the network and the host, so the inspection proxy "
      "sees every "
      "request before the inference server does. Operators want to know which workloads call which "
      "models, "
      "how many tokens each team spends, and whether a prompt carries something it should not. ";
  std::string out = R"({"model":"m","messages":[{"role":"user","content":")";
  while (out.size() < n - 4) out += p;
  out.resize(n - 4);
  return out + "\"}]}";
}

void BM_BodyStreamScan(benchmark::State& state, const char* only) {
  const auto set = shipped(only);
  const std::string body = prose(static_cast<size_t>(state.range(0)));
  SignatureScratch scratch;
  BodyScan scan;
  Matches m;
  for (auto _ : state) {  // as a session scans one body
    m.clear();
    scan.start(set.get(), scratch.forSet(*set));
    scan.feed(body, m);
    scan.finish(m);
    benchmark::DoNotOptimize(m.count);
  }
  if (m.count != 0) state.SkipWithError("benign body matched a signature");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["signatures"] = static_cast<double>(set->signatures().size());
}
BENCHMARK_CAPTURE(BM_BodyStreamScan, all, nullptr)->Arg(4096)->Arg(65536);
BENCHMARK_CAPTURE(BM_BodyStreamScan, prompt_injection, "prompt-injection")->Arg(4096);
BENCHMARK_CAPTURE(BM_BodyStreamScan, injection, "injection")->Arg(4096);
BENCHMARK_CAPTURE(BM_BodyStreamScan, credentials, "credentials")->Arg(4096);
BENCHMARK_CAPTURE(BM_BodyStreamScan, path_traversal, "path-traversal")->Arg(4096);

// An inference body as the session scans it: parsed, then its decoded strings (keys and
// values, NUL-separated) gathered and scanned in one block-mode pass by the `prompt` rules
// (prompt-injection and credentials). Compare with BM_BodyStreamScan/all/4096, the same
// body's raw bytes under every `body` rule; the parse itself is in inference_json_bench.
void BM_ChatStringsScan(benchmark::State& state) {
  const auto set = shipped();
  const std::string body = prose(static_cast<size_t>(state.range(0)));
  json::InferenceRequestParser parser(1 << 20);
  json::InferenceRequest view;
  if (parser.parse(json::InferenceApi::kChatCompletions, body, body.size(), view) !=
      json::RequestError::kNone) {
    state.SkipWithError("bench body does not parse");
    return;
  }
  SignatureScratch scratch;
  Matches m;
  for (auto _ : state) {
    m.clear();
    set->scan(Where::kPrompt, parser.strings(), scratch.forSet(*set), m);
    benchmark::DoNotOptimize(m.count);
  }
  if (m.count != 0) state.SkipWithError("benign prompt matched a signature");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ChatStringsScan)->Arg(4096);

void BM_HeaderBlockScan(benchmark::State& state) {
  const auto set = shipped();
  const std::string headers =
      "Host: api.example.com\r\nUser-Agent: python-httpx/0.27\r\nAccept: application/json\r\n"
      "Content-Type: application/json\r\nAuthorization: Bearer abc\r\nContent-Length: "
      "4205\r\nX-Request-Id: 1f3a";
  SignatureScratch scratch;
  Matches m;
  for (auto _ : state) {
    m.clear();
    set->scan(Where::kHeader, headers, scratch.forSet(*set), m);
    set->scan(Where::kPath, "/v1/chat/completions", scratch.forSet(*set), m);
    benchmark::DoNotOptimize(m.count);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (headers.size() + 20)));
}
BENCHMARK(BM_HeaderBlockScan);

void BM_BaselineMemchr(benchmark::State& state) {
  const std::string body = prose(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(std::memchr(body.data(), 0, body.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_BaselineMemchr)->Arg(4096)->Arg(65536);

}  // namespace
}  // namespace dpuguard::proxy::inspect
