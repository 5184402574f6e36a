#include "server/prompt_builder.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "server/api_error.h"

namespace edgelm::server {
namespace {

// The sampler treats this seed as "pick one at random".
constexpr uint64_t kRandomSeed = 0xFFFFFFFFu;

// A client that sends kRandomSeed expects a fixed sequence like any other
// seed, so it is moved to a value clients rarely send.
constexpr uint64_t kClientRandomSeed = 0x1FFFFFFFFu;

std::vector<int32_t> prompt_ids(const CompletionRequest& request, const Model& model,
                                const ModelChatTemplate& chat_template) {
  if (!request.chat && request.prompt_is_tokens) return request.prompt_tokens;

  std::string text = request.prompt;
  if (request.chat) {
    try {
      text = apply_chat_template(chat_template.template_text, chat_template.bos_token, chat_template.eos_token,
                                 request.messages, /*add_generation_prompt=*/true, chat_template.architecture);
    } catch (const Error& e) {
      throw invalid_request(fmt::format("the model's chat template rejected the messages: {}", e.what()), "messages");
    }
  }

  // Gemma's template writes "<bos>" itself, and parsing special tokens turns
  // it into the BOS id. encode() adds BOS only when the text does not already
  // begin with it, so the prompt has one BOS either way.
  // NOTE: message text is parsed for special tokens too, as `edgelm chat`
  // does, so a client can write turn markers into its own messages.
  try {
    return model.tokenizer().encode(text, /*add_bos=*/true, /*parse_special=*/true);
  } catch (const Error& e) {
    throw invalid_request(fmt::format("the prompt could not be tokenized: {}", e.what()),
                          request.chat ? "messages" : "prompt");
  }
}

SamplerConfig sampler_config(const CompletionRequest& request) {
  SamplerConfig config;
  config.temperature = request.temperature;
  config.top_k = request.top_k;
  config.top_p = request.top_p;
  config.min_p = request.min_p;
  config.repeat_penalty = request.repeat_penalty;
  config.presence_penalty = request.presence_penalty;
  config.frequency_penalty = request.frequency_penalty;
  config.seed = kRandomSeed;
  if (request.seed) config.seed = *request.seed == kRandomSeed ? kClientRandomSeed : *request.seed;
  return config;
}

}  // namespace

JobParams build_job(const CompletionRequest& request, const Model& model, const ModelChatTemplate& chat_template) {
  JobParams params;
  params.prompt = prompt_ids(request, model, chat_template);
  params.prompt_field = request.chat ? "messages" : "prompt";
  params.max_tokens = request.max_tokens.value_or(-1);
  params.sampling = sampler_config(request);
  params.stop = request.stop;
  params.ignore_eos = request.ignore_eos;
  params.top_logprobs = request.logprobs ? request.top_logprobs : -1;
  return params;
}

}  // namespace edgelm::server
