#include <sstream>
#include <fstream>
#include <filesystem>
#include <cstring>
#include <cerrno>
#include "cli/options.h"

#include <charconv>

#include "core/count_noun.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "core/log.h"
#include "kernels/matvec.h"

namespace edgelm::cli {

void add_model_options(CLI::App& command, ModelOptions& options, bool with_prompt) {
  command.add_option("-m,--model", options.model_path, "GGUF model file or Hugging Face model directory")->required();
  if (with_prompt) {
    auto* text = command.add_option("-p,--prompt", options.prompt, "prompt text (BOS added, special tokens parsed)");
    auto* ids = command.add_option("--prompt-ids", options.prompt_ids,
                                   "prompt as comma-separated token ids, used as given (no BOS added)");
    text->excludes(ids);
    ids->excludes(text);
  }
  command.add_option("-t,--threads", options.threads, "threads; 0 means one per online CPU (default 0)");
  command.add_option("-c,--ctx-size", options.n_ctx, "context length in tokens; 0 means the model's trained length (default 0)");
  command.add_option("--isa", options.isa,
                     "highest SIMD instruction set to use: auto, avx3, avx2, sse4, ssse3, scalar (default: EDGELM_ISA or auto)");
  command.add_flag("--mmap", options.mmap, kMmapHelp);
}

uint32_t thread_count(const ModelOptions& options) {
  size_t cpus = ThreadPool::hardware_threads();
  if (options.threads > 1024) {
    fail("-t {} is above the maximum of 1024 threads; this machine has {} online CPUs (0 uses all)", options.threads, cpus);
  }
  if (options.threads > cpus) {
    spdlog::warn("-t {} is more threads than the {} online CPUs, which slows every step down", options.threads, cpus);
  }
  return options.threads == 0 ? static_cast<uint32_t>(cpus) : options.threads;
}

std::unique_ptr<Model> load_model(const ModelOptions& options) {
  // --isa wins over EDGELM_ISA, which init_isa applies.
  init_isa();
  if (!options.isa.empty()) set_max_isa(options.isa);
  auto model = Model::load(options.model_path, options.mmap ? FileAccess::kMap : FileAccess::kReadIntoMemory);
  const HParams& hp = model->hparams();
  spdlog::info("loaded {} ({}): {}, {}, d_model {}, {} heads ({} KV), vocab {}, trained context {}",
               options.model_path, model->file().access() == FileAccess::kMap ? "mapped" : "read into memory",
               hp.arch_name, count_noun(hp.n_layer, "layer"), hp.n_embd, hp.n_head, hp.n_head_kv, hp.n_vocab,
               hp.n_ctx_train);
  spdlog::info("kernels: {}", active_isa());
  return model;
}

std::vector<int32_t> prompt_tokens(const ModelOptions& options, const Model& model) {
  if (options.prompt_ids.empty()) {
    return model.tokenizer().encode(options.prompt, /*add_bos=*/true, /*parse_special=*/true);
  }

  std::vector<int32_t> ids;
  std::string_view rest = options.prompt_ids;
  bool more = !rest.empty();
  while (more) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);

    int32_t id = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (ec != std::errc() || end != item.data() + item.size()) {
      fail("--prompt-ids: '{}' is not a token id; give comma-separated integers such as 2,651,6996", item);
    }
    if (id < 0 || static_cast<size_t>(id) >= model.tokenizer().n_vocab()) {
      fail("--prompt-ids: token id {} is outside the vocabulary of {} tokens", id, model.tokenizer().n_vocab());
    }
    ids.push_back(id);
    more = comma != std::string_view::npos;
    rest = more ? rest.substr(comma + 1) : std::string_view();
  }
  if (ids.empty()) fail("--prompt-ids is empty; give comma-separated token ids");
  return ids;
}

uint32_t context_length(const ModelOptions& options, const Model& model) {
  uint32_t trained = model.hparams().n_ctx_train;
  if (options.n_ctx < 0) fail("-c {} is invalid; give a number of tokens, or 0 for the trained length {}", options.n_ctx, trained);
  if (options.n_ctx == 0) return trained;
  if (options.n_ctx > (int64_t{1} << 24)) fail("-c {} is larger than the supported maximum of {}", options.n_ctx, 1 << 24);
  if (options.n_ctx > trained) {
    spdlog::warn("-c {} is longer than the {} tokens the model was trained on; output past that may degrade",
                 options.n_ctx, trained);
  }
  return static_cast<uint32_t>(options.n_ctx);
}

std::string read_text_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) fail("{}: is a directory; pass a text file with -f", path);

  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: opening the text file failed: {}; pass a readable text file with -f", path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("{}: reading the text file failed: {}", path, std::strerror(errno));
  return text.str();
}

}  // namespace edgelm::cli
