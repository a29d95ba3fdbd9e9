#include "storage/embedded_tsdb/querier.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "storage/embedded_tsdb/blocks/compact.h"
#include "storage/embedded_tsdb/index/index.h"

namespace pa::storage::embedded_tsdb {

uint64_t ReaderRegistry::Enter() {
  std::lock_guard lock(mu_);
  ++readers_[generation_];
  return generation_;
}

void ReaderRegistry::Leave(uint64_t generation) {
  std::lock_guard lock(mu_);
  const auto it = readers_.find(generation);
  if (it != readers_.end() && --it->second == 0) readers_.erase(it);
  cv_.notify_all();
}

uint64_t ReaderRegistry::Advance() {
  std::lock_guard lock(mu_);
  return ++generation_;
}

void ReaderRegistry::WaitForReadersBefore(uint64_t generation) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return readers_.empty() || readers_.begin()->first >= generation; });
}

namespace {

// Decodes the series of a MergedSeriesSet ahead of its consumer on a helper thread, so that
// decompression and decoding — about half of a large query's time — overlap with evaluation.
// At most kDepth decoded series wait at once (they are not counted against the query's sample
// limit; the depth bounds them). `read(i, out)` must be callable from the helper thread.
class ReadAhead {
 public:
  static constexpr size_t kDepth = 4;
  using ReadFn = std::function<Status(size_t, std::vector<Sample>*)>;

  ReadAhead(size_t count, ReadFn read) : count_(count), read_(std::move(read)) {
    worker_ = std::thread([this] { Run(); });
  }
  ~ReadAhead() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The consumer is at series `i`: the helper skips what lies before it.
  void MoveTo(size_t i) {
    {
      std::lock_guard lock(mu_);
      wanted_ = i;
    }
    cv_.notify_all();
  }

  // Appends the samples of series `i` (the one last passed to MoveTo) to `out`.
  Status Take(size_t i, std::vector<Sample>* out) {
    std::unique_lock lock(mu_);
    if (i < first_) return InternalError("the samples of a series can be read only once");
    cv_.wait(lock, [&] { return first_ + ready_.size() > i; });
    while (first_ < i) Recycle(lock);
    Slot& slot = ready_.front();
    Status status = std::move(slot.status);
    if (out->empty()) {
      out->swap(slot.samples);  // the consumer's old buffer goes back to the helper
    } else {
      out->insert(out->end(), slot.samples.begin(), slot.samples.end());
    }
    Recycle(lock);
    return status;
  }

 private:
  struct Slot {
    std::vector<Sample> samples;
    Status status;
  };

  void Recycle(std::unique_lock<std::mutex>&) {
    spare_.push_back(std::move(ready_.front().samples));
    ready_.pop_front();
    ++first_;
    cv_.notify_all();
  }

  void Run() {
    for (size_t i = 0; i < count_; ++i) {
      std::vector<Sample> buffer;
      bool skip = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || i < wanted_ + kDepth; });
        if (stop_) return;
        skip = i < wanted_;
        if (!spare_.empty()) {
          buffer = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      buffer.clear();
      Status status = skip ? Status::Ok() : read_(i, &buffer);
      {
        std::lock_guard lock(mu_);
        ready_.push_back({std::move(buffer), std::move(status)});
      }
      cv_.notify_all();
    }
  }

  const size_t count_;
  const ReadFn read_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot> ready_;  // series [first_, first_ + ready_.size())
  size_t first_ = 0;
  size_t wanted_ = 0;
  bool stop_ = false;
  std::vector<std::vector<Sample>> spare_;
  std::thread worker_;  // last: started after, and joined before, everything above
};

class MergedSeriesSet final : public SeriesSet {
 public:
  // Below this many series a helper thread costs more than it saves.
  static constexpr size_t kMinSeriesForReadAhead = 4;

  MergedSeriesSet(std::shared_ptr<const Snapshot> snap, std::vector<DbQuerier::Entry> entries,
                  int64_t mint, int64_t maxt)
      : snap_(std::move(snap)), entries_(std::move(entries)), mint_(mint), maxt_(maxt) {
    if (entries_.size() >= kMinSeriesForReadAhead) {
      ahead_ = std::make_unique<ReadAhead>(
          entries_.size(),
          [this](size_t i, std::vector<Sample>* out) { return ReadEntry(i, out); });
    }
  }

  bool Next() override {
    if (pos_ + 1 >= static_cast<int64_t>(entries_.size())) {
      pos_ = static_cast<int64_t>(entries_.size());
      return false;
    }
    ++pos_;
    if (ahead_) ahead_->MoveTo(static_cast<size_t>(pos_));
    return true;
  }
  const Labels& labels() const override { return entries_[pos_].labels; }

  Status ReadSamples(std::vector<Sample>* out) override {
    if (ahead_) return ahead_->Take(static_cast<size_t>(pos_), out);
    return ReadEntry(static_cast<size_t>(pos_), out);
  }
  Status status() const override { return Status::Ok(); }

