// Synthetic vocabularies: special ids where the real tokenizers keep them,
// unique tokens, and merges that name existing tokens.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "core/error.h"
#include "synth/synthetic_vocab.h"
#include "tokenizer/byte_level.h"

namespace edgelm {
namespace {

using synth::make_synthetic_vocab;
using synth::SyntheticVocab;

constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kByte = 6;

size_t unique_count(const std::vector<std::string>& tokens) {
  return std::unordered_set<std::string>(tokens.begin(), tokens.end()).size();
}

// Every merge "left right" must name two tokens whose concatenation is a token.
void expect_valid_merges(const SyntheticVocab& vocab) {
  const std::unordered_set<std::string> tokens(vocab.tokens.begin(), vocab.tokens.end());
  size_t bad = 0;
  for (const std::string& merge : vocab.merges) {
    const size_t space = merge.find(' ');
    ASSERT_NE(space, std::string::npos) << merge;
    const std::string left = merge.substr(0, space);
    const std::string right = merge.substr(space + 1);
    if (!tokens.contains(left) || !tokens.contains(right) || !tokens.contains(left + right)) {
      if (bad++ < 5) ADD_FAILURE() << "merge '" << merge << "' names a missing token";
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(std::set<std::string>(vocab.merges.begin(), vocab.merges.end()).size(), vocab.merges.size());
}

TEST(SynthVocab, GemmaSpecialAndByteTokens) {
  const SyntheticVocab vocab = make_synthetic_vocab(find_model_shape("gemma-2-2b"), 2048);
  ASSERT_EQ(vocab.tokens.size(), 2048u);
  ASSERT_EQ(vocab.scores.size(), 2048u);
  ASSERT_EQ(vocab.token_types.size(), 2048u);
  EXPECT_TRUE(vocab.merges.empty());

  EXPECT_EQ(vocab.tokens[0], "<pad>");
  EXPECT_EQ(vocab.tokens[1], "<eos>");
  EXPECT_EQ(vocab.tokens[2], "<bos>");
  EXPECT_EQ(vocab.tokens[3], "<unk>");
  EXPECT_EQ(vocab.tokens[106], "<start_of_turn>");
  EXPECT_EQ(vocab.tokens[107], "<end_of_turn>");
  for (uint32_t id : {0u, 1u, 2u, 3u, 106u, 107u}) EXPECT_EQ(vocab.token_types[id], kControl) << id;

  EXPECT_EQ(vocab.tokens[108], "<0x00>");
  EXPECT_EQ(vocab.tokens[108 + 0x0a], "<0x0A>");
  EXPECT_EQ(vocab.tokens[363], "<0xFF>");
  EXPECT_EQ(vocab.token_types[108], kByte);
  EXPECT_EQ(vocab.token_types[363], kByte);
  EXPECT_EQ(vocab.tokens[364], "\xe2\x96\x81");
  EXPECT_EQ(vocab.token_types[364], kNormal);
  EXPECT_EQ(vocab.token_types[2047], kNormal);
  EXPECT_GT(vocab.scores[364], vocab.scores[2047]);

  EXPECT_EQ(vocab.bos_id, 2u);
  EXPECT_EQ(vocab.eos_id, 1u);
  EXPECT_EQ(vocab.unk_id, 3u);
  EXPECT_EQ(vocab.pad_id, 0u);
  EXPECT_EQ(unique_count(vocab.tokens), 2048u);
}

TEST(SynthVocab, GemmaFullSizeIsUnique) {
  const SyntheticVocab vocab = make_synthetic_vocab(find_model_shape("gemma-2-9b"), 256000);
  ASSERT_EQ(vocab.tokens.size(), 256000u);
  EXPECT_EQ(unique_count(vocab.tokens), 256000u);
  EXPECT_EQ(vocab.token_types[255999], kNormal);
}

TEST(SynthVocab, Llama3FullSizeMatchesRealIds) {
  const ModelShape& shape = find_model_shape("llama-3.1-8b");
  const SyntheticVocab vocab = make_synthetic_vocab(shape, shape.n_vocab);
  ASSERT_EQ(vocab.tokens.size(), 128256u);
  ASSERT_EQ(vocab.token_types.size(), 128256u);
  EXPECT_TRUE(vocab.scores.empty());

  EXPECT_EQ(vocab.tokens[0], "!");
  EXPECT_EQ(vocab.tokens[128000], "<|begin_of_text|>");
  EXPECT_EQ(vocab.tokens[128001], "<|end_of_text|>");
  EXPECT_EQ(vocab.tokens[128002], "<|reserved_special_token_0|>");
  EXPECT_EQ(vocab.tokens[128006], "<|start_header_id|>");
  EXPECT_EQ(vocab.tokens[128007], "<|end_header_id|>");
  EXPECT_EQ(vocab.tokens[128009], "<|eot_id|>");
  EXPECT_EQ(vocab.tokens[128011], "<|reserved_special_token_3|>");
  EXPECT_EQ(vocab.tokens[128255], "<|reserved_special_token_247|>");
  EXPECT_EQ(vocab.token_types[128000], kControl);
  EXPECT_EQ(vocab.token_types[128255], kControl);
  EXPECT_EQ(vocab.token_types[127999], kNormal);
  EXPECT_EQ(vocab.bos_id, 128000u);
  EXPECT_EQ(vocab.eos_id, 128009u);
  EXPECT_EQ(unique_count(vocab.tokens), 128256u);

  // The published merge count of Llama 3's tokenizer.
  EXPECT_EQ(vocab.merges.size(), 280147u);
  expect_valid_merges(vocab);
}

TEST(SynthVocab, Llama3ByteTokensCoverEveryByte) {
  const SyntheticVocab vocab = make_synthetic_vocab(find_model_shape("llama-3.1-8b"), 1024);
  std::set<std::string> bytes;
  for (size_t id = 0; id < 256; ++id) {
    std::string decoded;
    EXPECT_TRUE(decode_byte_level(vocab.tokens[id], decoded)) << id;
    EXPECT_EQ(decoded.size(), 1u) << id;
    bytes.insert(decoded);
  }
  EXPECT_EQ(bytes.size(), 256u);
}

TEST(SynthVocab, Llama3ShrunkKeepsSpecialsLast) {
  const SyntheticVocab vocab = make_synthetic_vocab(find_model_shape("llama-3.1-8b"), 2048);
  ASSERT_EQ(vocab.tokens.size(), 2048u);
  EXPECT_EQ(vocab.bos_id, 1792u);
  EXPECT_EQ(vocab.eos_id, 1801u);
  EXPECT_EQ(vocab.tokens[1792], "<|begin_of_text|>");
  EXPECT_EQ(vocab.tokens[1801], "<|eot_id|>");
  // 1536 ordinary tokens: 1024 of two characters and 512 of three, so at
  // most 1024 + 2 * 512 merges, fewer than the proportional share of 280147.
  EXPECT_EQ(vocab.merges.size(), 2048u);
  expect_valid_merges(vocab);
  EXPECT_EQ(unique_count(vocab.tokens), 2048u);
}

TEST(SynthVocab, TekkenSpecialsFirst) {
  const SyntheticVocab vocab = make_synthetic_vocab(find_model_shape("mistral-nemo-12b"), 2048);
  ASSERT_EQ(vocab.tokens.size(), 2048u);
  EXPECT_EQ(vocab.tokens[0], "<unk>");
  EXPECT_EQ(vocab.tokens[1], "<s>");
  EXPECT_EQ(vocab.tokens[2], "</s>");
  EXPECT_EQ(vocab.tokens[3], "[INST]");
  EXPECT_EQ(vocab.tokens[1000], "!");
  EXPECT_EQ(vocab.token_types[999], kControl);
  EXPECT_EQ(vocab.token_types[1000], kNormal);
  EXPECT_EQ(vocab.bos_id, 1u);
  EXPECT_EQ(vocab.eos_id, 2u);
  EXPECT_EQ(vocab.unk_id, 0u);
  // 792 ordinary tokens of two characters, one merge each.
  EXPECT_EQ(vocab.merges.size(), 792u);
  expect_valid_merges(vocab);
  EXPECT_EQ(unique_count(vocab.tokens), 2048u);
}

TEST(SynthVocab, RejectsTooSmallVocabulary) {
  try {
    make_synthetic_vocab(find_model_shape("gemma-2-2b"), 300);
    FAIL() << "300 tokens were accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("at least 365 tokens"), std::string::npos) << error.what();
  }
  EXPECT_THROW(make_synthetic_vocab(find_model_shape("llama-3.1-8b"), 512), Error);
  EXPECT_NO_THROW(make_synthetic_vocab(find_model_shape("llama-3.1-8b"), 513));
}

}  // namespace
}  // namespace edgelm
