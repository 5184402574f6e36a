#pragma once
// Options shared by the subcommands that load a model, and helpers to apply them.

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "model/model.h"

namespace edgelm::cli {

struct ModelOptions {
  std::string model_path;
  std::string prompt;
  std::string prompt_ids;  // "1,2,3": used as given, no BOS added
  uint32_t threads = 0;    // 0: one per online CPU
  int64_t n_ctx = 0;       // 0: the model's trained context
  std::string isa;  // empty: EDGELM_ISA if set, else the best the CPU has
  bool mmap = false;  // map the GGUF file instead of reading it into memory
};

// Help text of --mmap, shared by every command that loads a model.
inline constexpr const char* kMmapHelp =
    "map the GGUF file instead of reading it into memory: starts faster from the page cache and shares memory "
    "between processes, but decodes more slowly";

// Adds -m, -p, --prompt-ids, -t, -c, --isa and --mmap to a subcommand.
void add_model_options(CLI::App& command, ModelOptions& options, bool with_prompt);

// -t resolved: 0 means one per online CPU. Warns when it exceeds the CPUs.
uint32_t thread_count(const ModelOptions& options);

// Reads a text file given with -f. Throws Error naming the path when it is
// missing, a directory or unreadable.
std::string read_text_file(const std::string& path);

// Applies --isa and loads the model, logging what was loaded.
std::unique_ptr<Model> load_model(const ModelOptions& options);

// The prompt as ids: --prompt-ids verbatim, or -p tokenized with BOS and special tokens.
std::vector<int32_t> prompt_tokens(const ModelOptions& options, const Model& model);

// -c resolved against the model: 0 means the trained context.
uint32_t context_length(const ModelOptions& options, const Model& model);

}  // namespace edgelm::cli
