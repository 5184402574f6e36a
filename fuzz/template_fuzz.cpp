// libFuzzer target: arbitrary chat template text must parse and render, or
// fail with an Error. libFuzzer reports crashes, sanitizer errors, inputs
// slower than -timeout and memory above -rss_limit_mb.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "chat/chat_template.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = [] {
    spdlog::set_level(spdlog::level::off);  // fallback warnings would flood the output
    return true;
  }();
  (void)quiet;

  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<edgelm::ChatMessage> messages = {
      {"system", "Be brief."}, {"user", "Hi {{ there }}"}, {"assistant", "Hello!"}, {"user", "\xE2\x9C\x93 ok"}};
  try {
    edgelm::ChatTemplate chat_template(text, "<bos>", "<eos>");
    chat_template.render(messages, true);
  } catch (const edgelm::Error&) {
    // Rejected templates are the expected outcome for most inputs.
  }
  try {
    edgelm::apply_chat_template(text, "<bos>", "<eos>", messages, false, "gemma2");
  } catch (const edgelm::Error&) {
  }
  return 0;
}
