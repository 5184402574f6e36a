#pragma once
// Cuts generated text at the first stop string. Text that could still turn
// out to be the start of a stop string is held back until it cannot.

#include <string>
#include <string_view>
#include <vector>

namespace edgelm::server {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Adds generated text and returns the part that is safe to send. After it
  // returns with stopped() true, the text before the stop string has been
  // returned and nothing more will be.
  std::string push(std::string_view text);

  // The text held back, at the end of generation.
  std::string flush();

  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace edgelm::server
