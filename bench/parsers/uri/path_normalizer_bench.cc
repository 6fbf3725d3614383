// uri::normalizePath on request paths shaped like an inference API's (clean, with escapes,
// with dot segments), against a plain copy of the same bytes as the floor measured in the
// same run. Bytes/s is the path bytes in. Run: make bench.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "parsers/uri/path_normalizer.h"

namespace {

using dpuguard::uri::normalizePath;
using dpuguard::uri::NormalizeOptions;
using dpuguard::uri::PathError;

const std::vector<std::string> kClean = {
    "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models",
    "/v2/models/llama-3.1-70b-instruct/versions/3/infer", "/healthz"};
const std::vector<std::string> kEscaped = {
    "/v1/files/%7Euser/data%20set%2Ejsonl", "/v1/models/llama%2D3.1%2D70b", "/v1/chat/%63ompletions",
    "/v2/models/%E6%A8%A1%E5%9E%8B/infer", "/v1/files/a%2bb%3dc", "/v1/threads/thread_%41bc/runs"};
const std::vector<std::string> kDotted = {
    "/v1/./chat/../chat/completions", "/v1/models/../../v1/models", "/a/b/c/./../../g",
    "/v2/models/m/versions/./1/../2/infer", "//v1//embeddings/./", "/v1/files/x/../../../../etc"};

size_t totalBytes(const std::vector<std::string>& paths) {
  size_t n = 0;
  for (const std::string& p : paths) n += p.size();
  return n;
}

void BM_Copy(benchmark::State& state, const std::vector<std::string>* paths) {
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    for (const std::string& p : *paths) {
      out.assign(p);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * totalBytes(*paths)));
}

void BM_NormalizePath(benchmark::State& state, const std::vector<std::string>* paths) {
  NormalizeOptions options;
  options.merge_slashes = true;
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    for (const std::string& p : *paths) {
      const PathError e = normalizePath(p, options, out);
      benchmark::DoNotOptimize(e);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * totalBytes(*paths)));
}

BENCHMARK_CAPTURE(BM_Copy, clean, &kClean);
BENCHMARK_CAPTURE(BM_NormalizePath, clean, &kClean);
BENCHMARK_CAPTURE(BM_Copy, escaped, &kEscaped);
BENCHMARK_CAPTURE(BM_NormalizePath, escaped, &kEscaped);
BENCHMARK_CAPTURE(BM_Copy, dot_segments, &kDotted);
BENCHMARK_CAPTURE(BM_NormalizePath, dot_segments, &kDotted);

}  // namespace
