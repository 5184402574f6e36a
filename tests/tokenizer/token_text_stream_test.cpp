#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {
namespace {

std::unique_ptr<Tokenizer> tiny_gemma2() {
  const auto file = GgufFile::open(std::string(EDGELM_FIXTURES_DIR) + "/tiny-gemma2-f32.gguf");
  return Tokenizer::from_gguf(*file);
}

// Byte tokens <0x00>..<0xFF> are ids 7..262 in the tiny Gemma 2 vocabulary.
int32_t byte_token(uint8_t byte) { return 7 + byte; }

TEST(TokenTextStream, HoldsSplitCharacter) {
  const auto tokenizer = tiny_gemma2();
  ASSERT_EQ(tokenizer->piece(byte_token(0xE6)), "<0xE6>");
  TokenTextStream stream(*tokenizer);

  // "日" is E6 97 A5.
  EXPECT_EQ(stream.push(byte_token(0xE6)), "");
  EXPECT_EQ(stream.push(byte_token(0x97)), "");
  EXPECT_EQ(stream.push(byte_token(0xA5)), "日");
  EXPECT_EQ(stream.finish(), "");
}

TEST(TokenTextStream, InvalidBytesBecomeReplacement) {
  const auto tokenizer = tiny_gemma2();
  TokenTextStream stream(*tokenizer);

  // A lone continuation byte can never complete: it is replaced at once.
  EXPECT_EQ(stream.push(byte_token(0x97)), "\uFFFD");
  // A lead byte followed by a non-continuation: one U+FFFD, then the text.
  EXPECT_EQ(stream.push(byte_token(0xE6)), "");
  EXPECT_EQ(stream.push(byte_token('A')), "\uFFFDA");
  // An unfinished character at the end.
  EXPECT_EQ(stream.push(byte_token(0xF0)), "");
  EXPECT_EQ(stream.push(byte_token(0x9F)), "");
  EXPECT_EQ(stream.finish(), "\uFFFD");
  EXPECT_EQ(stream.finish(), "");
}

TEST(TokenTextStream, ControlTokensAreSilent) {
  const auto tokenizer = tiny_gemma2();
  TokenTextStream stream(*tokenizer);
  EXPECT_EQ(stream.push(5), "");  // <end_of_turn>
  EXPECT_EQ(stream.push(2), "");  // <bos>
}

TEST(TokenTextStream, UnicodeRoundTrip) {
  const auto tokenizer = tiny_gemma2();
  const std::vector<std::string> texts = {
      "日本語のテキスト 😀 and emoji 👍🏽 mixed",
      "Ünïcödé ✓ 한국어 🇩🇪 Ελληνικά",
      "  leading\ttabs\nand newlines\n\n",
      "e\xCC\x81 combining and \U0001F916 robot",
  };
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = tokenizer->encode(text, true, false);
    TokenTextStream stream(*tokenizer);
    std::string decoded;
    for (int32_t id : ids) {
      decoded += stream.push(id);
    }
    decoded += stream.finish();
    EXPECT_EQ(decoded, text);
  }
}

TEST(TokenTextStream, EveryChunkIsValidUtf8) {
  const auto tokenizer = tiny_gemma2();
  const std::string text = "日本語 😀 ✓ Ü";
  const std::vector<int32_t> ids = tokenizer->encode(text, false, false);

  // The text needs byte fallback, so some tokens carry partial characters.
  size_t byte_tokens = 0;
  for (int32_t id : ids) byte_tokens += tokenizer->piece(id).rfind("<0x", 0) == 0;
  ASSERT_GT(byte_tokens, 3u);

  TokenTextStream stream(*tokenizer);
  for (int32_t id : ids) {
    const std::string chunk = stream.push(id);
    EXPECT_EQ(chunk.find("\uFFFD"), std::string::npos);
    // A valid chunk never ends inside a character: its last lead byte is complete.
    if (!chunk.empty()) {
      size_t last = chunk.size() - 1;
      while (last > 0 && (static_cast<uint8_t>(chunk[last]) & 0xC0) == 0x80) --last;
      const auto lead = static_cast<uint8_t>(chunk[last]);
      size_t length = 4;
      if (lead < 0x80) {
        length = 1;
      } else if (lead < 0xE0) {
        length = 2;
      } else if (lead < 0xF0) {
        length = 3;
      }
      EXPECT_EQ(chunk.size() - last, length) << "chunk ends inside a character";
    }
  }
}

}  // namespace
}  // namespace edgelm
