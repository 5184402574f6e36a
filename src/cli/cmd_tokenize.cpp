// edgelm tokenize: print the ids the model sees for a prompt, as one JSON array.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace edgelm::cli {

CommandRunner add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<ModelOptions>();
  CLI::App* command = app.add_subcommand("tokenize", "print the prompt's token ids (BOS included) as a JSON array");
  command->add_option("-m,--model", options->model_path, "GGUF model file")->required();
  command->add_option("-p,--prompt", options->prompt, "text to tokenize")->required();

  return [options] {
    // Only the vocabulary is read, so files whose weight types edgelm cannot run still tokenize.
    auto file = GgufFile::open(options->model_path);
    auto tokenizer = Tokenizer::from_gguf(*file);
    std::vector<int32_t> ids = tokenizer->encode(options->prompt, /*add_bos=*/true, /*parse_special=*/true);
    std::string line = nlohmann::json(ids).dump();
    std::printf("%s\n", line.c_str());
    return 0;
  };
}

}  // namespace edgelm::cli
