// edgelm template: print the prompt a chat template makes of a conversation.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chat/chat_messages.h"
#include "chat/chat_template.h"
#include "chat/gguf_chat_template.h"
#include "cli/commands.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/model_file.h"

namespace edgelm::cli {
namespace {

struct TemplateOptions {
  std::string model_path;
  std::string template_path;
  std::string messages_path;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  bool add_generation_prompt = false;
};

std::string read_text_file(const std::string& path, const char* option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{} {}: cannot open the file: {}", option, path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("{} {}: reading the file failed", option, path);
  return text.str();
}

std::vector<ChatMessage> read_messages(const std::string& path) {
  std::string text = read_text_file(path, "--messages");
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) fail("--messages {}: the file is not valid JSON; give an OpenAI messages array", path);
  try {
    return messages_from_json(json);
  } catch (const Error& e) {
    fail("--messages {}: {}", path, e.what());
  }
}

}  // namespace

CommandRunner add_template_command(CLI::App& app) {
  auto options = std::make_shared<TemplateOptions>();
  CLI::App* command = app.add_subcommand("template", "print the prompt a chat template makes of a conversation");
  auto* model = command->add_option("-m,--model", options->model_path,
                                    "GGUF model file or Hugging Face model directory whose chat template and BOS/EOS tokens are used");
  auto* file = command->add_option("--template", options->template_path, "Jinja chat template file (used in place of -m)");
  model->excludes(file);
  file->excludes(model);
  command->add_option("--bos", options->bos_token, "text of the BOS token (default: the model's, or empty with --template)");
  command->add_option("--eos", options->eos_token, "text of the EOS token (default: the model's, or empty with --template)");
  command
      ->add_option("--messages", options->messages_path,
                   "JSON file with an OpenAI messages array; content is a string or text parts, joined with newlines")
      ->required();
  command->add_flag("--add-generation-prompt", options->add_generation_prompt,
                    "end the prompt with the header of the assistant's turn");

  return [options] {
    if (options->model_path.empty() && options->template_path.empty()) {
      fail("give the template with -m MODEL.gguf or --template FILE.jinja");
    }
    std::vector<ChatMessage> messages = read_messages(options->messages_path);

    ModelChatTemplate source;
    if (!options->model_path.empty()) {
      source = read_chat_template(*open_model_metadata(options->model_path));
    } else {
      source.template_text = read_text_file(options->template_path, "--template");
      if (source.template_text.empty()) fail("--template {}: the file is empty", options->template_path);
    }
    if (options->bos_token) source.bos_token = *options->bos_token;
    if (options->eos_token) source.eos_token = *options->eos_token;

    std::string prompt = apply_chat_template(source.template_text, source.bos_token, source.eos_token, messages,
                                             options->add_generation_prompt, source.architecture);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    return 0;
  };
}

}  // namespace edgelm::cli
