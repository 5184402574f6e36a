#include "engine/chat_session.h"

#include <gtest/gtest.h>

#include "chat/gguf_chat_template.h"
#include "model/model.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

const Model& tiny_gemma() {
  static std::unique_ptr<Model> model = Model::load(testing::fixtures_dir() + "/tiny-gemma2-f32.gguf");
  return *model;
}

ChatSession::Renderer gemma_renderer() {
  ModelChatTemplate t = read_chat_template(tiny_gemma().file());
  return [t](const std::vector<ChatMessage>& messages) {
    return apply_chat_template(t.template_text, t.bos_token, t.eos_token, messages, true, t.architecture);
  };
}

SamplerConfig greedy() {
  SamplerConfig config;
  config.temperature = 0.0f;
  return config;
}

// The greedy reply to a rendered conversation, computed from an empty cache.
std::string fresh_reply(const std::vector<ChatMessage>& messages, int32_t max_tokens, ThreadPool& pool) {
  Context context(tiny_gemma(), 1024, pool);
  Sampler sampler(greedy());
  std::vector<int32_t> prompt = tiny_gemma().tokenizer().encode(gemma_renderer()(messages), true, true);
  std::string text;
  generate(context, prompt, max_tokens, sampler, [&](std::string_view piece) {
    text += piece;
    return true;
  });
  return text;
}

TEST(ChatSession, LaterTurnsEqualFreshEvaluation) {
  ThreadPool pool(2);
  Context context(tiny_gemma(), 1024, pool);
  Sampler sampler(greedy());
  ChatSession session(context, sampler, gemma_renderer(), "");
  std::atomic<bool> cancel{false};
  auto ignore = [](std::string_view) { return true; };

  // Short replies keep the conversation inside the 32-token window, so the
  // cache is reused; longer ones make it start over. Both must not change the text.
  for (int32_t max_tokens : {4, 20}) {
    session.reset();
    for (const char* user : {"Tell me a joke.", "Another one?", "Thanks"}) {
      std::vector<ChatMessage> before = session.messages();
      before.push_back({"user", user});
      session.reply(user, max_tokens, ignore, cancel);
      EXPECT_EQ(session.messages().back().content, fresh_reply(before, max_tokens, pool))
          << "max_tokens " << max_tokens << " turn " << user;
    }
  }
}

TEST(ChatSession, SystemPromptIsFoldedForGemma) {
  ThreadPool pool(1);
  Context context(tiny_gemma(), 1024, pool);
  Sampler sampler(greedy());
  std::string rendered;
  ChatSession::Renderer render = gemma_renderer();
  ChatSession session(context, sampler, [&](const std::vector<ChatMessage>& m) { return rendered = render(m); },
                      "Be brief.");
  std::atomic<bool> cancel{false};
  session.reply("Hi", 2, [](std::string_view) { return true; }, cancel);
  EXPECT_NE(rendered.find("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>"), std::string::npos) << rendered;
}

TEST(ChatSession, CancelKeepsPartialReply) {
  ThreadPool pool(1);
  Context context(tiny_gemma(), 1024, pool);
  Sampler sampler(greedy());
  ChatSession session(context, sampler, gemma_renderer(), "");
  std::atomic<bool> cancel{false};
  int pieces = 0;
  GenerationStats stats = session.reply("Tell me a joke.", 50, [&](std::string_view) {
    if (++pieces == 3) cancel = true;
    return true;
  }, cancel);
  EXPECT_EQ(stats.stop_reason, StopReason::kCancelled);
  EXPECT_EQ(stats.n_generated, 3u);
  EXPECT_EQ(session.messages().back().role, "assistant");
}

TEST(ContextTruncate, RefusedAfterRingWraps) {
  ThreadPool pool(1);
  Context context(tiny_gemma(), 256, pool);
  std::vector<int32_t> ids(20, 300);
  context.eval(ids.data(), ids.size(), LogitsMode::kLast);
  EXPECT_TRUE(context.truncate(10));
  EXPECT_EQ(context.n_past(), 10u);

  std::vector<int32_t> more(40, 301);
  context.eval(more.data(), more.size(), LogitsMode::kLast);  // 50 positions: the 32-slot ring wrapped
  EXPECT_FALSE(context.truncate(30));
  EXPECT_EQ(context.n_past(), 50u);

  // Position 49 attends to 18..48, which the ring (18..49) still contains.
  EXPECT_TRUE(context.truncate(49));
  EXPECT_EQ(context.n_past(), 49u);
}

// Logits after stepping back within a wrapped ring with spare positions equal a fresh evaluation.
TEST(SequenceTruncate, RewindAfterWrapMatchesFreshEvaluation) {
  const Model& model = tiny_gemma();
  ThreadPool pool(1);
  BatchForward forward(model, pool, 64);
  std::vector<int32_t> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(300 + i % 17);

  // The window is 32; 8 spare positions allow stepping back 9.
  Sequence sequence(model.hparams(), 256, 8);
  BatchSegment all{&sequence, ids.data(), ids.size(), LogitsMode::kNone};
  forward.eval({&all, 1});
  EXPECT_FALSE(sequence.truncate(50));
  ASSERT_TRUE(sequence.truncate(51));
  std::vector<int32_t> next = {400, 401};
  BatchSegment step{&sequence, next.data(), next.size(), LogitsMode::kLast};
  const size_t n_vocab = model.hparams().n_vocab;
  const float* rewound = forward.eval({&step, 1});
  std::vector<float> got(rewound, rewound + n_vocab);

  Sequence fresh(model.hparams(), 256);
  std::vector<int32_t> expected_ids(ids.begin(), ids.begin() + 51);
  expected_ids.insert(expected_ids.end(), next.begin(), next.end());
  BatchSegment whole{&fresh, expected_ids.data(), expected_ids.size(), LogitsMode::kLast};
  const float* expected = forward.eval({&whole, 1});
  for (size_t i = 0; i < n_vocab; ++i) ASSERT_EQ(got[i], expected[i]) << "token " << i;
}

}  // namespace
}  // namespace edgelm
