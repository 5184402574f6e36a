#include "tokenizer/vocab.h"

#include <limits>
#include <optional>
#include <string_view>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/pre_tokenizer.h"

namespace edgelm {

namespace {

constexpr int32_t kNoToken = -1;

// GGUF writers store "no such token" as UINT32 0xFFFFFFFF (llama.cpp) or as -1.
constexpr uint64_t kUint32None = 0xFFFFFFFFu;

std::string token_id_key(std::string_view name) {
  return fmt::format("tokenizer.ggml.{}_token_id", name);
}

// Reads an optional token id key; returns nullopt when it is absent.
std::optional<int32_t> read_token_id(const GgufFile& file, const std::string& key) {
  const GgufValue* value = file.find(key);
  if (value == nullptr) {
    return std::nullopt;
  }

  if (const auto* u = std::get_if<uint64_t>(&value->value)) {
    if (*u == kUint32None || *u == std::numeric_limits<uint64_t>::max()) {
      return kNoToken;
    }
    if (*u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      fail("{}: {}: token id {} is out of range", file.path(), key, *u);
    }
    return static_cast<int32_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&value->value)) {
    if (*i == -1) {
      return kNoToken;
    }
    if (*i < 0 || *i > std::numeric_limits<int32_t>::max()) {
      fail("{}: {}: token id {} is out of range", file.path(), key, *i);
    }
    return static_cast<int32_t>(*i);
  }
  fail("{}: {}: expected an integer token id, found GGUF type {}", file.path(), key,
       static_cast<uint32_t>(value->type));
}

// The id for a key the file does not have: `fallback` when the vocabulary is
// large enough to contain it, else none.
int32_t default_id(const Vocab& vocab, int32_t fallback) {
  return static_cast<size_t>(fallback) < vocab.tokens.size() ? fallback : kNoToken;
}

// llama.cpp assumes id 0 when the unknown id is missing, but in Gemma
// vocabularies id 0 is <pad>, so look for the token that is the unknown token.
int32_t find_unknown_id(const Vocab& vocab) {
  for (size_t id = 0; id < vocab.types.size(); ++id) {
    if (vocab.types[id] == TokenType::UNKNOWN) {
      return static_cast<int32_t>(id);
    }
  }
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    if (vocab.tokens[id] == "<unk>") {
      return static_cast<int32_t>(id);
    }
  }
  return kNoToken;
}

bool read_flag(const GgufFile& file, std::string_view key, bool fallback) {
  return file.find_bool(key).value_or(fallback);
}

void check_id(const Vocab& vocab, int32_t id, std::string_view name) {
  if (id == kNoToken) {
    return;
  }
  if (id < 0 || static_cast<size_t>(id) >= vocab.tokens.size()) {
    fail("{} = {} is out of range for a vocabulary of {} tokens; the GGUF metadata is inconsistent",
         token_id_key(name), id, vocab.tokens.size());
  }
}

}  // namespace

void validate_vocab(const Vocab& vocab) {
  if (vocab.tokens.empty()) {
    fail("tokenizer.ggml.tokens is empty; the model has no vocabulary");
  }
  if (vocab.tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("tokenizer.ggml.tokens has {} entries, more than token ids can address", vocab.tokens.size());
  }
  if (!vocab.scores.empty() && vocab.scores.size() != vocab.tokens.size()) {
    fail("tokenizer.ggml.scores has {} entries but tokenizer.ggml.tokens has {}; re-convert the model so both have one entry per token",
         vocab.scores.size(), vocab.tokens.size());
  }
  if (!vocab.types.empty() && vocab.types.size() != vocab.tokens.size()) {
    fail("tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}; re-convert the model so both have one entry per token",
         vocab.types.size(), vocab.tokens.size());
  }
  for (size_t id = 0; id < vocab.types.size(); ++id) {
    const auto type = static_cast<int32_t>(vocab.types[id]);
    if (type < 0 || type > static_cast<int32_t>(TokenType::BYTE)) {
      fail("tokenizer.ggml.token_type[{}] = {} is not a token type (0 to 6)", id, type);
    }
  }

  check_id(vocab, vocab.bos_id, "bos");
  check_id(vocab, vocab.eos_id, "eos");
  check_id(vocab, vocab.unk_id, "unknown");
  check_id(vocab, vocab.eot_id, "eot");
  check_id(vocab, vocab.eom_id, "eom");
  check_id(vocab, vocab.pad_id, "padding");
}

Vocab read_vocab(const GgufFile& file) {
  Vocab vocab;
  vocab.model = file.get_string("tokenizer.ggml.model");
  vocab.tokens = file.get_string_array("tokenizer.ggml.tokens");

  if (file.has("tokenizer.ggml.scores")) {
    vocab.scores = file.get_float_array("tokenizer.ggml.scores");
  }

  // Token types are checked here, before the cast to the enum, so the message
  // can show the raw value.
  if (file.has("tokenizer.ggml.token_type")) {
    const std::vector<int64_t> types = file.get_int_array("tokenizer.ggml.token_type");
    vocab.types.reserve(types.size());
    for (size_t id = 0; id < types.size(); ++id) {
      if (types[id] < 0 || types[id] > static_cast<int64_t>(TokenType::BYTE)) {
        fail("{}: tokenizer.ggml.token_type[{}] = {} is not a token type (0 to 6)", file.path(), id, types[id]);
      }
      vocab.types.push_back(static_cast<TokenType>(types[id]));
    }
  }

  // Byte-level BPE vocabularies carry merges and name their pre-tokenizer.
  const bool byte_level = vocab.model == "gpt2";
  vocab.pre = file.find_string("tokenizer.ggml.pre").value_or("");
  if (file.has("tokenizer.ggml.merges")) {
    vocab.merges = file.get_string_array("tokenizer.ggml.merges");
  }
  bool add_bos_default = true;
  if (byte_level) {
    try {
      add_bos_default = find_pre_tokenizer(vocab.pre).add_bos;
    } catch (const Error& error) {
      fail("{}: {}", file.path(), error.what());
    }
  }

  vocab.bos_id = read_token_id(file, token_id_key("bos")).value_or(default_id(vocab, byte_level ? 11 : 1));
  vocab.eos_id = read_token_id(file, token_id_key("eos")).value_or(default_id(vocab, byte_level ? 11 : 2));
  vocab.unk_id = read_token_id(file, token_id_key("unknown")).value_or(find_unknown_id(vocab));
  vocab.eot_id = read_token_id(file, token_id_key("eot")).value_or(kNoToken);
  vocab.eom_id = read_token_id(file, token_id_key("eom")).value_or(kNoToken);
  vocab.pad_id = read_token_id(file, token_id_key("padding")).value_or(kNoToken);

  vocab.add_bos = read_flag(file, "tokenizer.ggml.add_bos_token", add_bos_default);
  vocab.add_eos = read_flag(file, "tokenizer.ggml.add_eos_token", false);
  vocab.add_space_prefix = read_flag(file, "tokenizer.ggml.add_space_prefix", !byte_level);

  try {
    validate_vocab(vocab);
  } catch (const Error& error) {
    fail("{}: {}", file.path(), error.what());
  }
  return vocab;
}

}  // namespace edgelm
