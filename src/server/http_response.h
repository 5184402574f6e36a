#pragma once
// Small helpers that fill an httplib response with JSON or an API error.

#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/openai_response.h"

namespace edgelm::server {

// The HTTP status of a request whose client closed the connection before
// the response was ready. Nothing is sent, so the code only reaches the
// log and /metrics, as in nginx.
inline constexpr int kClientClosedRequest = 499;

inline void send_json(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Sends the error as an OpenAI error body, with Retry-After for 429.
inline void send_error(httplib::Response& response, const ApiError& error) {
  if (error.status == 429) response.set_header("Retry-After", "1");
  send_json(response, error.status, error_body(error));
}

}  // namespace edgelm::server
