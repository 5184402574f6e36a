#include "server/scheduler.h"

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "support/expected_output.h"

namespace edgelm::server {
namespace {

using namespace std::chrono_literals;

const Model& tiny_gemma() {
  static std::unique_ptr<Model> model = Model::load(testing::fixtures_dir() + "/tiny-gemma2-q8_0.gguf");
  return *model;
}

JobParams greedy_job(const std::string& text, int32_t max_tokens) {
  JobParams params;
  params.prompt = tiny_gemma().tokenizer().encode(text, true, false);
  params.max_tokens = max_tokens;
  params.sampling.temperature = 0.0f;
  params.ignore_eos = true;
  return params;
}

struct Result {
  std::string text;
  JobUpdate last;
  size_t n_logprobs = 0;
};

Result wait_for(Job& job) {
  Result result;
  for (;;) {
    JobUpdate update;
    if (!job.next(update, 10s)) {
      ADD_FAILURE() << "no update within 10 s";
      return result;
    }
    result.text += update.text;
    result.n_logprobs += update.logprobs.size();
    if (update.done) {
      result.last = std::move(update);
      return result;
    }
  }
}

const std::vector<std::string> kPrompts = {
    "The meaning of life is",  "Once upon a time there was", "1, 2, 3, 4,",     "In a hole in the ground",
    "The capital of France is", "def fibonacci(n):",         "Roses are red,", "It was a bright cold day in April",
};

// Greedy output is byte-identical whether a job runs alone or beside seven others.
TEST(Scheduler, OutputDoesNotDependOnOtherJobs) {
  ThreadPool pool(2);
  std::vector<std::string> alone;
  {
    Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 256, 64, 64}, nullptr);
    for (const std::string& prompt : kPrompts) {
      auto job = scheduler.submit(greedy_job(prompt, 40));
      alone.push_back(wait_for(*job).text);
    }
  }
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{8, 256, 64, 64}, nullptr);
  std::vector<std::shared_ptr<Job>> jobs;
  for (const std::string& prompt : kPrompts) jobs.push_back(scheduler.submit(greedy_job(prompt, 40)));
  for (size_t i = 0; i < jobs.size(); ++i) {
    Result result = wait_for(*jobs[i]);
    EXPECT_EQ(result.text, alone[i]) << kPrompts[i];
    EXPECT_EQ(result.last.finish_reason, FinishReason::kLength);
    EXPECT_EQ(result.last.usage.completion_tokens, 40u);
  }
}

// A prompt that extends an earlier one reuses its cache and still answers
// as a fresh sequence would.
TEST(Scheduler, ReusesTheCachedPrefix) {
  ThreadPool pool(2);
  JobParams first = greedy_job("The meaning of life is", 8);
  Result fresh_second;
  JobParams second = greedy_job("The meaning of life is to be found in", 8);
  {
    Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 256, 64, 64}, nullptr);
    fresh_second = wait_for(*scheduler.submit(second));
    EXPECT_EQ(fresh_second.last.usage.cached_tokens, 0u);
  }
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{2, 256, 64, 64}, nullptr);
  wait_for(*scheduler.submit(first));
  Result reused = wait_for(*scheduler.submit(second));
  EXPECT_EQ(reused.text, fresh_second.text);
  EXPECT_EQ(reused.last.usage.prompt_tokens, second.prompt.size());
  EXPECT_EQ(reused.last.usage.cached_tokens, first.prompt.size());
}

// Requests of other conversations, which share only the chat template's
// first tokens, go to other slots and leave a conversation's cache in place.
TEST(Scheduler, OtherConversationsKeepTheCache) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{4, 256, 64, 64}, nullptr);
  JobParams alice = greedy_job(
      "<start_of_turn>user\nTell me about the weather in the mountains today, and what to pack for a long hike", 6);
  JobParams bob = greedy_job("<start_of_turn>user\nHi", 6);
  wait_for(*scheduler.submit(alice));
  wait_for(*scheduler.submit(bob));

  JobParams alice_again = greedy_job(
      "<start_of_turn>user\nTell me about the weather in the mountains today, and what to pack for a long hike "
      "tomorrow",
      6);
  Result result = wait_for(*scheduler.submit(alice_again));
  EXPECT_EQ(result.last.usage.cached_tokens, alice.prompt.size());
}

TEST(Scheduler, CancelledJobFreesItsSlot) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 4096, 64, 64}, nullptr);
  auto job = scheduler.submit(greedy_job("Count forever:", -1));
  JobUpdate update;
  ASSERT_TRUE(job->next(update, 10s));
  EXPECT_EQ(scheduler.stats().active, 1u);
  job->cancel();
  Result result = wait_for(*job);
  EXPECT_EQ(result.last.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(scheduler.stats().active, 0u);

  // The slot serves the next job.
  Result next = wait_for(*scheduler.submit(greedy_job("Hello", 3)));
  EXPECT_EQ(next.last.usage.completion_tokens, 3u);
}

