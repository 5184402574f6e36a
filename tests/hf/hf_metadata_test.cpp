// hf_gguf_metadata against what llama.cpp's convert_hf_to_gguf.py writes.
// The tiny Gemma 2 checkpoint is compared key by key with the GGUF file the
// converter made from it. Small Llama directories written here are compared
// with the values that the converter's rules give, worked out in each test.

#include "hf/hf_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "hf/temp_model_dir.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::ordered_json;
using testing::TempModelDir;

std::string fixture(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

std::vector<std::string> keys_of(const GgufMetadata& metadata) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : metadata) keys.push_back(key);
  return keys;
}

const GgufValue& value_of(const GgufMetadata& metadata, const std::string& key) {
  for (const auto& [name, value] : metadata) {
    if (name == key) return value;
  }
  throw std::runtime_error("metadata has no key " + key);
}

GgufType type_of(const GgufMetadata& metadata, const std::string& key) { return value_of(metadata, key).type; }

const GgufArray& array_of(const GgufMetadata& metadata, const std::string& key) {
  return std::get<GgufArray>(value_of(metadata, key).value);
}

std::string string_of(const GgufMetadata& metadata, const std::string& key) {
  return std::get<std::string>(value_of(metadata, key).value);
}

uint64_t uint_of(const GgufMetadata& metadata, const std::string& key) {
  return std::get<uint64_t>(value_of(metadata, key).value);
}

double float_of(const GgufMetadata& metadata, const std::string& key) {
  return std::get<double>(value_of(metadata, key).value);
}

bool bool_of(const GgufMetadata& metadata, const std::string& key) { return std::get<bool>(value_of(metadata, key).value); }

std::vector<std::string> strings_of(const GgufMetadata& metadata, const std::string& key) {
  std::vector<std::string> values;
  for (const GgufValue& item : array_of(metadata, key).items) values.push_back(std::get<std::string>(item.value));
  return values;
}

std::vector<int64_t> ints_of(const GgufMetadata& metadata, const std::string& key) {
  std::vector<int64_t> values;
  for (const GgufValue& item : array_of(metadata, key).items) values.push_back(std::get<int64_t>(item.value));
  return values;
}

std::vector<double> floats_of(const GgufMetadata& metadata, const std::string& key) {
  std::vector<double> values;
  for (const GgufValue& item : array_of(metadata, key).items) values.push_back(std::get<double>(item.value));
  return values;
}

// A float32 value as the file stores it.
double f32(double value) { return static_cast<float>(value); }

// Whether two non-array values hold the same alternative and value; floats
// compare exactly, as both are float32 values widened to double.
bool same_scalar(const GgufValue& a, const GgufValue& b) {
  if (a.value.index() != b.value.index()) return false;
  if (const auto* x = std::get_if<uint64_t>(&a.value)) return *x == std::get<uint64_t>(b.value);
  if (const auto* x = std::get_if<int64_t>(&a.value)) return *x == std::get<int64_t>(b.value);
  if (const auto* x = std::get_if<double>(&a.value)) return *x == std::get<double>(b.value);
  if (const auto* x = std::get_if<bool>(&a.value)) return *x == std::get<bool>(b.value);
  if (const auto* x = std::get_if<std::string>(&a.value)) return *x == std::get<std::string>(b.value);
  return false;
}

// Expects `actual` to have the type and value of `expected`; arrays are
// compared element by element and the first difference is reported.
void expect_same_value(const std::string& key, const GgufValue& actual, const GgufValue& expected) {
  ASSERT_EQ(actual.type, expected.type) << key;
  if (expected.type != GgufType::ARRAY) {
    EXPECT_TRUE(same_scalar(actual, expected)) << key;
    return;
  }
  const auto& actual_array = std::get<GgufArray>(actual.value);
  const auto& expected_array = std::get<GgufArray>(expected.value);
  ASSERT_EQ(actual_array.element_type, expected_array.element_type) << key;
  ASSERT_EQ(actual_array.items.size(), expected_array.items.size()) << key;
  for (size_t i = 0; i < expected_array.items.size(); ++i) {
    ASSERT_EQ(actual_array.items[i].type, expected_array.items[i].type) << key << "[" << i << "]";
    ASSERT_TRUE(same_scalar(actual_array.items[i], expected_array.items[i])) << key << "[" << i << "]";
  }
}

