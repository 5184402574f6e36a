// edgelm convert: write a Hugging Face model directory (config.json,
// safetensors, tokenizer files) as a GGUF file.

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/progress.h"
#include "core/temp_file_cleanup.h"
#include "hf/convert_checkpoint.h"

namespace edgelm::cli {

CommandRunner add_convert_command(CLI::App& app) {
  auto request = std::make_shared<ConvertRequest>();
  auto threads = std::make_shared<ModelOptions>();
  CLI::App* command = app.add_subcommand("convert", "write a Hugging Face model directory as a GGUF file");
  command->add_option("input", request->input_dir, "model directory with config.json, *.safetensors and tokenizer files")
      ->required();
  command->add_option("-o,--output,--outfile", request->output_path, "GGUF file to write")->required();
  command->add_option("--type,--outtype", request->type,
                      std::string("output type: ") + kConvertFloatTypes +
                          " (auto keeps the checkpoint's float type), or a quantization preset such as q4_k_m "
                          "(default auto)");
  command->add_option("-t,--threads", threads->threads, "threads; 0 means one per online CPU (default 0)")
      ->check(CLI::Range(0, 1024));

  return [request, threads] {
    // Checked before anything is read, so a typo fails at once.
    check_convert_type(request->type);
    request->threads = thread_count(*threads);
    install_temp_file_cleanup();

    QuantizeSummary summary = convert_checkpoint(*request);
    std::fprintf(stderr, "converted %s -> %s (%s, %s, %zu tensors) in %.2f s\n", request->input_dir.c_str(),
                 request->output_path.c_str(), summary.preset_name.c_str(),
                 format_bytes(summary.output_file_bytes).c_str(), summary.n_tensors, summary.seconds);
    return 0;
  };
}

}  // namespace edgelm::cli
