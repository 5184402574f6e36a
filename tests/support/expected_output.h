#pragma once
// llama.cpp's reference answers for one model and prompt, as stored in the fixtures.

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgelm::testing {

inline std::string fixtures_dir() { return EDGELM_FIXTURES_DIR; }

// One row of top logits: (token id, logit), highest first.
using TopLogits = std::vector<std::pair<int32_t, float>>;

struct ExpectedOutput {
  std::string model;          // file name under the fixtures directory
  std::string prompt;         // empty when the prompt was given as ids
  bool raw_ids = false;
  std::vector<int32_t> prompt_ids;
  std::vector<TopLogits> prompt_top;
  std::vector<int32_t> greedy;
  std::vector<TopLogits> greedy_top;
  std::string greedy_text;
  std::vector<TopLogits> exact_path_top;  // empty when the file has none

  // The teacher-forced path: prompt ids followed by all greedy ids but the last.
  std::vector<int32_t> path() const {
    std::vector<int32_t> ids = prompt_ids;
    if (!greedy.empty()) ids.insert(ids.end(), greedy.begin(), greedy.end() - 1);
    return ids;
  }

  // llama.cpp's top logits at row `i` of path().
  const TopLogits& reference_row(size_t i) const {
    return i < prompt_ids.size() ? prompt_top[i] : greedy_top[i - prompt_ids.size() + 1];
  }
};

inline std::vector<TopLogits> parse_top_rows(const nlohmann::json& rows) {
  std::vector<TopLogits> result;
  for (const auto& row : rows) {
    TopLogits top;
    for (const auto& entry : row) top.emplace_back(entry[0].get<int32_t>(), entry[1].get<float>());
    result.push_back(std::move(top));
  }
  return result;
}

// Reads expected/<name>.json from the fixtures directory.
inline ExpectedOutput load_expected(const std::string& name) {
  std::string path = fixtures_dir() + "/expected/" + name + ".json";
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("fixture " + path + " not found; configure with -DEDGELM_FIXTURES_DIR=<fixtures directory>");
  }
  nlohmann::json j = nlohmann::json::parse(in);
  ExpectedOutput e;
  e.model = j.at("model").get<std::string>();
  e.prompt = j.value("prompt", "");
  e.raw_ids = j.value("raw_ids", false);
  e.prompt_ids = j.at("prompt_ids").get<std::vector<int32_t>>();
  e.prompt_top = parse_top_rows(j.at("prompt_top"));
  e.greedy = j.at("greedy").get<std::vector<int32_t>>();
  e.greedy_top = parse_top_rows(j.at("greedy_top"));
  e.greedy_text = j.value("greedy_text", "");
  if (j.contains("exact_path_top")) e.exact_path_top = parse_top_rows(j.at("exact_path_top"));
  return e;
}

}  // namespace edgelm::testing