TEST(HfMetadata, TinyGemma2MatchesConverter) {
  const auto expected = GgufFile::open(fixture("tiny-gemma2-bf16.gguf"));
  // The lead passes the element count of every tensor written.
  uint64_t n_params = 0;
  for (const GgufTensor& tensor : expected->tensors()) n_params += tensor.n_elements();
  ASSERT_EQ(n_params, 6822144u);

  const GgufMetadata actual =
      hf_gguf_metadata(HfConfig::load(fixture("tiny-gemma2")), HfMetadataOptions{.file_type = 32, .n_params = n_params});

  ASSERT_EQ(expected->metadata().size(), 30u);
  std::vector<std::string> expected_keys;
  for (const auto& [key, value] : expected->metadata()) expected_keys.push_back(key);
  ASSERT_EQ(keys_of(actual), expected_keys);
  for (size_t i = 0; i < actual.size(); ++i) {
    expect_same_value(actual[i].first, actual[i].second, expected->metadata()[i].second);
  }
}

TEST(HfMetadata, TinyGemma2SpotValues) {
  // The same comparison spelled out for the keys a reader checks first.
  const GgufMetadata metadata =
      hf_gguf_metadata(HfConfig::load(fixture("tiny-gemma2")), HfMetadataOptions{.file_type = 32, .n_params = 6822144});

  EXPECT_EQ(string_of(metadata, "general.name"), "Tiny Gemma2");
  EXPECT_EQ(string_of(metadata, "general.size_label"), "6.8M");
  EXPECT_EQ(type_of(metadata, "gemma2.attention.layer_norm_rms_epsilon"), GgufType::FLOAT32);
  EXPECT_EQ(float_of(metadata, "gemma2.attention.layer_norm_rms_epsilon"), f32(1e-6));
  EXPECT_EQ(uint_of(metadata, "general.file_type"), 32u);
  // Ids 0-6 are special in added_tokens_decoder: control tokens scored -1000.
  const std::vector<int64_t> types = ints_of(metadata, "tokenizer.ggml.token_type");
  const std::vector<double> scores = floats_of(metadata, "tokenizer.ggml.scores");
  for (size_t id = 0; id < 7; ++id) {
    EXPECT_EQ(types[id], 3) << id;
    EXPECT_EQ(scores[id], -1000.0) << id;
  }
  // Config.json's eos (1) is written, not generation_config.json's list.
  EXPECT_EQ(uint_of(metadata, "tokenizer.ggml.eos_token_id"), 1u);
  EXPECT_FALSE(bool_of(metadata, "tokenizer.ggml.add_space_prefix"));
}

// ---------------------------------------------------------------------------
// A Llama 3-style directory: byte-level BPE tokenizer.json.

// GPT-2's byte-to-character map as a list of the 256 byte tokens, in the
// order Llama 3's vocabulary lists them: printable bytes first, then the
// others mapped to U+0100 onwards.
std::vector<std::string> byte_level_alphabet() {
  const auto utf8 = [](uint32_t code_point) {
    std::string text;
    if (code_point < 0x80) {
      text += static_cast<char>(code_point);
    } else {
      text += static_cast<char>(0xC0 | (code_point >> 6));
      text += static_cast<char>(0x80 | (code_point & 0x3F));
    }
    return text;
  };
  std::vector<uint32_t> printable;
  for (uint32_t b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (uint32_t b = 0xA1; b <= 0xAC; ++b) printable.push_back(b);
  for (uint32_t b = 0xAE; b <= 0xFF; ++b) printable.push_back(b);
  std::vector<std::string> alphabet;
  for (uint32_t b : printable) alphabet.push_back(utf8(b));
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    if (std::find(printable.begin(), printable.end(), b) == printable.end()) alphabet.push_back(utf8(next++));
  }
  return alphabet;
}

const std::string kSpace = "\xC4\xA0";  // "Ġ", byte-level BPE's space

// The merges as pairs; each adds the concatenation as the next token.
std::vector<std::pair<std::string, std::string>> merge_pairs() {
  return {{kSpace, "t"},           {"h", "e"},           {kSpace + "t", "he"}, {"i", "n"},
          {kSpace, "a"},           {"o", "n"},           {"e", "r"},           {kSpace + "a", "n"},
          {kSpace + "an", "d"},    {"r", "e"}};
}

