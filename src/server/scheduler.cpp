#include "server/scheduler.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "server/api_error.h"
#include "server/stop_strings.h"
#include "server/token_logprobs.h"

namespace edgelm::server {

using Clock = std::chrono::steady_clock;

// A sequence slot: its KV cache, the tokens that cache holds, and the job
// using it, if any.
struct Scheduler::Slot {
  Slot(const HParams& hp, uint32_t n_ctx, uint32_t rewind) : sequence(hp, n_ctx, rewind) {}

  Sequence sequence;
  std::vector<int32_t> cached;  // the tokens whose keys and values the sequence holds, in order
  uint64_t last_used = 0;       // step of the last use, to pick the least recently used free slot
  size_t prompt_length = 0;     // of the last job, to tell its conversation from others

  // The job's state while it runs.
  std::shared_ptr<Job> job;
  size_t n_prompt_cached = 0;          // prompt tokens found in the cache
  std::optional<int32_t> next_token;   // sampled, to be evaluated in the next step
  std::vector<int32_t> history;        // prompt and generated tokens, for the penalties
  size_t n_generated = 0;
  std::optional<Sampler> sampler;
  std::optional<TokenTextStream> text;
  std::optional<StopMatcher> stops;
  Clock::time_point last_token_time;

  bool prefilling() const { return job && !next_token && cached.size() < job->params().prompt.size(); }
};

namespace {

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

Scheduler::Scheduler(const Model& model, ThreadPool& pool, SchedulerConfig config, Metrics* metrics)
    : model_(model),
      config_(config),
      metrics_(metrics),
      forward_(model, pool, std::max(config.batch_tokens, config.n_parallel)) {
  if (config_.n_parallel == 0) fail("--parallel must be at least 1");
  if (config_.n_ctx == 0) fail("the context per sequence must be at least 1 token");
  config_.batch_tokens = forward_.max_rows();
  for (uint32_t i = 0; i < config_.n_parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>(model.hparams(), config_.n_ctx, config_.rewind));
  }
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { shutdown(std::chrono::milliseconds(0)); }

std::shared_ptr<Job> Scheduler::submit(JobParams params) {
  const std::vector<int32_t>& prompt = params.prompt;
  if (prompt.empty()) throw invalid_request("the prompt is empty", params.prompt_field);
  const uint32_t n_vocab = model_.hparams().n_vocab;
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || static_cast<uint32_t>(prompt[i]) >= n_vocab) {
      throw invalid_request(
          fmt::format("token id {} at prompt index {} is outside the vocabulary of {} tokens", prompt[i], i, n_vocab),
          params.prompt_field);
    }
  }
  if (prompt.size() >= config_.n_ctx) {
    throw invalid_request(fmt::format("the prompt has {} tokens but the context has room for {} per sequence; "
                                      "shorten the prompt or start the server with a larger -c",
                                      prompt.size(), config_.n_ctx),
                          params.prompt_field, "context_length_exceeded");
  }
  if (params.max_tokens > 0 && prompt.size() + params.max_tokens > config_.n_ctx) {
    throw invalid_request(fmt::format("the prompt has {} tokens and max_tokens requests {} more, but the context "
                                      "has room for {} per sequence; lower max_tokens or shorten the prompt",
                                      prompt.size(), params.max_tokens, config_.n_ctx),
                          "max_tokens", "context_length_exceeded");
  }

  auto job = std::make_shared<Job>(std::move(params));
  {
    std::lock_guard lock(mutex_);
    if (!accepting_) throw ApiError(503, "the server is shutting down", "server_error", "", "shutting_down");
    size_t free_slots = 0;
    for (const auto& slot : slots_) free_slots += slot->job ? 0 : 1;
    if (queue_.size() >= config_.max_queue + free_slots) {
      throw ApiError(429,
                     fmt::format("all {} sequence slots are busy and {} requests are waiting (the queue limit is {}); "
                                 "retry later",
                                 slots_.size(), queue_.size(), config_.max_queue),
                     "rate_limit_error", "", "queue_full");
    }
    queue_.push_back(job);
  }
  wake_.notify_all();
  return job;
}

