#pragma once
// The naming keys of a converted model (general.name, general.basename,
// general.size_label, ...) derived from a Hugging Face model id or directory
// name the way llama.cpp's gguf-py does (gguf/metadata.py and utility.py).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgelm {

// The parts of a model id such as "meta-llama/Meta-Llama-3.1-8B-Instruct".
// Every field is absent where the id gives none.
struct ModelIdComponents {
  std::optional<std::string> full_name;     // "Meta-Llama-3.1-8B-Instruct"
  std::optional<std::string> organization;  // "meta-llama"
  std::optional<std::string> basename;      // "Meta-Llama-3.1"
  std::optional<std::string> finetune;      // "Instruct"
  std::optional<std::string> version;
  std::optional<std::string> size_label;    // "8B"
};

// Splits `model_id` into its parts. A size written in the name ("8B") is the
// size label only when it is within 7/8 of `total_params` either way.
// Otherwise it is taken for a context length and becomes part of the
// finetune. With `total_params` 0 any size is the size label.
ModelIdComponents split_model_id(std::string_view model_id, uint64_t total_params);

// Turns a model id into a title: dashes become spaces and all-lowercase words
// are capitalized, except versions ("v2") and words that start with a digit
// ("2b"). "tiny-gemma2" becomes "Tiny Gemma2".
std::string model_id_to_title(std::string_view model_id);

// The parameter count rounded to at least two significant digits with a
// K, M, B or T suffix: 6822144 becomes "6.8M", 8030261248 becomes "8.0B".
std::string parameter_count_label(uint64_t n_params);

// The values of the general.* naming keys, each absent when not derived.
struct ModelNameMetadata {
  std::optional<std::string> name;
  std::optional<std::string> version;
  std::optional<std::string> organization;
  std::optional<std::string> finetune;
  std::optional<std::string> basename;
  std::optional<std::string> size_label;
};

// Derives the naming keys as convert_hf_to_gguf.py does without a metadata
// override or --model-name: first from config.json's "_name_or_path" when it
// is a hub id (at most one '/'), then from the directory name for the fields
// still missing; the size label falls back to parameter_count_label when
// `n_params` is positive.
// NOTE: the converter also reads the model card (README.md front matter),
// which can set these keys and more (license, tags, base models); edgelm does
// not read it, so a directory with a model card can convert to other values.
ModelNameMetadata derive_model_name(const std::string& dir, const std::optional<std::string>& name_or_path,
                                    uint64_t n_params);

}  // namespace edgelm