constexpr uint32_t kBeginOfText = 297;
constexpr uint32_t kEndOfText = 298;
constexpr uint32_t kEotId = 299;
constexpr uint32_t kVocabSize = 304;  // ids 302 and 303 have no token

// Llama 3's pre-tokenizer regex as tokenizer.json stores it.
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kTekkenRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const char* const kChatTemplate =
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] }}<|eot_id|>{% endfor %}";

// Token texts of the test vocabulary by id (without the two missing ids).
std::vector<std::string> model_tokens() {
  std::vector<std::string> tokens = byte_level_alphabet();
  for (const auto& [left, right] : merge_pairs()) tokens.push_back(left + right);
  while (tokens.size() < kBeginOfText) tokens.push_back(kSpace + "word" + std::to_string(tokens.size()));
  return tokens;
}

struct AddedToken {
  uint32_t id;
  std::string content;
  bool special;
};

std::vector<AddedToken> added_tokens() {
  return {{kBeginOfText, "<|begin_of_text|>", true},
          {kEndOfText, "<|end_of_text|>", true},
          {kEotId, "<|eot_id|>", true},
          {300, "<|reserved_special_token_0|>", false},  // not special, but looks it
          {301, "\xE2\x96\x81" "custom", false}};        // "▁custom", an ordinary added token
}

enum class MergeForm { kStrings, kPairs };

