#include "hf/hf_tokenizer_metadata.h"

#include <sentencepiece_processor.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "hf/hf_json_file.h"
#include "hf/hf_special_vocab.h"

namespace edgelm {

namespace {

using hf::fail_at;
using hf::Json;
using hf::JsonPath;

namespace fs = std::filesystem;

// tokenizer.ggml.token_type values (SentencePiece's piece types, as llama.cpp numbers them).
enum TokenTypeId : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Scores the converter gives to ids the model does not fill and to added tokens.
constexpr float kMissingTokenScore = -10000.0f;
constexpr float kAddedTokenScore = -1000.0f;

constexpr std::string_view kSentencePieceSpace = "\xE2\x96\x81";  // U+2581

// The pre-tokenizer regexes of tokenizer.json that select a
// tokenizer.ggml.pre value: Llama 3's (tiktoken cl100k) and Mistral NeMo's tekken.
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kTekkenRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<float> scores;  // SentencePiece only
  std::vector<int32_t> types;
};

std::string path_in(const std::string& dir, std::string_view name) { return (fs::path(dir) / name).string(); }

bool is_file(const std::string& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string result;
  size_t start = 0;
  for (size_t at = text.find(from); at != std::string_view::npos; at = text.find(from, start)) {
    result.append(text.substr(start, at - start));
    result.append(to);
    start = at + from.size();
  }
  result.append(text.substr(start));
  return result;
}

// Added tokens that some models do not mark special although they are
// control tokens (the converter's list: deepseek-coder, Gemma, "<|...|>").
bool looks_special(std::string_view token) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return token.size() >= open.size() + close.size() && token.starts_with(open) && token.ends_with(close);
  };
  return token == "<pad>" || token == "<mask>" || token == "<2mass>" || token == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") ||  // "<｜...｜>" with U+FF5C
         wrapped("<unused", ">");
}

// An added token that is not special becomes user-defined; its "▁" are
// pre-normalized to spaces, because llama.cpp matches user-defined tokens in
// raw text.
void set_added_token(Vocabulary& vocabulary, uint32_t id, std::string content, bool special) {
  if (special || looks_special(content)) {
    vocabulary.types[id] = kControl;
  } else {
    content = replace_all(content, kSentencePieceSpace, " ");
    vocabulary.types[id] = kUserDefined;
  }
  vocabulary.tokens[id] = std::move(content);
}

uint32_t parse_decoder_id(const std::string& key, const JsonPath& where) {
  uint32_t id = 0;
  const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (key.empty() || error != std::errc() || end != key.data() + key.size()) {
    fail_at(where, "\"{}\" is not a token id", key);
  }
  return id;
}

