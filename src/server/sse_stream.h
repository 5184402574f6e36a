#pragma once
// Streams a job's output as server-sent events in OpenAI's chunk format.

#include <chrono>
#include <memory>

#include <httplib.h>

#include "server/job.h"
#include "server/openai_response.h"
#include "tokenizer/tokenizer.h"

namespace edgelm::server {

struct StreamRequest {
  std::shared_ptr<Job> job;
  ResponseInfo info;
  bool with_logprobs = false;
  bool include_usage = false;  // stream_options.include_usage
  const Tokenizer* tokenizer = nullptr;
  std::chrono::steady_clock::time_point received;  // when the request arrived, for the log line
};

// Makes `response` a chunked text/event-stream: chunks as text comes, one with
// the finish_reason, the usage chunk when asked for, then "data: [DONE]". A
// job that fails or is cancelled by a shutdown ends with an error event
// before [DONE]. When the client goes away, or httplib drops the response
// before the job ends, the job is cancelled.
void stream_job(httplib::Response& response, StreamRequest request);

}  // namespace edgelm::server
