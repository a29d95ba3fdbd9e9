#include "storage/relational_store.h"

#include <cassert>
#include <cmath>

namespace pa::storage {

bool Rows::IsNull(size_t r, size_t c) const {
  return std::holds_alternative<std::monostate>(rows_[r][c]);
}

int64_t Rows::Int(size_t r, size_t c) const {
  const SqlValue& v = rows_[r][c];
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  const auto* d = std::get_if<double>(&v);
  assert(d && "column is not numeric");
  return d ? static_cast<int64_t>(std::llround(*d)) : 0;
}

double Rows::Double(size_t r, size_t c) const {
  const SqlValue& v = rows_[r][c];
  if (const auto* d = std::get_if<double>(&v)) return *d;
  const auto* i = std::get_if<int64_t>(&v);
  assert(i && "column is not numeric");
  return i ? static_cast<double>(*i) : 0.0;
}

const std::string& Rows::Text(size_t r, size_t c) const {
  static const std::string kEmpty;
  const auto* s = std::get_if<std::string>(&rows_[r][c]);
  assert(s && "column is not text");
  return s ? *s : kEmpty;
}

const std::string& Rows::Bytes(size_t r, size_t c) const {
  static const std::string kEmpty;
  if (const auto* b = std::get_if<Blob>(&rows_[r][c])) return b->bytes;
  const auto* s = std::get_if<std::string>(&rows_[r][c]);
  assert(s && "column is not a blob");
  return s ? *s : kEmpty;
}

std::optional<std::string> Rows::OptText(size_t r, size_t c) const {
  if (IsNull(r, c)) return std::nullopt;
  return Text(r, c);
}

std::optional<int64_t> Rows::OptInt(size_t r, size_t c) const {
  if (IsNull(r, c)) return std::nullopt;
  return Int(r, c);
}

Status RelationalStore::InTransaction(const std::function<Status(Transaction&)>& fn, int attempts) {
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto tx = Begin();
    if (!tx.ok()) {
      last = tx.status();
      if (last.code() == StatusCode::kAborted) continue;
      return last;
    }
    last = fn(**tx);
    if (last.ok()) last = (*tx)->Commit();
    if (last.ok() || last.code() != StatusCode::kAborted) return last;
  }
  return last;
}

}  // namespace pa::storage