// The pieces of tokenizer.model, then added_tokens.json and tokenizer_config.json's
// added_tokens_decoder over them, padded with "[PAD<id>]" to the config's vocab_size.
Vocabulary read_sentencepiece_vocabulary(const HfConfig& config, const std::string& model_path) {
  sentencepiece::SentencePieceProcessor processor;
  if (const auto status = processor.Load(model_path); !status.ok()) {
    fail("{}: not a valid SentencePiece model: {}", model_path, status.ToString());
  }

  const uint32_t vocab_size = config.vocab_size;
  Vocabulary vocabulary;
  vocabulary.tokens.reserve(vocab_size);
  for (uint32_t id = 0; id < vocab_size; ++id) {
    vocabulary.tokens.push_back(fmt::format("[PAD{}]", id));
  }
  vocabulary.scores.assign(vocab_size, kMissingTokenScore);
  vocabulary.types.assign(vocab_size, kUnused);

  const int piece_count = processor.GetPieceSize();
  for (int id = 0; id < piece_count; ++id) {
    if (static_cast<uint32_t>(id) >= vocab_size) {
      spdlog::warn("{}: pieces from id {} on are beyond config.json's vocab_size {}; not written", model_path, id,
                   vocab_size);
      break;
    }
    int32_t type = kNormal;  // user-defined pieces too, as the converter types them
    if (processor.IsUnknown(id)) {
      type = kUnknown;
    } else if (processor.IsControl(id)) {
      type = kControl;
    } else if (processor.IsUnused(id)) {
      type = kUnused;
    } else if (processor.IsByte(id)) {
      type = kByte;
    }
    vocabulary.tokens[id] = processor.IdToPiece(id);
    vocabulary.scores[id] = processor.GetScore(id);
    vocabulary.types[id] = type;
  }

  // added_tokens.json: {"text": id}, in file order.
  const std::string added_path = path_in(config.dir, "added_tokens.json");
  if (is_file(added_path)) {
    nlohmann::ordered_json added;
    try {
      added = nlohmann::ordered_json::parse(hf::read_text_file(added_path));
    } catch (const nlohmann::ordered_json::parse_error& error) {
      fail("{}: invalid JSON: {}", added_path, error.what());
    }
    if (!added.is_object()) {
      fail("{}: expected a JSON object of token texts and ids, found {}", added_path, added.type_name());
    }
    for (const auto& [content, id_value] : added.items()) {
      const JsonPath where{added_path, content};
      if (!id_value.is_number_unsigned()) {
        fail_at(where, "expected a token id, found {}", id_value.dump());
      }
      const uint64_t id = id_value.get<uint64_t>();
      if (id >= vocab_size) {
        spdlog::warn("{}: token id {} is not below vocab_size {}; not written", added_path, id, vocab_size);
        continue;
      }
      vocabulary.tokens[id] = content;
      vocabulary.scores[id] = kAddedTokenScore;
      vocabulary.types[id] = kUserDefined;
    }
  }

  const std::string config_path = path_in(config.dir, "tokenizer_config.json");
  if (is_file(config_path)) {
    const Json tokenizer_config = hf::read_json_file(config_path);
    const JsonPath where{config_path, "added_tokens_decoder"};
    static const Json kNoTokens = Json::object();
    const Json* decoder = hf::optional_field(tokenizer_config, "added_tokens_decoder");
    if (decoder == nullptr) {
      decoder = &kNoTokens;
    }
    if (!decoder->is_object()) {
      fail_at(where, "expected a JSON object of token ids, found {}", decoder->type_name());
    }
    for (const auto& [key, token] : decoder->items()) {
      const JsonPath token_where = where / key;
      const uint32_t id = parse_decoder_id(key, token_where);
      std::string content = hf::string_field(token, "content", token_where);
      if (id >= vocab_size) {
        spdlog::warn("{}: token id {} is not below vocab_size {}; not written", config_path, id, vocab_size);
        continue;
      }
      const Json* special = hf::optional_field(token, "special");
      set_added_token(vocabulary, id, std::move(content), special != nullptr && special->is_boolean() && special->get<bool>());
      vocabulary.scores[id] = kAddedTokenScore;
    }
  }
  return vocabulary;
}

void add_sentencepiece_tokenizer(const HfConfig& config, const std::string& model_path, GgufMetadataBuilder& metadata) {
  Vocabulary vocabulary = read_sentencepiece_vocabulary(config, model_path);
  const uint32_t n_vocab = static_cast<uint32_t>(vocabulary.tokens.size());

  metadata.add_string("tokenizer.ggml.model", "llama");
  metadata.add_string("tokenizer.ggml.pre", "default");
  metadata.add_string_array("tokenizer.ggml.tokens", std::move(vocabulary.tokens));
  metadata.add_float32_array("tokenizer.ggml.scores", vocabulary.scores);
  metadata.add_int32_array("tokenizer.ggml.token_type", vocabulary.types);

  add_special_vocab(config.dir, SpecialVocabOptions{.load_merges = false, .n_vocab = n_vocab}, metadata);
}

void collect_split_regexes(const Json& pre_tokenizer, std::vector<std::string>& regexes, int depth) {
  if (depth > 8 || !pre_tokenizer.is_object()) {
    return;
  }
  const Json* steps = hf::optional_field(pre_tokenizer, "pretokenizers");
  if (steps != nullptr && steps->is_array()) {
    for (const Json& step : *steps) collect_split_regexes(step, regexes, depth + 1);
  }
  const Json* pattern = hf::optional_field(pre_tokenizer, "pattern");
  const Json* regex = pattern != nullptr ? hf::optional_field(*pattern, "Regex") : nullptr;
  if (regex != nullptr && regex->is_string()) {
    regexes.push_back(regex->get<std::string>());
  }
}