void Scheduler::shutdown(std::chrono::milliseconds grace) {
  const auto deadline = Clock::now() + grace;
  {
    std::unique_lock lock(mutex_);
    accepting_ = false;
    idle_.wait_until(lock, deadline, [this] { return queue_.empty() && active_ == 0; });
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mutex_);
  SchedulerStats stats = stats_;
  stats.queued = queue_.size();
  stats.active = active_;
  return stats;
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || active_ > 0; });
      if (stopping_) break;
    }
    admit();
    step();
    update_stats();
  }

  // Stopping: whatever still runs or waits is cancelled.
  for (auto& slot : slots_) {
    if (slot->job) finish(*slot, FinishReason::kCancelled);
  }
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& job : left) job->finish(FinishReason::kCancelled, JobUsage{job->params().prompt.size(), 0, 0});
  update_stats();
}

void Scheduler::admit() {
  for (;;) {
    std::shared_ptr<Job> job;
    Slot* best = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;

      // The free slot whose cache shares the longest prefix with the prompt,
      // the least recently used among equals. A prefix shorter than half of
      // the slot's last prompt belongs to another conversation (they all
      // share the template's first tokens), so an empty or the least recently
      // used slot is taken instead and that conversation keeps its cache.
      const std::vector<int32_t>& prompt = queue_.front()->params().prompt;
      size_t best_prefix = 0;
      Slot* least_recent = nullptr;
      for (auto& slot : slots_) {
        if (slot->job) continue;
        size_t prefix = common_prefix(slot->cached, prompt);
        if (!best || prefix > best_prefix || (prefix == best_prefix && slot->last_used < best->last_used)) {
          best = slot.get();
          best_prefix = prefix;
        }
        const bool emptier = least_recent && slot->cached.empty() && !least_recent->cached.empty();
        if (!least_recent || emptier ||
            (slot->cached.empty() == least_recent->cached.empty() && slot->last_used < least_recent->last_used)) {
          least_recent = slot.get();
        }
      }
      if (!best) return;
      if (2 * best_prefix < best->prompt_length) best = least_recent;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++active_;
    }
    assign(*best, std::move(job));
  }
}

void Scheduler::assign(Slot& slot, std::shared_ptr<Job> job) {
  const JobParams& params = job->params();

  // Keep the cached prefix, but always evaluate the prompt's last token, whose logits give the first reply token.
  size_t reuse = std::min(common_prefix(slot.cached, params.prompt), params.prompt.size() - 1);
  if (!slot.sequence.truncate(static_cast<uint32_t>(reuse))) {
    reuse = 0;
    slot.sequence.reset();
  }
  slot.cached.resize(reuse);

  slot.job = std::move(job);
  slot.n_prompt_cached = reuse;
  slot.prompt_length = params.prompt.size();
  slot.next_token.reset();
  slot.history = params.prompt;
  slot.n_generated = 0;
  slot.sampler.emplace(params.sampling);
  slot.text.emplace(model_.tokenizer());
  slot.stops.emplace(params.stop);
  if (metrics_) metrics_->add_prompt_tokens(params.prompt.size() - reuse, reuse);
}

void Scheduler::step() {
  ++n_steps_;

  // Cancelled jobs leave before the pass, so their slots are free this step.
  for (auto& slot : slots_) {
    if (slot->job && slot->job->cancelled()) finish(*slot, FinishReason::kCancelled);
  }

  // Every decoding sequence contributes its next token. Prompts fill the rest
  // of the pass in chunks, oldest job first, so a long prompt does not stall
  // the streams already running.
  std::vector<BatchSegment> segments;
  std::vector<Slot*> owners;
  size_t budget = config_.batch_tokens;
  for (auto& slot : slots_) {
    if (!slot->job || !slot->next_token) continue;
    segments.push_back(BatchSegment{&slot->sequence, &*slot->next_token, 1, LogitsMode::kLast});
    owners.push_back(slot.get());
    --budget;
  }
  std::vector<Slot*> prefilling;
  for (auto& slot : slots_) {
    if (slot->prefilling()) prefilling.push_back(slot.get());
  }
  std::sort(prefilling.begin(), prefilling.end(),
            [](const Slot* a, const Slot* b) { return a->job->created() < b->job->created(); });
  for (Slot* slot : prefilling) {
    if (budget == 0) break;
    const std::vector<int32_t>& prompt = slot->job->params().prompt;
    size_t done = slot->cached.size();
    size_t chunk = std::min(budget, prompt.size() - done);
    bool last = done + chunk == prompt.size();
    segments.push_back(BatchSegment{&slot->sequence, prompt.data() + done, chunk,
                                    last ? LogitsMode::kLast : LogitsMode::kNone});
    owners.push_back(slot);
    budget -= chunk;
  }
  if (segments.empty()) return;

  const float* logits = nullptr;
  try {
    logits = forward_.eval(segments);
  } catch (const Error& error) {
    spdlog::error("a forward pass failed: {}", error.what());
    for (Slot* slot : owners) {
      slot->sequence.reset();
      slot->cached.clear();
      finish(*slot, FinishReason::kError, error.what());
    }
    return;
  }

  // The evaluated tokens are now in the caches; each row of logits gives its sequence's next token.
  const size_t n_vocab = model_.hparams().n_vocab;
  size_t row = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    Slot& slot = *owners[i];
    slot.cached.insert(slot.cached.end(), segments[i].tokens, segments[i].tokens + segments[i].n);
    slot.last_used = n_steps_;
    if (segments[i].logits == LogitsMode::kNone) continue;
    emit_token(slot, logits + row * n_vocab);
    ++row;
  }
}

