// Byte-level BPE against llama.cpp on random strings: letters of many
// scripts, digits, whitespace of every kind, emoji, special-token texts and
// malformed UTF-8. The Llama 3 vocabulary runs with its own pre-tokenizer and
// with "gpt-2" and "default". data/make_bpe_llama_cpp_parity.py made the file.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {
namespace {

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

nlohmann::json load_parity_data() {
  std::ifstream in(std::string(EDGELM_SOURCE_DIR) + "/tests/tokenizer/data/bpe_llama_cpp_parity.json");
  if (!in) {
    throw std::runtime_error("missing tests/tokenizer/data/bpe_llama_cpp_parity.json");
  }
  return nlohmann::json::parse(in);
}

TEST(BpeLlamaCppParity, RandomStrings) {
  const nlohmann::json data = load_parity_data();
  const auto file = GgufFile::open(std::string(EDGELM_FIXTURES_DIR) + "/vocab/" + data["vocab"].get<std::string>());
  const Vocab vocab = read_vocab(*file);

  std::vector<std::string> checked_pres;
  for (const auto& set : data["sets"]) {
    Vocab with_pre = vocab;
    with_pre.pre = set["pre"].get<std::string>();
    const BpeTokenizer tokenizer(with_pre);
    checked_pres.push_back(with_pre.pre);

    const auto& cases = set["cases"];
    ASSERT_GE(cases.size(), 50u);
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& test_case = cases[i];
      const std::string text = test_case.contains("text") ? test_case["text"].get<std::string>()
                                                          : from_hex(test_case["text_hex"].get<std::string>());
      const bool add_bos = test_case["add_bos"].get<bool>();
      const bool parse_special = test_case["parse_special"].get<bool>();
      EXPECT_EQ(tokenizer.encode(text, add_bos, parse_special), test_case["ids"].get<std::vector<int32_t>>())
          << with_pre.pre << " case " << i << (test_case.contains("text") ? "" : " (malformed UTF-8)");
    }
  }
  EXPECT_EQ(checked_pres, (std::vector<std::string>{"llama-bpe", "gpt-2", "default"}));
}

}  // namespace
}  // namespace edgelm
