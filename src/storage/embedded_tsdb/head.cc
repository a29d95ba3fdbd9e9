#include "storage/embedded_tsdb/head.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace pa::storage::embedded_tsdb {
namespace {

// Out-of-order samples are buffered up to this many before being merged into the chunks: one
// chunk's worth, so a replay of old data produces full chunks.
constexpr size_t kOutOfOrderMerge = XorChunk::kMaxSamples;

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Merges two sorted, unique runs; `newer` wins on equal timestamps.
void MergeRuns(const std::vector<Sample>& older, std::span<const Sample> newer,
               std::vector<Sample>* out) {
  out->reserve(out->size() + older.size() + newer.size());
  size_t i = 0, j = 0;
  while (i < older.size() || j < newer.size()) {
    if (j == newer.size() || (i < older.size() && older[i].t < newer[j].t)) {
      out->push_back(older[i++]);
    } else {
      if (i < older.size() && older[i].t == newer[j].t) ++i;
      out->push_back(newer[j++]);
    }
  }
}

// Chunks [first, last) of a sorted chunk list overlapping [mint, maxt].
std::pair<size_t, size_t> Overlapping(const std::vector<XorChunk>& chunks, int64_t mint,
                                      int64_t maxt) {
  const auto b = std::partition_point(chunks.begin(), chunks.end(),
                                      [&](const XorChunk& c) { return c.maxt() < mint; });
  const auto e =
      std::partition_point(b, chunks.end(), [&](const XorChunk& c) { return c.mint() <= maxt; });
  return {static_cast<size_t>(b - chunks.begin()), static_cast<size_t>(e - chunks.begin())};
}

void DecodeRange(const std::vector<XorChunk>& chunks, int64_t mint, int64_t maxt,
                 std::vector<Sample>* out) {
  const auto [b, e] = Overlapping(chunks, mint, maxt);
  for (size_t i = b; i < e; ++i) chunks[i].Decode(mint, maxt, out);
}

}  // namespace

MemSeries::AppendCounts MemSeries::Append(std::span<const Sample> samples,
                                          std::vector<Sample>* written) {
  AppendCounts counts;
  std::lock_guard lock(mu_);
  for (const Sample& s : samples) {
    if (AppendOne(s.t, s.v)) {
      ++counts.accepted;
      if (written) written->push_back(s);
    } else {
      ++counts.duplicates;
    }
  }
  UpdateStats();
  return counts;
}

bool MemSeries::AppendOne(int64_t t, double v) {
  if (chunks_.empty() || t > chunks_.back().maxt()) {
    if (chunks_.empty() || chunks_.back().full()) {
      if (!chunks_.empty()) chunks_.back().Seal();
      chunks_.emplace_back();
    }
    chunks_.back().Append(t, v);
    if (decoded_chunk_ == chunks_.size() - 1) decoded_.push_back({t, v});  // stays current
    return true;
  }
  // A rewrite or an out-of-order sample.
  const auto it = std::lower_bound(ooo_.begin(), ooo_.end(), t,
                                   [](const Sample& s, int64_t t) { return s.t < t; });
  if (it != ooo_.end() && it->t == t) {
    if (Bits(it->v) == Bits(v)) return false;
    it->v = v;
    return true;
  }
  uint64_t stored = 0;
  if (StoredBits(t, &stored) && stored == Bits(v)) return false;
  ooo_.insert(it, {t, v});
  if (ooo_.size() >= kOutOfOrderMerge) MergeOutOfOrder();
  return true;
}

bool MemSeries::StoredBits(int64_t t, uint64_t* bits) {
  const auto [b, e] = Overlapping(chunks_, t, t);
  if (b == e) return false;
  const XorChunk& c = chunks_[b];
  if (t == c.maxt()) {
    if (b == chunks_.size() - 1) {
      *bits = Bits(c.last_value());
      return true;
    }
  }
  if (decoded_chunk_ != b) {
    decoded_.clear();
    c.DecodeAll(&decoded_);
    decoded_chunk_ = b;
  }
  const auto it = std::lower_bound(decoded_.begin(), decoded_.end(), t,
                                   [](const Sample& s, int64_t t) { return s.t < t; });
  if (it == decoded_.end() || it->t != t) return false;
  *bits = Bits(it->v);
  return true;
}