void Scheduler::emit_token(Slot& slot, const float* logits) {
  const JobParams& params = slot.job->params();
  const Tokenizer& tokenizer = model_.tokenizer();
  const size_t n_vocab = model_.hparams().n_vocab;
  const auto now = Clock::now();
  slot.next_token.reset();

  const int32_t token = slot.sampler->sample(logits, n_vocab, slot.history);
  if (metrics_) {
    if (slot.n_generated == 0) {
      metrics_->observe_time_to_first_token(seconds_between(slot.job->created(), now));
    } else {
      metrics_->observe_inter_token_latency(seconds_between(slot.last_token_time, now));
    }
  }
  slot.last_token_time = now;
  if (tokenizer.is_end_of_generation(token) && !params.ignore_eos) return finish(slot, FinishReason::kStop);

  slot.n_generated++;
  slot.history.push_back(token);
  if (metrics_) metrics_->add_generated_tokens(1);

  std::vector<TokenLogprob> logprobs;
  if (params.top_logprobs >= 0) {
    logprobs.push_back(token_logprob(logits, n_vocab, token, params.top_logprobs, tokenizer));
  }
  std::string text = slot.stops->push(slot.text->push(token));
  slot.job->publish(text, std::move(logprobs));

  if (slot.stops->stopped()) return finish(slot, FinishReason::kStop);
  if (params.max_tokens >= 0 && slot.n_generated >= static_cast<size_t>(params.max_tokens)) {
    return finish(slot, FinishReason::kLength);
  }
  // Prompt and generated tokens fill the context at most (n_past covers all
  // but this token), as the max_tokens check in submit counts them.
  if (slot.sequence.n_past() + 1 >= slot.sequence.n_ctx()) return finish(slot, FinishReason::kLength);
  slot.next_token = token;
}

void Scheduler::finish(Slot& slot, FinishReason reason, const std::string& error) {
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    std::string rest = slot.stops->push(slot.text->finish());
    rest += slot.stops->flush();
    slot.job->publish(rest, {});
  }
  JobUsage usage{slot.job->params().prompt.size(), slot.n_prompt_cached, slot.n_generated};
  std::shared_ptr<Job> job = std::move(slot.job);
  slot.next_token.reset();
  slot.sampler.reset();
  slot.text.reset();
  slot.stops.reset();

  // The slot counts as free before the client hears of the end.
  {
    std::lock_guard lock(mutex_);
    --active_;
  }
  idle_.notify_all();
  job->finish(reason, usage, error);
}

void Scheduler::update_stats() {
  SchedulerStats stats;
  stats.n_parallel = slots_.size();
  for (const auto& slot : slots_) {
    const KvCache& kv = slot->sequence.kv();
    stats.active += slot->job ? 1 : 0;
    stats.cached_sequences += !slot->job && !slot->cached.empty() ? 1 : 0;
    stats.kv_used_bytes += kv.filled_bytes(slot->sequence.n_past());
    stats.kv_total_bytes += kv.total_bytes();
  }
  std::lock_guard lock(mutex_);
  stats_ = stats;
}

}  // namespace edgelm::server
