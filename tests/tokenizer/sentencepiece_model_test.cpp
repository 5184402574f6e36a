// The tokenizer.model loader on the tiny Gemma 2 SentencePiece model.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/sentencepiece_model.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

std::unique_ptr<SentencePieceModel> tiny_gemma2() {
  return SentencePieceModel::from_file(fixture("tiny-gemma2/tokenizer.model"));
}

TEST(SentencePieceModel, Vocabulary) {
  const auto model = tiny_gemma2();
  EXPECT_EQ(model->n_vocab(), 8192u);
  EXPECT_EQ(model->bos_id(), 2);
  EXPECT_EQ(model->eos_id(), 1);
  EXPECT_EQ(model->piece(4), "<start_of_turn>");
  EXPECT_EQ(model->piece(5), "<end_of_turn>");
  EXPECT_TRUE(model->is_end_of_generation(1));
  EXPECT_TRUE(model->is_end_of_generation(5));
  EXPECT_FALSE(model->is_end_of_generation(4));
  EXPECT_THROW(model->piece(8192), Error);
  EXPECT_THROW(model->token_bytes(-1), Error);
}

TEST(SentencePieceModel, EncodeWithBos) {
  const auto model = tiny_gemma2();
  EXPECT_EQ(model->encode("<start_of_turn>user hi<end_of_turn>", true, true),
            (std::vector<int32_t>{2, 4, 4885, 294, 8087, 5}));
  EXPECT_EQ(model->encode("Hello world", false, false), (std::vector<int32_t>{6862, 696}));
  EXPECT_EQ(model->encode("", true, true), (std::vector<int32_t>{2}));
}

TEST(SentencePieceModel, ControlTextsNeedParseSpecial) {
  const auto model = tiny_gemma2();
  // SentencePiece never matches control pieces in text.
  const std::vector<int32_t> as_text = model->encode("<bos>x", false, false);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 2), 0);
  EXPECT_GT(as_text.size(), 2u);

  EXPECT_EQ(model->encode("<bos>x<eos>", false, true), (std::vector<int32_t>{2, 8125, 1}));
  // A BOS in the text and the one add_bos adds make one BOS.
  EXPECT_EQ(model->encode("<bos>x", true, true), (std::vector<int32_t>{2, 8125}));
}

TEST(SentencePieceModel, TokenBytes) {
  const auto model = tiny_gemma2();
  EXPECT_EQ(model->token_bytes(6862), "Hello");
  EXPECT_EQ(model->token_bytes(696), " world");
  EXPECT_EQ(model->token_bytes(16), "\t");  // <0x09>
  EXPECT_EQ(model->token_bytes(246), "\xEF");
  EXPECT_EQ(model->token_bytes(2), "");
  EXPECT_EQ(model->token_bytes(2, true), "<bos>");
  EXPECT_EQ(model->token_bytes(4), "<start_of_turn>");

  std::string decoded;
  for (int32_t id : model->encode("Grüße\taus  München 🙂", false, false)) decoded += model->token_bytes(id);
  EXPECT_EQ(decoded, "Grüße\taus  München 🙂");
}

TEST(SentencePieceModel, MissingFile) {
  try {
    SentencePieceModel::from_file(fixture("tiny-gemma2/no-such.model"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such.model"), std::string::npos) << e.what();
  }
}

TEST(SentencePieceModel, NotAModel) {
  const std::string path = ::testing::TempDir() + "not_a_model.model";
  std::ofstream(path) << "\x0A\x05hello and more bytes that are no protobuf";
  try {
    SentencePieceModel::from_file(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid SentencePiece model"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgelm
