#pragma once
// Turns a checked API request into the job the scheduler runs: prompt token
// ids and generation settings.

#include "chat/gguf_chat_template.h"
#include "model/model.h"
#include "server/completion_request.h"
#include "server/job.h"

namespace edgelm::server {

// Builds the job for `request`. Chat messages are rendered with the model's
// chat template and its generation prompt, then tokenized. A completions
// prompt is tokenized as `edgelm run -p` does, or used as given when it is a
// list of token ids. Tokenized text gets exactly one BOS where the model wants
// one, and control token texts such as "<start_of_turn>" become their ids.
// Throws ApiError 400 when the template rejects the conversation.
JobParams build_job(const CompletionRequest& request, const Model& model, const ModelChatTemplate& chat_template);

}  // namespace edgelm::server
