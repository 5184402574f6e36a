// edgelm tokenize: print the token ids of a prompt, as one JSON array.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model_file.h"
#include "tokenizer/load_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace edgelm::cli {

namespace {

struct TokenizeOptions {
  std::string model_path;
  std::string tokenizer_path;
  std::string prompt;
  bool no_bos = false;
};

}  // namespace

CommandRunner add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* command = app.add_subcommand(
      "tokenize", "print the prompt's token ids as a JSON array (BOS included, special token texts parsed)");
  CLI::Option* model = command->add_option("-m,--model", options->model_path, "GGUF model or vocabulary-only file, or Hugging Face model directory");
  CLI::Option* tokenizer = command->add_option(
      "--tokenizer", options->tokenizer_path, "tokenizer.json (Hugging Face) or tokenizer.model (SentencePiece) file");
  model->excludes(tokenizer);
  command->add_option("-p,--prompt", options->prompt, "text to tokenize")->required();
  command->add_flag("--no-bos", options->no_bos, "do not add the BOS token");

  return [options] {
    std::unique_ptr<Tokenizer> tokenizer;
    if (!options->model_path.empty()) {
      // Only the vocabulary is read, so files whose weight types edgelm cannot run still tokenize.
      tokenizer = Tokenizer::from_gguf(*open_model_metadata(options->model_path));
    } else if (!options->tokenizer_path.empty()) {
      tokenizer = load_tokenizer_file(options->tokenizer_path);
    } else {
      fail("tokenize needs a tokenizer: pass -m FILE.gguf or --tokenizer FILE (tokenizer.json or tokenizer.model)");
    }

    const std::vector<int32_t> ids =
        tokenizer->encode(options->prompt, /*add_bos=*/!options->no_bos, /*parse_special=*/true);
    const std::string line = nlohmann::json(ids).dump();
    std::printf("%s\n", line.c_str());
    return 0;
  };
}

}  // namespace edgelm::cli