Json tokenizer_json(MergeForm form, const std::string& regex) {
  Json vocab = Json::object();
  const std::vector<std::string> tokens = model_tokens();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[tokens[id]] = id;

  Json merges = Json::array();
  for (const auto& [left, right] : merge_pairs()) {
    if (form == MergeForm::kStrings) {
      merges.push_back(left + " " + right);
    } else {
      merges.push_back(Json::array({left, right}));
    }
  }
  if (form == MergeForm::kPairs) {
    merges.push_back(Json::array({"a b", "c"}));  // a piece with a space, which only the pair form can hold
  }

  Json added = Json::array();
  for (const AddedToken& token : added_tokens()) {
    added.push_back({{"id", token.id},
                     {"content", token.content},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", token.special}});
  }

  const Json begin = {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}};
  return Json{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
      {"post_processor",
       {{"type", "Sequence"},
        {"processors",
         {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
          {{"type", "TemplateProcessing"},
           {"single", {begin, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
           {"pair",
            {begin,
             {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
             {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 1}}}},
             {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
           {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {kBeginOfText}}, {"tokens", {"<|begin_of_text|>"}}}}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", true},
        {"vocab", vocab},
        {"merges", merges}}},
  };
}

// Llama 3.1 Instruct's tokenizer_config.json layout: no add_bos_token, the
// EOS of a chat turn, added_tokens_decoder and the chat template.
Json tokenizer_config_json() {
  Json decoder = Json::object();
  for (const AddedToken& token : added_tokens()) {
    decoder[std::to_string(token.id)] = {{"content", token.content},  {"lstrip", false},     {"normalized", false},
                                         {"rstrip", false},           {"single_word", false}, {"special", token.special}};
  }
  return Json{{"added_tokens_decoder", decoder},
              {"bos_token", "<|begin_of_text|>"},
              {"chat_template", kChatTemplate},
              {"clean_up_tokenization_spaces", true},
              {"eos_token", "<|eot_id|>"},
              {"model_input_names", {"input_ids", "attention_mask"}},
              {"model_max_length", 131072},
              {"tokenizer_class", "PreTrainedTokenizerFast"}};
}

Json llama3_config_json() {
  return Json{{"architectures", {"LlamaForCausalLM"}},
              {"attention_bias", false},
              {"bos_token_id", kBeginOfText},
              {"eos_token_id", {kEndOfText, kEotId}},
              {"hidden_act", "silu"},
              {"hidden_size", 64},
              {"intermediate_size", 128},
              {"max_position_embeddings", 131072},
              {"model_type", "llama"},
              {"num_attention_heads", 4},
              {"num_hidden_layers", 2},
              {"num_key_value_heads", 2},
              {"rms_norm_eps", 1e-05},
              {"rope_scaling",
               {{"factor", 32.0},
                {"high_freq_factor", 4.0},
                {"low_freq_factor", 1.0},
                {"original_max_position_embeddings", 8192},
                {"rope_type", "llama3"}}},
              {"rope_theta", 500000.0},
              {"tie_word_embeddings", true},
              {"torch_dtype", "bfloat16"},
              {"vocab_size", kVocabSize}};
}

void write_llama3_dir(const TempModelDir& dir, MergeForm form = MergeForm::kStrings, const std::string& regex = kLlama3Regex) {
  dir.write_json("config.json", llama3_config_json());
  dir.write_json("generation_config.json", Json{{"bos_token_id", kBeginOfText},
                                                {"do_sample", true},
                                                {"eos_token_id", {kEndOfText, kEotId}},
                                                {"temperature", 0.6},
                                                {"top_p", 0.9}});
  dir.write_json("tokenizer.json", tokenizer_json(form, regex));
  dir.write_json("tokenizer_config.json", tokenizer_config_json());
}

constexpr uint64_t kLlama32Params = 1235814400;  // Llama 3.2 1B's parameter count

GgufMetadata llama3_metadata(const TempModelDir& dir) {
  return hf_gguf_metadata(HfConfig::load(dir.path()), HfMetadataOptions{.file_type = 32, .n_params = kLlama32Params});
}

TEST(HfMetadataLlama3, KeysInConverterOrder) {
  // The converter writes architecture and type (GGUFWriter and set_type),
  // then sampling settings and naming keys (Metadata.set_gguf_meta_model).
  // TextModel's and LlamaModel's hyperparameters and quantization_version
  // follow. set_vocab ends the list: _set_vocab_gpt2's model, pre, tokens and
  // token types, then SpecialVocab's merges, ids, add-token flags and chat
  // template. Llama 3 RoPE scaling adds no key.
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir);
  const GgufMetadata metadata = llama3_metadata(dir);

  const std::vector<std::string> expected_keys = {"general.architecture", "general.type", "general.sampling.top_p", "general.sampling.temp",
                          "general.name", "general.finetune", "general.basename", "general.size_label",
                          "llama.block_count", "llama.context_length", "llama.embedding_length",
                          "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                          "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon",
                          "llama.attention.key_length", "llama.attention.value_length", "general.file_type",
                          "llama.vocab_size", "llama.rope.dimension_count", "general.quantization_version",
                          "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens",
                          "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id",
                          "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_sep_token",
                          "tokenizer.chat_template"};
  EXPECT_EQ(keys_of(metadata), expected_keys);
}

TEST(HfMetadataLlama3, GeneralKeys) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir);
  const GgufMetadata metadata = llama3_metadata(dir);

  EXPECT_EQ(string_of(metadata, "general.architecture"), "llama");
  EXPECT_EQ(string_of(metadata, "general.type"), "model");
  // generation_config.json's top_p and temperature, as float32.
  EXPECT_EQ(type_of(metadata, "general.sampling.top_p"), GgufType::FLOAT32);
  EXPECT_EQ(float_of(metadata, "general.sampling.top_p"), f32(0.9));
  EXPECT_EQ(float_of(metadata, "general.sampling.temp"), f32(0.6));
  // From the directory name: "1B" is within 7/8 of 1.24e9, so it is the size label.
  EXPECT_EQ(string_of(metadata, "general.name"), "Llama 3.2 1B Instruct");
  EXPECT_EQ(string_of(metadata, "general.finetune"), "Instruct");
  EXPECT_EQ(string_of(metadata, "general.basename"), "Llama-3.2");
  EXPECT_EQ(string_of(metadata, "general.size_label"), "1B");
  EXPECT_EQ(type_of(metadata, "general.file_type"), GgufType::UINT32);
  EXPECT_EQ(uint_of(metadata, "general.file_type"), 32u);
  EXPECT_EQ(uint_of(metadata, "general.quantization_version"), 2u);
}

TEST(HfMetadataLlama3, Hyperparameters) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir);
  const GgufMetadata metadata = llama3_metadata(dir);

  for (const char* key : {"llama.block_count", "llama.context_length", "llama.embedding_length",
                          "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                          "llama.attention.key_length", "llama.attention.value_length", "llama.vocab_size",
                          "llama.rope.dimension_count"}) {
    EXPECT_EQ(type_of(metadata, key), GgufType::UINT32) << key;
  }
  EXPECT_EQ(uint_of(metadata, "llama.block_count"), 2u);
  EXPECT_EQ(uint_of(metadata, "llama.context_length"), 131072u);
  EXPECT_EQ(uint_of(metadata, "llama.embedding_length"), 64u);
  EXPECT_EQ(uint_of(metadata, "llama.feed_forward_length"), 128u);
  EXPECT_EQ(uint_of(metadata, "llama.attention.head_count"), 4u);
  EXPECT_EQ(uint_of(metadata, "llama.attention.head_count_kv"), 2u);
  // config.json has no head_dim; transformers' LlamaConfig sets hidden_size / heads.
  EXPECT_EQ(uint_of(metadata, "llama.attention.key_length"), 16u);
  EXPECT_EQ(uint_of(metadata, "llama.attention.value_length"), 16u);
  EXPECT_EQ(uint_of(metadata, "llama.rope.dimension_count"), 16u);
  EXPECT_EQ(uint_of(metadata, "llama.vocab_size"), kVocabSize);
  EXPECT_EQ(type_of(metadata, "llama.rope.freq_base"), GgufType::FLOAT32);
  EXPECT_EQ(float_of(metadata, "llama.rope.freq_base"), 500000.0);
  EXPECT_EQ(type_of(metadata, "llama.attention.layer_norm_rms_epsilon"), GgufType::FLOAT32);
  EXPECT_EQ(float_of(metadata, "llama.attention.layer_norm_rms_epsilon"), f32(1e-5));
}

