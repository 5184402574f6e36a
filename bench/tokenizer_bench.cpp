// Tokenizer encode speed on English text. The text is the GPL-3 licence that
// every Debian system has (/usr/share/common-licenses/GPL-3, or the file named
// by EDGELM_BENCH_TEXT), repeated to at least 4 MiB. Bytes per second count
// the input text.
//
//   build/bench/tokenizer_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr size_t kTextBytes = 4u << 20;

std::string text_path() {
  const char* path = std::getenv("EDGELM_BENCH_TEXT");
  return path != nullptr ? path : "/usr/share/common-licenses/GPL-3";
}

// Returns the benchmark text, or an empty string when the file is missing.
const std::string& english_text() {
  static const std::string text = [] {
    std::ifstream in(text_path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string once = buffer.str();
    std::string repeated;
    while (!once.empty() && repeated.size() < kTextBytes) {
      repeated += once;
    }
    return repeated;
  }();
  return text;
}

// Loads each model's tokenizer once; the GGUF file is only read for its vocabulary.
const edgelm::Tokenizer& tokenizer_for(const std::string& model) {
  static std::map<std::string, std::unique_ptr<edgelm::Tokenizer>> loaded;
  auto& slot = loaded[model];
  if (!slot) {
    const auto file = edgelm::GgufFile::open(std::string(EDGELM_FIXTURES_DIR) + "/" + model);
    slot = edgelm::Tokenizer::from_gguf(*file);
  }
  return *slot;
}

void encode(benchmark::State& state, const std::string& model, bool parse_special) {
  const std::string& text = english_text();
  if (text.empty()) {
    state.SkipWithError(("cannot read the benchmark text " + text_path()).c_str());
    return;
  }
  const edgelm::Tokenizer* tokenizer = nullptr;
  try {
    tokenizer = &tokenizer_for(model);
  } catch (const edgelm::Error& error) {
    state.SkipWithError(error.what());
    return;
  }

  size_t n_tokens = 0;
  for (auto _ : state) {
    const std::vector<int32_t> ids = tokenizer->encode(text, /*add_bos=*/true, parse_special);
    benchmark::DoNotOptimize(ids.data());
    n_tokens = ids.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["text_bytes"] = static_cast<double>(text.size());
}

}  // namespace

int main(int argc, char** argv) {
  const struct {
    const char* name;
    const char* model;
    bool parse_special;
  } cases[] = {
      {"encode/llama-bpe", "vocab/ggml-vocab-llama-bpe.gguf", false},
      {"encode/llama-bpe/parse_special", "vocab/ggml-vocab-llama-bpe.gguf", true},
      {"encode/tiny-gemma2-spm", "tiny-gemma2-f32.gguf", false},
      {"encode/tiny-gemma2-spm/parse_special", "tiny-gemma2-f32.gguf", true},
  };
  for (const auto& c : cases) {
    const std::string model = c.model;
    const bool parse_special = c.parse_special;
    benchmark::RegisterBenchmark(c.name, [model, parse_special](benchmark::State& state) {
      encode(state, model, parse_special);
    })->Unit(benchmark::kMillisecond);
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
