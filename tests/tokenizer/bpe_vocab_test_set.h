#pragma once
// Reads llama.cpp's tokenizer test sets: NAME.inp has the inputs, each
// followed by "\n__ggml_vocab_test__\n", and NAME.out one line of expected ids
// (without BOS) per input.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgelm::testing {

struct VocabTestCase {
  std::string text;
  std::vector<int32_t> ids;
};

namespace vocab_test_set_detail {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot open " + path);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace vocab_test_set_detail

// Throws std::runtime_error for a missing file, an input without the
// separator, or different numbers of inputs and id lines.
inline std::vector<VocabTestCase> read_vocab_test_set(const std::string& base_path) {
  const std::string inputs = vocab_test_set_detail::read_text(base_path + ".inp");
  const std::string outputs = vocab_test_set_detail::read_text(base_path + ".out");

  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<VocabTestCase> cases;
  for (size_t begin = 0; begin < inputs.size();) {
    const size_t end = inputs.find(separator, begin);
    if (end == std::string::npos) {
      throw std::runtime_error(base_path + ".inp must end with the separator line");
    }
    cases.push_back({inputs.substr(begin, end - begin), {}});
    begin = end + separator.size();
  }

  std::istringstream lines(outputs);
  size_t index = 0;
  for (std::string line; std::getline(lines, line); ++index) {
    if (index >= cases.size()) {
      throw std::runtime_error(base_path + ".out has more lines than there are inputs");
    }
    std::istringstream fields(line);
    for (int32_t id; fields >> id;) {
      cases[index].ids.push_back(id);
    }
  }
  if (index != cases.size()) {
    throw std::runtime_error(base_path + ".out has fewer lines than there are inputs");
  }
  return cases;
}

}  // namespace edgelm::testing