TEST(HfMetadataLlama3, TokensAndTypes) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir);
  const GgufMetadata metadata = llama3_metadata(dir);

  EXPECT_EQ(string_of(metadata, "tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(string_of(metadata, "tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(array_of(metadata, "tokenizer.ggml.tokens").element_type, GgufType::STRING);
  EXPECT_EQ(array_of(metadata, "tokenizer.ggml.token_type").element_type, GgufType::INT32);

  // get_vocab_base: ids without a token become "[PAD<id>]" (unused, 5);
  // added special tokens and ones that look special ("<|...|>") are control
  // (3); other added tokens are user-defined (4) with "▁" turned into a space;
  // the rest are normal (1).
  std::vector<std::string> expected_tokens = model_tokens();
  std::vector<int64_t> expected_types(expected_tokens.size(), 1);
  for (const char* token : {"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|reserved_special_token_0|>"}) {
    expected_tokens.push_back(token);
    expected_types.push_back(3);
  }
  expected_tokens.push_back(" custom");
  expected_types.push_back(4);
  for (const char* token : {"[PAD302]", "[PAD303]"}) {
    expected_tokens.push_back(token);
    expected_types.push_back(5);
  }

  ASSERT_EQ(expected_tokens.size(), kVocabSize);
  EXPECT_EQ(strings_of(metadata, "tokenizer.ggml.tokens"), expected_tokens);
  EXPECT_EQ(ints_of(metadata, "tokenizer.ggml.token_type"), expected_types);
  EXPECT_EQ(strings_of(metadata, "tokenizer.ggml.tokens")[0], "!");
  EXPECT_EQ(strings_of(metadata, "tokenizer.ggml.tokens")[220], kSpace);  // byte 0x20, as in Llama 3
}

TEST(HfMetadataLlama3, SpecialTokensAndFlags) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir);
  const GgufMetadata metadata = llama3_metadata(dir);

  // bos_token and eos_token of tokenizer_config.json resolved through
  // tokenizer.json's added_tokens; config.json's eos list is not an int, so
  // it adds nothing.
  EXPECT_EQ(type_of(metadata, "tokenizer.ggml.bos_token_id"), GgufType::UINT32);
  EXPECT_EQ(uint_of(metadata, "tokenizer.ggml.bos_token_id"), kBeginOfText);
  EXPECT_EQ(uint_of(metadata, "tokenizer.ggml.eos_token_id"), kEotId);
  // The TemplateProcessing starts the single sequence with BOS, so add BOS;
  // its pair puts "<|begin_of_text|>" between A and B, which is neither SEP
  // nor EOS, so add_sep_token is false.
  EXPECT_EQ(type_of(metadata, "tokenizer.ggml.add_bos_token"), GgufType::BOOL);
  EXPECT_TRUE(bool_of(metadata, "tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(bool_of(metadata, "tokenizer.ggml.add_sep_token"));
  EXPECT_EQ(string_of(metadata, "tokenizer.chat_template"), kChatTemplate);
}

TEST(HfMetadataLlama3, MergesAsStrings) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir, MergeForm::kStrings);
  const GgufMetadata metadata = llama3_metadata(dir);

  EXPECT_EQ(array_of(metadata, "tokenizer.ggml.merges").element_type, GgufType::STRING);
  const std::vector<std::string> merges = strings_of(metadata, "tokenizer.ggml.merges");
  ASSERT_EQ(merges.size(), 10u);
  EXPECT_EQ(merges[0], kSpace + " t");
  EXPECT_EQ(merges[2], kSpace + "t he");
  EXPECT_EQ(merges[9], "r e");
}

