#pragma once
// POST /v1/chat/completions and POST /v1/completions: from the request body
// to a job on the scheduler, and from the job's output to one JSON response
// or a stream of server-sent events.

#include <chrono>
#include <string>
#include <vector>

#include <httplib.h>

#include "chat/gguf_chat_template.h"
#include "model/model.h"
#include "server/job.h"
#include "server/scheduler.h"

namespace edgelm::server {

// The model the server serves, fixed once it is loaded.
struct ServedModel {
  const Model* model = nullptr;
  Scheduler* scheduler = nullptr;
  ModelChatTemplate chat_template;
  std::string name;                // the id in responses and in GET /v1/models
  std::vector<std::string> names;  // what a request's "model" may name: name, alias, file name
};

// Throws ApiError 400 (param "model", code "model_not_found") naming the
// served model unless `requested` is empty or one of its names.
void check_model_name(const std::string& requested, const ServedModel& served);

// Handles one completion request (`chat`: /v1/chat/completions) with the
// request body read by the caller. Errors found before generation starts
// are thrown as ApiError (400, 429, 503) or Error (400) for the caller to
// send. A job that fails gives 500.
void handle_completion(const httplib::Request& request, const std::string& body, httplib::Response& response,
                       const ServedModel& served, bool chat);

// Logs one line for a job that ended: tokens, finish reason, seconds since
// the request arrived.
void log_job_end(const std::string& id, const JobUpdate& final_update,
                 std::chrono::steady_clock::time_point received);

}  // namespace edgelm::server