void MemSeries::MergeOutOfOrder() {
  if (ooo_.empty()) return;
  const auto [b, e] = Overlapping(chunks_, ooo_.front().t, ooo_.back().t);
  std::vector<Sample> base;
  for (size_t i = b; i < e; ++i) chunks_[i].DecodeAll(&base);
  std::vector<Sample> merged;
  MergeRuns(base, ooo_, &merged);
  std::vector<XorChunk> fresh = XorChunk::Encode(merged);
  chunks_.erase(chunks_.begin() + b, chunks_.begin() + e);
  chunks_.insert(chunks_.begin() + b, std::make_move_iterator(fresh.begin()),
                 std::make_move_iterator(fresh.end()));
  ooo_.clear();
  DropDecoded();
}

void MemSeries::UpdateStats() { num_chunks_.store(chunks_.size(), std::memory_order_relaxed); }

void MemSeries::Read(int64_t mint, int64_t maxt, std::vector<Sample>* out) const {
  std::lock_guard lock(mu_);
  const auto ob = std::lower_bound(ooo_.begin(), ooo_.end(), mint,
                                   [](const Sample& s, int64_t t) { return s.t < t; });
  const auto oe = std::upper_bound(ooo_.begin(), ooo_.end(), maxt,
                                   [](int64_t t, const Sample& s) { return t < s.t; });
  if (!frozen_ && ob == oe) {
    DecodeRange(chunks_, mint, maxt, out);
    return;
  }
  std::vector<Sample> older, active;
  if (frozen_) DecodeRange(*frozen_, mint, maxt, &older);
  DecodeRange(chunks_, mint, maxt, &active);
  if (ob != oe) {
    std::vector<Sample> tmp;
    MergeRuns(active, std::span<const Sample>(&*ob, static_cast<size_t>(oe - ob)), &tmp);
    active.swap(tmp);
  }
  MergeRuns(older, active, out);
}

bool MemSeries::HasDataIn(int64_t mint, int64_t maxt) const {
  std::lock_guard lock(mu_);
  auto overlaps = [&](const std::vector<XorChunk>& chunks) {
    const auto [b, e] = Overlapping(chunks, mint, maxt);
    return b != e;
  };
  if (overlaps(chunks_) || (frozen_ && overlaps(*frozen_))) return true;
  const auto it = std::lower_bound(ooo_.begin(), ooo_.end(), mint,
                                   [](const Sample& s, int64_t t) { return s.t < t; });
  return it != ooo_.end() && it->t <= maxt;
}

bool MemSeries::empty() const {
  std::lock_guard lock(mu_);
  return chunks_.empty() && ooo_.empty() && !frozen_;
}

MemSeries::ChunkList MemSeries::Freeze() {
  std::lock_guard lock(mu_);
  assert(!frozen_);
  MergeOutOfOrder();
  if (chunks_.empty()) {
    ++idle_periods_;
    return nullptr;
  }
  idle_periods_ = 0;
  if (!chunks_.empty()) chunks_.back().Seal();
  frozen_ = std::make_shared<const std::vector<XorChunk>>(std::move(chunks_));
  chunks_.clear();
  DropDecoded();
  UpdateStats();
  return frozen_;
}

MemSeries::ChunkList MemSeries::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

void MemSeries::DropFrozen() {
  std::lock_guard lock(mu_);
  frozen_.reset();
}

// ---- Head ----------------------------------------------------------------------------------

MemSeries* Head::GetOrCreate(const Labels& labels, bool* created) {
  const uint64_t hash = HashLabels(labels);
  const auto [b, e] = by_hash_.equal_range(hash);
  for (auto it = b; it != e; ++it) {
    if (it->second->labels() == labels) {
      *created = false;
      return it->second;
    }
  }
  *created = true;
  return Insert(next_ref_++, labels, hash);
}

MemSeries* Head::CreateWithRef(SeriesRef ref, const Labels& labels) {
  if (MemSeries* s = FindByRef(ref)) return s;
  if (ref >= next_ref_) next_ref_ = ref + 1;
  return Insert(ref, labels, HashLabels(labels));
}

MemSeries* Head::FindByRef(SeriesRef ref) const {
  const auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? nullptr : it->second.get();
}