TEST(HfMetadataLlama3, MergesAsPairs) {
  TempModelDir dir("Llama-3.2-1B-Instruct");
  write_llama3_dir(dir, MergeForm::kPairs);
  const GgufMetadata metadata = llama3_metadata(dir);

  // Pairs are joined with a space; a space inside a piece becomes U+0120.
  const std::vector<std::string> merges = strings_of(metadata, "tokenizer.ggml.merges");
  ASSERT_EQ(merges.size(), 11u);
  EXPECT_EQ(merges[0], kSpace + " t");
  EXPECT_EQ(merges[8], kSpace + "an d");
  EXPECT_EQ(merges[10], "a" + kSpace + "b c");
}

TEST(HfMetadataLlama3, TekkenPreTokenizer) {
  TempModelDir dir("Mistral-Nemo-Instruct-2407");
  write_llama3_dir(dir, MergeForm::kStrings, kTekkenRegex);
  EXPECT_EQ(string_of(llama3_metadata(dir), "tokenizer.ggml.pre"), "tekken");
}

TEST(HfMetadataLlama3, UnknownPreTokenizerIsDefault) {
  TempModelDir dir("model");
  write_llama3_dir(dir, MergeForm::kStrings, R"( ?\p{L}+| ?\p{N}+)");
  EXPECT_EQ(string_of(llama3_metadata(dir), "tokenizer.ggml.pre"), "default");
}

TEST(HfMetadataLlama3, NamedChatTemplates) {
  // A list of named templates: each one but "default" gets its own key and
  // is listed in tokenizer.chat_templates; names keep only letters and digits.
  TempModelDir dir("model");
  write_llama3_dir(dir);
  Json config = tokenizer_config_json();
  config["chat_template"] = Json::array({{{"name", "default"}, {"template", "main"}},
                                         {{"name", "tool use"}, {"template", "tools"}}});
  dir.write_json("tokenizer_config.json", config);
  const GgufMetadata metadata = llama3_metadata(dir);

  EXPECT_EQ(string_of(metadata, "tokenizer.chat_template.tool_use"), "tools");
  EXPECT_EQ(strings_of(metadata, "tokenizer.chat_templates"), std::vector<std::string>{"tool_use"});
  EXPECT_EQ(string_of(metadata, "tokenizer.chat_template"), "main");
  const std::vector<std::string> keys = keys_of(metadata);
  EXPECT_EQ(keys.back(), "tokenizer.chat_template");
}

TEST(HfMetadataLlama3, ChatTemplateJinjaFile) {
  // Used only when tokenizer_config.json has no "chat_template" key.
  TempModelDir dir("model");
  write_llama3_dir(dir);
  Json config = tokenizer_config_json();
  config.erase("chat_template");
  dir.write_json("tokenizer_config.json", config);
  dir.write("chat_template.jinja", "from the jinja file");

  EXPECT_EQ(string_of(llama3_metadata(dir), "tokenizer.chat_template"), "from the jinja file");
}