// The converter finds tokenizer.ggml.pre by tokenizing a test text with
// transformers and looking the hash of the ids up in a table of known models.
// edgelm cannot run that, so it recognizes the pre-tokenizer by its regex.
std::string pre_tokenizer_name(const Json& tokenizer, const std::string& tokenizer_path) {
  std::vector<std::string> regexes;
  if (const Json* pre_tokenizer = hf::optional_field(tokenizer, "pre_tokenizer")) {
    collect_split_regexes(*pre_tokenizer, regexes, 0);
  }
  for (const std::string& regex : regexes) {
    if (regex == kLlama3Regex) return "llama-bpe";
    if (regex == kTekkenRegex) return "tekken";
  }
  // NOTE: a pre-tokenizer edgelm does not recognize is written as "default",
  // where the converter would fail or find another name from its hash table,
  // so such a model may split text differently from its Hugging Face tokenizer.
  spdlog::warn("{}: the pre-tokenizer is neither Llama 3's nor tekken's; writing tokenizer.ggml.pre \"default\"",
               tokenizer_path);
  return "default";
}

struct AddedTokenInfo {
  std::string content;
  bool special = false;
};

// Byte-level BPE tokens of tokenizer.json: model.vocab with the added tokens
// over it, padded with "[PAD<id>]" to the config's vocab_size.
Vocabulary read_bpe_vocabulary(const HfConfig& config, const Json& tokenizer, const JsonPath& where) {
  const Json& model = hf::require_field(tokenizer, "model", where);
  const Json& vocab = hf::require_field(model, "vocab", where / "model");
  if (!vocab.is_object()) {
    fail_at(where / "model" / "vocab", "expected a JSON object of tokens and ids, found {}", vocab.type_name());
  }

  std::map<uint32_t, std::string> tokens_by_id;
  for (const auto& [token, id_value] : vocab.items()) {
    tokens_by_id[static_cast<uint32_t>(hf::as_token_id(id_value, where / "model" / "vocab" / token))] = token;
  }

  // Added tokens take their ids over any vocab entry, as transformers' get_vocab() merges them.
  std::map<uint32_t, AddedTokenInfo> added;
  if (const Json* added_tokens = hf::optional_field(tokenizer, "added_tokens")) {
    if (!added_tokens->is_array()) {
      fail_at(where / "added_tokens", "expected an array, found {}", added_tokens->type_name());
    }
    for (size_t i = 0; i < added_tokens->size(); ++i) {
      const Json& entry = (*added_tokens)[i];
      const JsonPath entry_where = (where / "added_tokens")[i];
      const auto id = static_cast<uint32_t>(hf::as_token_id(hf::require_field(entry, "id", entry_where), entry_where / "id"));
      added[id] = {hf::string_field(entry, "content", entry_where), hf::bool_field(entry, "special", false, entry_where)};
    }
  }
  // tokenizer_config.json's added_tokens_decoder adds the ones tokenizer.json lacks.
  const std::string config_path = path_in(config.dir, "tokenizer_config.json");
  if (is_file(config_path)) {
    const Json tokenizer_config = hf::read_json_file(config_path);
    const JsonPath decoder_where{config_path, "added_tokens_decoder"};
    const Json* decoder = hf::optional_field(tokenizer_config, "added_tokens_decoder");
    if (decoder != nullptr && decoder->is_object()) {
      for (const auto& [key, entry] : decoder->items()) {
        const uint32_t id = parse_decoder_id(key, decoder_where / key);
        if (!added.contains(id)) {
          added[id] = {hf::string_field(entry, "content", decoder_where / key),
                       hf::bool_field(entry, "special", false, decoder_where / key)};
        }
      }
    }
  }
  for (const auto& [id, info] : added) {
    tokens_by_id[id] = info.content;
  }

  const uint32_t vocab_size = config.vocab_size;
  if (!tokens_by_id.empty() && tokens_by_id.rbegin()->first >= vocab_size) {
    fail_at(where, "token id {} (\"{}\") is not below config.json's vocab_size {}", tokens_by_id.rbegin()->first,
            tokens_by_id.rbegin()->second, vocab_size);
  }

  // A token is "added" when its text is an added token's text.
  std::map<std::string, bool, std::less<>> added_special_by_content;
  for (const auto& [id, info] : added) {
    added_special_by_content[info.content] = info.special;
  }

  Vocabulary vocabulary;
  vocabulary.tokens.resize(vocab_size);
  vocabulary.types.assign(vocab_size, kNormal);
  for (uint32_t id = 0; id < vocab_size; ++id) {
    const auto token = tokens_by_id.find(id);
    if (token == tokens_by_id.end()) {
      vocabulary.tokens[id] = fmt::format("[PAD{}]", id);
      vocabulary.types[id] = kUnused;
      continue;
    }
    // NOTE: the converter first round-trips an added token that is not
    // normalized through transformers' encode and decode. This assumes the
    // round trip returns the same text, as it does for byte-level BPE.
    const auto added_entry = added_special_by_content.find(token->second);
    if (added_entry != added_special_by_content.end()) {
      set_added_token(vocabulary, id, token->second, added_entry->second);
    } else {
      vocabulary.tokens[id] = token->second;
    }
  }
  return vocabulary;
}

