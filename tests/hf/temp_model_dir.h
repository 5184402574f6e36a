#pragma once
// A Hugging Face model directory made in a fresh temporary folder for one
// test, removed with its contents afterwards.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace edgelm::testing {

class TempModelDir {
 public:
  // The model directory is `name` inside the temporary folder, because the
  // converter derives general.name from the directory name.
  explicit TempModelDir(const std::string& name = "model") {
    std::string pattern = ::testing::TempDir() + "edgelm_hf_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) {
      root_ = pattern;
      dir_ = root_ + "/" + name;
      std::filesystem::create_directories(dir_);
    }
  }
  ~TempModelDir() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  TempModelDir(const TempModelDir&) = delete;
  TempModelDir& operator=(const TempModelDir&) = delete;

  const std::string& path() const { return dir_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(file(name)).parent_path());
    std::ofstream(file(name), std::ios::binary) << text;
  }
  void write_json(const std::string& name, const nlohmann::ordered_json& json) const { write(name, json.dump(2)); }
  void copy(const std::string& from, const std::string& name) const {
    std::filesystem::copy_file(from, file(name), std::filesystem::copy_options::overwrite_existing);
  }

 private:
  std::string root_;
  std::string dir_;
};

}  // namespace edgelm::testing
