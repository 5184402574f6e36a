#pragma once
// Reading the JSON files of a Hugging Face model directory, with errors that
// name the file.

#include <optional>
#include <string>

#include "tokenizer/hf_json.h"

namespace edgelm::hf {

// Parses the JSON file at `path`. Throws Error naming the file when it is
// missing, unreadable or not valid JSON.
Json read_json_file(const std::string& path);

// Like read_json_file, but returns nullopt when the file does not exist.
std::optional<Json> read_json_file_if_present(const std::string& path);

// Returns the text of the file at `path`. Throws Error naming the file when it
// cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace edgelm::hf
