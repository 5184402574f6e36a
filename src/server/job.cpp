#include "server/job.h"

namespace edgelm::server {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "error";
}

bool Job::next(JobUpdate& update, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [this] { return has_news_; })) return false;
  update = std::move(pending_);
  pending_ = JobUpdate{};
  has_news_ = false;
  return true;
}

void Job::publish(std::string_view text, std::vector<TokenLogprob> logprobs) {
  if (text.empty() && logprobs.empty()) return;
  {
    std::lock_guard lock(mutex_);
    pending_.text.append(text);
    for (TokenLogprob& logprob : logprobs) pending_.logprobs.push_back(std::move(logprob));
    has_news_ = true;
  }
  ready_.notify_all();
}

void Job::finish(FinishReason reason, const JobUsage& usage, std::string error) {
  {
    std::lock_guard lock(mutex_);
    pending_.done = true;
    pending_.finish_reason = reason;
    pending_.usage = usage;
    pending_.error = std::move(error);
    has_news_ = true;
  }
  ready_.notify_all();
}

}  // namespace edgelm::server
