// Db's background work: writing head cuts to blocks, retention, compaction.
#include <algorithm>

#include "base/logging.h"
#include "storage/embedded_tsdb/blocks/compact.h"
#include "storage/embedded_tsdb/db.h"
#include "storage/embedded_tsdb/db_metrics.h"

namespace pa::storage::embedded_tsdb {

void Db::BackgroundLoop() {
  for (;;) {
    {
      std::unique_lock lock(bg_mu_);
      bg_cv_.wait_for(lock, options_.maintenance_interval, [&] { return kicked_; });
      kicked_ = false;
    }
    if (stopping_) return;
    Status s = Maintain(false);
    if (!s.ok()) pa::log::Get("tsdb")->error("metrics store {}: {}", options_.dir, s.message());
  }
}

Status Db::Maintain(bool full) {
  std::lock_guard maint(maint_mu_);
  Status first = FlushFrozen();
  {
    std::lock_guard lock(append_mu_);
    const int64_t now = clock_->NowMs();
    const bool due = full || head_.num_samples() >= options_.max_head_samples ||
                     (head_start_ms_ != 0 && now - head_start_ms_ >= options_.head_period.count());
    if (due) {
      Status s = CutLocked();
      if (first.ok()) first = s;
    }
  }
  Status s = FlushFrozen();
  if (first.ok()) first = s;
  s = ApplyRetention();
  if (first.ok()) first = s;
  while (!stopping_) {
    Result<bool> more = CompactOnce(full);
    if (!more.ok()) {
      if (first.ok()) first = more.status();
      break;
    }
    if (!*more) break;
  }
  PublishGauges();
  return first;
}

Status Db::Compact() { return Maintain(true); }

Status Db::FlushFrozen() {
  std::shared_ptr<FrozenHead> frozen;
  uint64_t segment = 0;
  {
    std::lock_guard lock(frozen_mu_);
    frozen = frozen_;
    segment = frozen_segment_;
  }
  if (!frozen) return Status::Ok();
  const int64_t now = clock_->NowMs();
  const BlockWriteContext ctx{blocks_dir_, ranges_, now, now - options_.retention.count(),
                              &next_seq_};
  auto blocks = WriteFrozenHead(*frozen, ctx);
  if (!blocks.ok()) {
    if (metrics_) metrics_->compaction_failures->Inc();
    std::lock_guard lock(frozen_mu_);
    last_flush_error_ = blocks.status();
    return blocks.status().WithContext("writing the in-memory head to blocks");
  }
  uint64_t generation = 0;
  {
    std::unique_lock lock(state_mu_);
    for (auto& b : *blocks) blocks_.push_back(std::move(b));
    std::stable_sort(blocks_.begin(), blocks_.end(), [](const auto& a, const auto& b) {
      return a->meta().order < b->meta().order;
    });
    generation = readers_.Advance();
  }
  // Readers that started before cannot see the new blocks: keep the samples in memory for them.
  readers_.WaitForReadersBefore(generation);
  for (const auto& series : frozen->series) series->DropFrozen();
  Status removed = segment > 0 ? wal_->RemoveBefore(segment) : Status::Ok();
  {
    std::lock_guard lock(frozen_mu_);
    frozen_.reset();
    last_flush_error_ = Status::Ok();
  }
  frozen_cv_.notify_all();
  ++compactions_;
  if (metrics_) metrics_->flushes->Inc();
  return removed;
}

Status Db::ApplyRetention() {
  const int64_t cutoff = clock_->NowMs() - options_.retention.count();
  std::vector<std::shared_ptr<Block>> expired;
  {
    std::unique_lock lock(state_mu_);
    for (const auto& b : blocks_) {
      if (b->meta().maxt < cutoff) expired.push_back(b);
    }
    std::erase_if(blocks_, [&](const auto& b) { return b->meta().maxt < cutoff; });
  }
  Status first;
  for (const auto& b : expired) {
    Status s = b->MarkDeleted();
    if (first.ok()) first = s;
  }
  if (!expired.empty()) {
    pa::log::Get("tsdb")->info("metrics store {}: retention removed {} blocks", options_.dir,
                               expired.size());
  }
  return first;
}

Result<bool> Db::CompactOnce(bool full) {
  std::vector<std::shared_ptr<Block>> blocks;
  {
    std::shared_lock lock(state_mu_);
    blocks = blocks_;
  }
  const int64_t now = clock_->NowMs();
  std::optional<CompactionPlan> plan = PlanCompaction(blocks, ranges_, now, full);
  if (!plan) return false;
  const BlockWriteContext ctx{blocks_dir_, ranges_, now, now - options_.retention.count(),
                              &next_seq_};
  auto merged = MergeBlocks(*plan, ctx);
  if (!merged.ok()) {
    if (metrics_) metrics_->compaction_failures->Inc();
    return merged.status().WithContext("merging blocks");
  }
  {
    std::unique_lock lock(state_mu_);
    std::erase_if(blocks_, [&](const auto& b) {
      return std::find(plan->inputs.begin(), plan->inputs.end(), b) != plan->inputs.end();
    });
    if (*merged) blocks_.push_back(*merged);
    std::stable_sort(blocks_.begin(), blocks_.end(), [](const auto& a, const auto& b) {
      return a->meta().order < b->meta().order;
    });
  }
  Status first;
  for (const auto& b : plan->inputs) {
    Status s = b->MarkDeleted();
    if (first.ok()) first = s;
  }
  ++compactions_;
  if (metrics_) metrics_->merges->Inc();
  PA_RETURN_IF_ERROR(first);
  return true;
}

void Db::PublishGauges() {
  if (!metrics_) return;
  const Stats s = GetStats();
  metrics_->head_series->Set(static_cast<double>(s.head_series));
  metrics_->head_samples->Set(static_cast<double>(s.head_samples));
  metrics_->head_chunks->Set(static_cast<double>(s.head_chunks));
  metrics_->blocks->Set(static_cast<double>(s.blocks));
  metrics_->block_bytes->Set(static_cast<double>(s.block_bytes));
}

}  // namespace pa::storage::embedded_tsdb