TEST(Scheduler, RefusesWhenTheQueueIsFull) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 4096, 64, 1}, nullptr);
  auto running = scheduler.submit(greedy_job("Count forever:", -1));
  JobUpdate update;
  ASSERT_TRUE(running->next(update, 10s));  // it occupies the only slot now
  auto waiting = scheduler.submit(greedy_job("Hello", 3));
  try {
    scheduler.submit(greedy_job("Hello again", 3));
    FAIL() << "no error";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status, 429);
    EXPECT_EQ(error.type, "rate_limit_error");
  }
  running->cancel();
  EXPECT_EQ(wait_for(*waiting).last.usage.completion_tokens, 3u);
}

TEST(Scheduler, PromptLongerThanTheContextNamesBothLengths) {
  ThreadPool pool(1);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 16, 64, 4}, nullptr);
  JobParams params = greedy_job("word word word word word word word word word word word word word word word word", 4);
  try {
    scheduler.submit(params);
    FAIL() << "no error";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.code, "context_length_exceeded");
    std::string message = error.what();
    EXPECT_NE(message.find(std::to_string(params.prompt.size()) + " tokens"), std::string::npos) << message;
    EXPECT_NE(message.find("room for 16"), std::string::npos) << message;
  }
}

TEST(Scheduler, StopsAtAStopString) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 256, 64, 4}, nullptr);
  Result full = wait_for(*scheduler.submit(greedy_job("Once upon a time there was", 30)));
  ASSERT_GT(full.text.size(), 12u);
  std::string stop = full.text.substr(6, 4);
  JobParams params = greedy_job("Once upon a time there was", 30);
  params.stop = {stop};
  Result cut = wait_for(*scheduler.submit(params));
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.last.finish_reason, FinishReason::kStop);
}

TEST(Scheduler, ContextEndGivesLength) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 20, 64, 4}, nullptr);
  Result result = wait_for(*scheduler.submit(greedy_job("Hello there", -1)));
  EXPECT_EQ(result.last.finish_reason, FinishReason::kLength);
  EXPECT_EQ(result.last.usage.prompt_tokens + result.last.usage.completion_tokens, 20u);

  // An explicit max_tokens that fills the context exactly is accepted and gives the same.
  JobParams exact = greedy_job("Hello there", static_cast<int32_t>(result.last.usage.completion_tokens));
  Result same = wait_for(*scheduler.submit(exact));
  EXPECT_EQ(same.text, result.text);
}

TEST(Scheduler, ShutdownCancelsWhatIsLeft) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 4096, 64, 4}, nullptr);
  auto running = scheduler.submit(greedy_job("Count forever:", -1));
  auto queued = scheduler.submit(greedy_job("Hello", 3));
  scheduler.shutdown(100ms);
  EXPECT_EQ(wait_for(*running).last.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(wait_for(*queued).last.finish_reason, FinishReason::kCancelled);
  try {
    scheduler.submit(greedy_job("Hello", 3));
    FAIL() << "no error";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status, 503);
  }
}

// A long prompt is evaluated in chunks between decode steps, so a stream
// that is already running keeps getting tokens meanwhile.
TEST(Scheduler, LongPromptDoesNotStallRunningStreams) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{2, 1024, 32, 4}, nullptr);
  JobParams running_params = greedy_job("Count forever:", -1);
  running_params.top_logprobs = 0;  // one logprob entry per token, to count them
  auto running = scheduler.submit(running_params);
  JobUpdate update;
  ASSERT_TRUE(running->next(update, 10s));

  std::string long_text;
  for (int i = 0; i < 120; ++i) long_text += "the cat sat on the mat ";
  JobParams long_params = greedy_job(long_text, 1);
  ASSERT_GT(long_params.prompt.size(), 20u * 31);
  auto long_job = scheduler.submit(long_params);

  // Tokens of the running stream until the long prompt's first (only) token.
  size_t tokens_meanwhile = 0;
  for (;;) {
    JobUpdate news;
    if (running->next(news, 1ms)) tokens_meanwhile += news.logprobs.size();
    JobUpdate long_update;
    if (long_job->next(long_update, 1ms) && long_update.done) break;
  }
  // At most 31 prompt tokens fit beside the stream's token in a pass of 32.
  EXPECT_GE(tokens_meanwhile, long_params.prompt.size() / 31 - 1);
  running->cancel();
}

TEST(Scheduler, LogprobsComeWithEveryToken) {
  ThreadPool pool(2);
  Scheduler scheduler(tiny_gemma(), pool, SchedulerConfig{1, 256, 64, 4}, nullptr);
  JobParams params = greedy_job("The meaning of life is", 6);
  params.top_logprobs = 3;
  Result result = wait_for(*scheduler.submit(params));
  EXPECT_EQ(result.n_logprobs, 6u);
}

}  // namespace
}  // namespace edgelm::server