TEST(HfMetadataLlama3, ExplicitAddBosToken) {
  TempModelDir dir("model");
  write_llama3_dir(dir);
  Json config = tokenizer_config_json();
  config["add_bos_token"] = false;
  config["add_eos_token"] = true;
  dir.write_json("tokenizer_config.json", config);
  const GgufMetadata metadata = llama3_metadata(dir);

  // tokenizer_config.json's flags replace the post-processor's in place.
  EXPECT_FALSE(bool_of(metadata, "tokenizer.ggml.add_bos_token"));
  EXPECT_TRUE(bool_of(metadata, "tokenizer.ggml.add_eos_token"));
  const std::vector<std::string> keys = keys_of(metadata);
  const auto position = [&](const char* key) { return std::find(keys.begin(), keys.end(), key) - keys.begin(); };
  EXPECT_LT(position("tokenizer.ggml.add_bos_token"), position("tokenizer.ggml.add_sep_token"));
  EXPECT_LT(position("tokenizer.ggml.add_sep_token"), position("tokenizer.ggml.add_eos_token"));
}

// ---------------------------------------------------------------------------
// A Llama directory with a SentencePiece tokenizer.model (Llama 2 style).

TEST(HfMetadataLlamaSentencePiece, PaddingAndAddedTokens) {
  TempModelDir dir("model");
  Json config = llama3_config_json();
  config.erase("rope_scaling");
  config["vocab_size"] = 8200;  // 8 more than tokenizer.model's 8192 pieces
  config["bos_token_id"] = 2;
  config["eos_token_id"] = 1;
  dir.write_json("config.json", config);
  dir.copy(fixture("tiny-gemma2/tokenizer.model"), "tokenizer.model");
  dir.write_json("added_tokens.json", Json{{"<extra>", 8195}, {"<beyond>", 9000}});
  dir.write_json("tokenizer_config.json", Json{{"add_prefix_space", false}, {"add_bos_token", true}, {"bos_token", "<bos>"}});
  const GgufMetadata metadata = hf_gguf_metadata(HfConfig::load(dir.path()), HfMetadataOptions{});

  // LlamaModel.set_vocab writes add_prefix_space before the vocabulary, and
  // no general.size_label without a parameter count.
  const std::vector<std::string> keys = keys_of(metadata);
  const auto model_key = std::find(keys.begin(), keys.end(), "tokenizer.ggml.model");
  ASSERT_NE(model_key, keys.end());
  EXPECT_EQ(*(model_key - 1), "tokenizer.ggml.add_space_prefix");
  EXPECT_FALSE(bool_of(metadata, "tokenizer.ggml.add_space_prefix"));
  EXPECT_EQ(std::find(keys.begin(), keys.end(), "general.size_label"), keys.end());
  EXPECT_EQ(string_of(metadata, "tokenizer.ggml.model"), "llama");
  EXPECT_EQ(string_of(metadata, "tokenizer.ggml.pre"), "default");

  const std::vector<std::string> tokens = strings_of(metadata, "tokenizer.ggml.tokens");
  const std::vector<double> scores = floats_of(metadata, "tokenizer.ggml.scores");
  const std::vector<int64_t> types = ints_of(metadata, "tokenizer.ggml.token_type");
  ASSERT_EQ(tokens.size(), 8200u);
  ASSERT_EQ(scores.size(), 8200u);
  ASSERT_EQ(types.size(), 8200u);

  // Without added_tokens_decoder the piece types of tokenizer.model stand:
  // pad, eos and bos control, unk unknown, user-defined pieces normal.
  EXPECT_THAT(std::vector<int64_t>(types.begin(), types.begin() + 7), ElementsAre(3, 3, 3, 2, 1, 1, 1));
  EXPECT_EQ(tokens[4], "<start_of_turn>");

  // Ids past the model: "[PAD<id>]", score -10000, unused; added_tokens.json
  // sets id 8195 as user-defined with score -1000 and skips id 9000.
  EXPECT_EQ(tokens[8192], "[PAD8192]");
  EXPECT_EQ(scores[8192], -10000.0);
  EXPECT_EQ(types[8192], 5);
  EXPECT_EQ(tokens[8195], "<extra>");
  EXPECT_EQ(scores[8195], -1000.0);
  EXPECT_EQ(types[8195], 4);
  EXPECT_EQ(tokens[8199], "[PAD8199]");

  // No tokenizer.json to resolve "<bos>", so the ids come from config.json.
  EXPECT_EQ(uint_of(metadata, "tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(uint_of(metadata, "tokenizer.ggml.eos_token_id"), 1u);
  EXPECT_TRUE(bool_of(metadata, "tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(keys.back(), "tokenizer.ggml.add_bos_token");
}

TEST(HfMetadataLlamaSentencePiece, ScoresMatchGemmaFixture) {
  // The same tokenizer.model as the Gemma fixture: pieces and scores above
  // the added tokens (ids 7 on) match the converter's file.
  TempModelDir dir("model");
  Json config = llama3_config_json();
  config.erase("rope_scaling");
  config["vocab_size"] = 8192;
  dir.write_json("config.json", config);
  dir.copy(fixture("tiny-gemma2/tokenizer.model"), "tokenizer.model");
  const GgufMetadata metadata = hf_gguf_metadata(HfConfig::load(dir.path()), HfMetadataOptions{});
  const auto expected = GgufFile::open(fixture("tiny-gemma2-bf16.gguf"));

  const std::vector<std::string> tokens = strings_of(metadata, "tokenizer.ggml.tokens");
  const std::vector<double> scores = floats_of(metadata, "tokenizer.ggml.scores");
  const std::vector<std::string> expected_tokens = expected->get_string_array("tokenizer.ggml.tokens");
  const std::vector<float> expected_scores = expected->get_float_array("tokenizer.ggml.scores");
  ASSERT_EQ(tokens.size(), expected_tokens.size());
  for (size_t id = 7; id < tokens.size(); ++id) {
    ASSERT_EQ(tokens[id], expected_tokens[id]) << id;
    ASSERT_EQ(scores[id], static_cast<double>(expected_scores[id])) << id;
  }
}

// ---------------------------------------------------------------------------
// Errors.

std::string metadata_error(const std::string& dir) {
  try {
    hf_gguf_metadata(HfConfig::load(dir), HfMetadataOptions{});
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(HfMetadataErrors, GemmaWithoutTokenizerModel) {
  TempModelDir dir;
  dir.copy(fixture("tiny-gemma2/config.json"), "config.json");
  const std::string message = metadata_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("tokenizer.model")));
  EXPECT_THAT(message, HasSubstr("file not found"));
}

TEST(HfMetadataErrors, LlamaWithoutTokenizer) {
  TempModelDir dir;
  dir.write_json("config.json", llama3_config_json());

  EXPECT_THAT(metadata_error(dir.path()), HasSubstr("no tokenizer found"));
}

TEST(HfMetadataErrors, MalformedTokenizerJson) {
  TempModelDir dir;
  dir.write_json("config.json", llama3_config_json());
  dir.write("tokenizer.json", "{\"model\": ");
  const std::string message = metadata_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("tokenizer.json")));
  EXPECT_THAT(message, HasSubstr("invalid JSON"));
}

TEST(HfMetadataErrors, TokenIdBeyondVocabSize) {
  TempModelDir dir;
  write_llama3_dir(dir);
  Json config = llama3_config_json();
  config["vocab_size"] = 300;  // the added tokens reach id 301
  dir.write_json("config.json", config);

  EXPECT_THAT(metadata_error(dir.path()), HasSubstr("token id 301 (\"\xE2\x96\x81" "custom\") is not below config.json's vocab_size 300"));
}

TEST(HfMetadataErrors, SentencePieceStyleTokenizerJson) {
  TempModelDir dir;
  write_llama3_dir(dir);
  Json tokenizer = tokenizer_json(MergeForm::kStrings, kLlama3Regex);
  tokenizer["model"]["byte_fallback"] = true;
  tokenizer["decoder"] = {{"type", "Sequence"}, {"decoders", Json::array()}};
  dir.write_json("tokenizer.json", tokenizer);

  EXPECT_THAT(metadata_error(dir.path()), HasSubstr("converted from tokenizer.model"));
}

TEST(HfMetadataErrors, BadMergeEntry) {
  TempModelDir dir;
  write_llama3_dir(dir);
  Json tokenizer = tokenizer_json(MergeForm::kStrings, kLlama3Regex);
  tokenizer["model"]["merges"].push_back(Json::array({"a"}));
  dir.write_json("tokenizer.json", tokenizer);

  EXPECT_THAT(metadata_error(dir.path()), HasSubstr("model.merges[10]: expected \"left right\" or [\"left\", \"right\"]"));
}

}  // namespace
}  // namespace edgelm
