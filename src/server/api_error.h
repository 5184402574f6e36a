#pragma once
// An error the HTTP API returns to a client, in the OpenAI error format.

#include <stdexcept>
#include <string>

namespace edgelm::server {

class ApiError : public std::runtime_error {
 public:
  // status: the HTTP status; type: "invalid_request_error",
  // "authentication_error", "rate_limit_error", "server_error", ...;
  // param: the request field at fault or empty; code: a short machine code
  // such as "context_length_exceeded" or empty.
  ApiError(int status, std::string message, std::string type, std::string param = {}, std::string code = {})
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)),
        code(std::move(code)) {}

  int status;
  std::string type;
  std::string param;
  std::string code;
};

// 400 invalid_request_error naming `param`.
inline ApiError invalid_request(std::string message, std::string param = {}, std::string code = {}) {
  return ApiError(400, std::move(message), "invalid_request_error", std::move(param), std::move(code));
}

}  // namespace edgelm::server