void add_bpe_tokenizer(const HfConfig& config, const std::string& tokenizer_path, GgufMetadataBuilder& metadata) {
  const Json tokenizer = hf::read_json_file(tokenizer_path);
  const JsonPath where{tokenizer_path, ""};
  const Json& model = hf::require_field(tokenizer, "model", where);
  const std::string& type = hf::string_field(model, "type", where / "model");
  if (type != "BPE") {
    fail_at(where / "model" / "type", "tokenizer model \"{}\" is not supported; edgelm converts BPE tokenizer.json files",
            type);
  }

  // A BPE with byte fallback and a Sequence decoder is a SentencePiece model
  // written as JSON; the converter rebuilds its scores through transformers.
  const Json* decoder = hf::optional_field(tokenizer, "decoder");
  const Json* decoder_type = decoder != nullptr ? hf::optional_field(*decoder, "type") : nullptr;
  const bool byte_fallback = hf::bool_field(model, "byte_fallback", false, where / "model");
  if (byte_fallback && decoder_type != nullptr && *decoder_type == "Sequence") {
    fail_at(where / "model" / "byte_fallback",
            "SentencePiece-style BPE tokenizers are converted from tokenizer.model, which {} lacks", config.dir);
  }

  Vocabulary vocabulary = read_bpe_vocabulary(config, tokenizer, where);
  metadata.add_string("tokenizer.ggml.model", "gpt2");
  metadata.add_string("tokenizer.ggml.pre", pre_tokenizer_name(tokenizer, tokenizer_path));
  metadata.add_string_array("tokenizer.ggml.tokens", std::move(vocabulary.tokens));
  metadata.add_int32_array("tokenizer.ggml.token_type", vocabulary.types);

  add_special_vocab(config.dir, SpecialVocabOptions{.load_merges = true, .n_vocab = std::nullopt}, metadata);
}

void add_llama_tokenizer(const HfConfig& config, GgufMetadataBuilder& metadata) {
  const std::string model_path = path_in(config.dir, "tokenizer.model");
  const std::string json_path = path_in(config.dir, "tokenizer.json");
  if (is_file(path_in(config.dir, "tekken.json")) && !is_file(json_path)) {
    fail("{}: Mistral's own tekken.json tokenizer format is not supported; edgelm needs tokenizer.json or tokenizer.model",
         path_in(config.dir, "tekken.json"));
  }

  // tokenizer_config.json's add_prefix_space comes first in the converter's output.
  const std::string config_path = path_in(config.dir, "tokenizer_config.json");
  if (is_file(config_path)) {
    const Json tokenizer_config = hf::read_json_file(config_path);
    if (hf::optional_field(tokenizer_config, "add_prefix_space") != nullptr) {
      metadata.add_bool("tokenizer.ggml.add_space_prefix",
                        hf::bool_field(tokenizer_config, "add_prefix_space", false, JsonPath{config_path, ""}));
    }
  }

  // NOTE: the converter also writes CodeLlama's infill token ids (vocab_size
  // 32016) and add_bos_token false for Granite (vocab_size 49152); edgelm
  // writes neither.
  if (is_file(model_path)) {
    add_sentencepiece_tokenizer(config, model_path, metadata);
  } else if (is_file(json_path)) {
    add_bpe_tokenizer(config, json_path, metadata);
  } else {
    fail("{}: no tokenizer found; the directory needs tokenizer.model (SentencePiece) or tokenizer.json", config.dir);
  }
}

}  // namespace

void add_tokenizer_metadata(const HfConfig& config, GgufMetadataBuilder& metadata) {
  if (config.arch != HfArchitecture::kGemma2) {
    add_llama_tokenizer(config, metadata);
    return;
  }

  const std::string model_path = path_in(config.dir, "tokenizer.model");
  if (!is_file(model_path)) {
    fail("{}: file not found; a Gemma 2 model directory needs its SentencePiece tokenizer.model", model_path);
  }
  add_sentencepiece_tokenizer(config, model_path, metadata);
  // Gemma's tokenizer adds no space before the first word.
  metadata.add_bool("tokenizer.ggml.add_space_prefix", false);
}

}  // namespace edgelm