MemSeries* Head::Insert(SeriesRef ref, const Labels& labels, uint64_t hash) {
  auto series = std::make_shared<MemSeries>(ref, labels, hash);
  MemSeries* raw = series.get();
  std::unique_lock lock(index_mu_);
  by_hash_.emplace(hash, raw);
  by_ref_.emplace(ref, std::move(series));
  IndexLocked(*raw);
  num_series_.store(static_cast<int64_t>(by_ref_.size()), std::memory_order_relaxed);
  return raw;
}

void Head::IndexLocked(const MemSeries& s) {
  auto add = [&](PostingList& list) {
    if (list.empty() || list.back() < s.ref()) {
      list.push_back(s.ref());
    } else {
      list.insert(std::lower_bound(list.begin(), list.end(), s.ref()), s.ref());
    }
  };
  for (const Label& l : s.labels()) {
    auto& values = postings_[l.name];
    auto it = values.find(l.value);
    if (it == values.end()) it = values.emplace(l.value, PostingList{}).first;
    add(it->second);
  }
  add(all_);
}

FrozenHead Head::Freeze() {
  FrozenHead frozen;
  std::vector<SeriesRef> idle;
  for (auto& [ref, s] : by_ref_) {
    if (MemSeries::ChunkList chunks = s->Freeze()) {
      for (const XorChunk& c : *chunks) frozen.samples += c.count();
      frozen.series.push_back(s);
    } else if (s->idle_periods() >= 2) {
      idle.push_back(ref);
    }
  }
  std::sort(frozen.series.begin(), frozen.series.end(),
            [](const auto& a, const auto& b) { return a->labels() < b->labels(); });
  samples_.store(0, std::memory_order_relaxed);
  if (!idle.empty()) {
    std::unique_lock lock(index_mu_);
    for (SeriesRef ref : idle) {
      const auto it = by_ref_.find(ref);
      const auto [hb, he] = by_hash_.equal_range(it->second->hash());
      for (auto h = hb; h != he; ++h) {
        if (h->second == it->second.get()) {
          by_hash_.erase(h);
          break;
        }
      }
      by_ref_.erase(it);
    }
    postings_.clear();
    all_.clear();
    std::vector<MemSeries*> ordered;
    ordered.reserve(by_ref_.size());
    for (const auto& [ref, s] : by_ref_) ordered.push_back(s.get());
    std::sort(ordered.begin(), ordered.end(),
              [](const MemSeries* a, const MemSeries* b) { return a->ref() < b->ref(); });
    for (const MemSeries* s : ordered) IndexLocked(*s);
    num_series_.store(static_cast<int64_t>(by_ref_.size()), std::memory_order_relaxed);
  }
  return frozen;
}

std::vector<std::shared_ptr<MemSeries>> Head::AllSeries() const {
  std::vector<std::shared_ptr<MemSeries>> out;
  out.reserve(by_ref_.size());
  for (const auto& [ref, s] : by_ref_) out.push_back(s);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->ref() < b->ref(); });
  return out;
}

std::shared_ptr<MemSeries> Head::SeriesByRef(SeriesRef ref) const {
  const auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? nullptr : it->second;
}

const PostingList* Head::Postings(std::string_view name, std::string_view value) const {
  const auto n = postings_.find(name);
  if (n == postings_.end()) return nullptr;
  const auto v = n->second.find(value);
  return v == n->second.end() ? nullptr : &v->second;
}

void Head::ForEachValue(std::string_view name,
                        const std::function<void(std::string_view, const PostingList&)>& fn) const {
  const auto n = postings_.find(name);
  if (n == postings_.end()) return;
  for (const auto& [value, list] : n->second) fn(value, list);
}

int64_t Head::num_chunks() const {
  std::shared_lock lock(index_mu_);
  int64_t n = 0;
  for (const auto& [ref, s] : by_ref_) n += static_cast<int64_t>(s->num_chunks());
  return n;
}

size_t Head::max_chunks_per_series() const {
  std::shared_lock lock(index_mu_);
  size_t n = 0;
  for (const auto& [ref, s] : by_ref_) n = std::max(n, s->num_chunks());
  return n;
}

}  // namespace pa::storage::embedded_tsdb
