// Prompt token ids and generation settings of server jobs, with the demo Gemma 2 model.

#include "server/prompt_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "server/api_error.h"
#include "support/run_command.h"

namespace edgelm::server {
namespace {

const std::string kModelPath = std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf";

const Model& model() {
  static std::unique_ptr<Model> model = Model::load(kModelPath);
  return *model;
}

const ModelChatTemplate& chat_template() {
  static ModelChatTemplate chat_template = read_chat_template(model().file());
  return chat_template;
}

// What `edgelm tokenize` prints for `text`, as a user would run it.
std::vector<int32_t> cli_tokens(const std::string& text) {
  testing::CommandResult result = testing::run_edgelm("--log-level warn tokenize -m " + testing::shell_quote(kModelPath) +
                                                      " -p " + testing::shell_quote(text));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out).get<std::vector<int32_t>>();
}

std::string rendered(const std::vector<ChatMessage>& messages) {
  const ModelChatTemplate& t = chat_template();
  return apply_chat_template(t.template_text, t.bos_token, t.eos_token, messages, true, t.architecture);
}

size_t count_bos(const std::vector<int32_t>& ids) {
  return std::count(ids.begin(), ids.end(), model().tokenizer().bos_id());
}

CompletionRequest chat_request(std::vector<ChatMessage> messages) {
  CompletionRequest request;
  request.chat = true;
  request.messages = std::move(messages);
  return request;
}

CompletionRequest text_request(std::string prompt) {
  CompletionRequest request;
  request.chat = false;
  request.prompt = std::move(prompt);
  return request;
}

TEST(PromptBuilder, ChatOneBos) {
  const std::vector<ChatMessage> messages = {{"user", "Hi there"}};
  const std::string text = rendered(messages);
  ASSERT_EQ(text, "<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n");

  JobParams job = build_job(chat_request(messages), model(), chat_template());
  ASSERT_FALSE(job.prompt.empty());
  EXPECT_EQ(job.prompt[0], model().tokenizer().bos_id());
  EXPECT_EQ(count_bos(job.prompt), 1u);
  EXPECT_EQ(job.prompt, cli_tokens(text));
}

TEST(PromptBuilder, ChatSystemAndTurns) {
  const std::vector<ChatMessage> messages = {
      {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}};
  JobParams job = build_job(chat_request(messages), model(), chat_template());
  EXPECT_EQ(count_bos(job.prompt), 1u);
  EXPECT_EQ(job.prompt, cli_tokens(rendered(messages)));

  // The turn markers are single control tokens, not spelled out as text.
  const int32_t start_of_turn = model().tokenizer().encode("<start_of_turn>", false, true).at(0);
  EXPECT_EQ(std::count(job.prompt.begin(), job.prompt.end(), start_of_turn), 4);
}

TEST(PromptBuilder, ChatTemplateRejection) {
  // Gemma's template raises when roles do not alternate.
  CompletionRequest request = chat_request({{"user", "a"}, {"user", "b"}});
  try {
    build_job(request, model(), chat_template());
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "messages");
    EXPECT_NE(std::string(e.what()).find("chat template rejected the messages"), std::string::npos) << e.what();
  }
}

TEST(PromptBuilder, TextPromptAsRun) {
  for (const std::string prompt : {"Once upon a time", "<bos>Once", "", "<start_of_turn>user\n"}) {
    JobParams job = build_job(text_request(prompt), model(), chat_template());
    EXPECT_EQ(job.prompt, cli_tokens(prompt)) << prompt;
    EXPECT_EQ(count_bos(job.prompt), 1u) << prompt;
    EXPECT_EQ(job.prompt.at(0), model().tokenizer().bos_id()) << prompt;
  }
}

TEST(PromptBuilder, TokenPromptVerbatim) {
  CompletionRequest request = text_request("");
  request.prompt_is_tokens = true;
  request.prompt_tokens = {651, 6862, 0};
  JobParams job = build_job(request, model(), chat_template());
  EXPECT_EQ(job.prompt, (std::vector<int32_t>{651, 6862, 0}));
}

TEST(PromptBuilder, DefaultSettings) {
  JobParams job = build_job(text_request("x"), model(), chat_template());
  EXPECT_EQ(job.max_tokens, -1);
  EXPECT_EQ(job.sampling.temperature, 1.0f);
  EXPECT_EQ(job.sampling.top_k, 0);
  EXPECT_EQ(job.sampling.top_p, 1.0f);
  EXPECT_EQ(job.sampling.min_p, 0.0f);
  EXPECT_EQ(job.sampling.repeat_penalty, 1.0f);
  EXPECT_EQ(job.sampling.presence_penalty, 0.0f);
  EXPECT_EQ(job.sampling.frequency_penalty, 0.0f);
  EXPECT_EQ(job.sampling.seed, 0xFFFFFFFFu);
  EXPECT_TRUE(job.stop.empty());
  EXPECT_FALSE(job.ignore_eos);
  EXPECT_EQ(job.top_logprobs, -1);
}

TEST(PromptBuilder, RequestSettings) {
  CompletionRequest request = chat_request({{"user", "Hi"}});
  request.max_tokens = 12;
  request.temperature = 0.25f;
  request.top_k = 5;
  request.top_p = 0.5f;
  request.min_p = 0.125f;
  request.repeat_penalty = 1.5f;
  request.presence_penalty = -1.0f;
  request.frequency_penalty = 0.75f;
  request.seed = 7;
  request.stop = {"\n\n", "END"};
  request.ignore_eos = true;
  request.logprobs = true;
  request.top_logprobs = 3;

  JobParams job = build_job(request, model(), chat_template());
  EXPECT_EQ(job.max_tokens, 12);
  EXPECT_EQ(job.sampling.temperature, 0.25f);
  EXPECT_EQ(job.sampling.top_k, 5);
  EXPECT_EQ(job.sampling.top_p, 0.5f);
  EXPECT_EQ(job.sampling.min_p, 0.125f);
  EXPECT_EQ(job.sampling.repeat_penalty, 1.5f);
  EXPECT_EQ(job.sampling.presence_penalty, -1.0f);
  EXPECT_EQ(job.sampling.frequency_penalty, 0.75f);
  EXPECT_EQ(job.sampling.seed, 7u);
  EXPECT_EQ(job.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_TRUE(job.ignore_eos);
  EXPECT_EQ(job.top_logprobs, 3);

  request.logprobs = true;
  request.top_logprobs = 0;
  EXPECT_EQ(build_job(request, model(), chat_template()).top_logprobs, 0);
}

TEST(PromptBuilder, SeedNeverRandom) {
  // 0xFFFFFFFF means "random" to the sampler, so a client's 0xFFFFFFFF must become another fixed seed.
  CompletionRequest request = text_request("x");
  request.seed = 0xFFFFFFFFu;
  EXPECT_EQ(build_job(request, model(), chat_template()).sampling.seed, 0x1FFFFFFFFu);
  request.seed = 0;
  EXPECT_EQ(build_job(request, model(), chat_template()).sampling.seed, 0u);
  request.seed = UINT64_MAX;
  EXPECT_EQ(build_job(request, model(), chat_template()).sampling.seed, UINT64_MAX);
}

}  // namespace
}  // namespace edgelm::server