 private:
  // Entry i's samples appended to `out`. Called by one thread only: the helper when there is
  // one, else the consumer (runs_ and run_ends_ are its scratch space).
  Status ReadEntry(size_t i, std::vector<Sample>* out) {
    const auto& sources = entries_[i].sources;
    if (sources.size() == 1) return Read(sources[0], out);
    // Usually the sources are blocks of successive partitions, disjoint and in time order:
    // their concatenation is the merge, so each is decoded straight into `out`. Otherwise the
    // runs are moved aside and merged.
    const size_t base = out->size();
    run_ends_.clear();
    bool ordered = true;
    int64_t last_t = INT64_MIN;
    for (const DbQuerier::Source& source : sources) {
      const size_t begin = out->size();
      PA_RETURN_IF_ERROR(Read(source, out));
      run_ends_.push_back(out->size());
      if (out->size() == begin) continue;
      ordered = ordered && (begin == base || (*out)[begin].t > last_t);
      last_t = out->back().t;
    }
    if (ordered) return Status::Ok();
    runs_.resize(sources.size());
    size_t begin = base;
    for (size_t s = 0; s < sources.size(); ++s) {
      runs_[s].assign(out->begin() + static_cast<ptrdiff_t>(begin),
                      out->begin() + static_cast<ptrdiff_t>(run_ends_[s]));
      begin = run_ends_[s];
    }
    out->resize(base);
    MergeSampleRuns(runs_, out);
    return Status::Ok();
  }

  Status Read(const DbQuerier::Source& s, std::vector<Sample>* out) const {
    if (s.block) return s.block->Read(s.series, mint_, maxt_, out);
    s.mem->Read(mint_, maxt_, out);
    return Status::Ok();
  }

  std::shared_ptr<const Snapshot> snap_;
  std::vector<DbQuerier::Entry> entries_;
  int64_t mint_, maxt_;
  int64_t pos_ = -1;
  std::vector<std::vector<Sample>> runs_;
  std::vector<size_t> run_ends_;      // per source, the end of its samples in `out`
  std::unique_ptr<ReadAhead> ahead_;  // last: its thread stops before the members above go
};

}  // namespace

Result<std::vector<DbQuerier::Entry>> DbQuerier::Collect(const MatcherSet& matcher_set,
                                                         int64_t mint, int64_t maxt) {
  PA_ASSIGN_OR_RETURN(std::vector<Matcher> matchers, CompileMatchers(matcher_set));
  struct Candidate {
    Labels labels;
    uint32_t rank;  // position of the source in write order
    Source source;
  };
  std::vector<Candidate> candidates;
  uint32_t rank = 0;
  for (const auto& block : snap_->blocks) {
    ++rank;
    const BlockMeta& m = block->meta();
    if (m.maxt < mint || m.mint > maxt) continue;
    for (uint64_t id : SelectPostings(*block, matchers)) {
      const uint32_t series = static_cast<uint32_t>(id);
      if (!block->HasDataIn(series, mint, maxt)) continue;
      candidates.push_back({block->SeriesLabels(series), rank, {block.get(), series, nullptr}});
    }
  }
  ++rank;
  std::vector<std::shared_ptr<MemSeries>> head_series;
  {
    Head& head = *snap_->head;
    std::shared_lock lock(head.index_mu());
    const PostingList refs = SelectPostings(head, matchers);
    head_series.reserve(refs.size());
    for (uint64_t ref : refs) {
      if (auto s = head.SeriesByRef(ref)) head_series.push_back(std::move(s));
    }
  }
  for (auto& s : head_series) {
    if (!s->HasDataIn(mint, maxt)) continue;
    Labels labels = s->labels();
    candidates.push_back({std::move(labels), rank, {nullptr, 0, std::move(s)}});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.labels != b.labels) return a.labels < b.labels;
    return a.rank < b.rank;
  });
  std::vector<Entry> entries;
  for (Candidate& c : candidates) {
    if (entries.empty() || entries.back().labels != c.labels) {
      entries.push_back({std::move(c.labels), {}});
    }
    entries.back().sources.push_back(std::move(c.source));
  }
  return entries;
}

Result<std::unique_ptr<SeriesSet>> DbQuerier::Select(const MatcherSet& matchers, int64_t mint,
                                                     int64_t maxt) {
  PA_ASSIGN_OR_RETURN(std::vector<Entry> entries, Collect(matchers, mint, maxt));
  return std::unique_ptr<SeriesSet>(
      std::make_unique<MergedSeriesSet>(snap_, std::move(entries), mint, maxt));
}

Result<std::vector<Labels>> DbQuerier::MatchingSeries(const std::vector<MatcherSet>& match,
                                                      int64_t mint, int64_t maxt, int64_t limit) {
  std::vector<Labels> out;
  const std::vector<MatcherSet> all = {MatcherSet{}};
  for (const MatcherSet& set : match.empty() ? all : match) {
    PA_ASSIGN_OR_RETURN(std::vector<Entry> entries, Collect(set, mint, maxt));
    for (Entry& e : entries) out.push_back(std::move(e.labels));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (limit > 0 && static_cast<int64_t>(out.size()) > limit) out.resize(limit);
  return out;
}

}  // namespace pa::storage::embedded_tsdb
