#include "storage/postgres/pool.h"

namespace pa::storage::postgres {

Result<Pool::Lease> Pool::Acquire() {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, acquire_timeout_, [&] { return !idle_.empty() || open_ < size_; })) {
      return UnavailableError("database " + params_.where + ": all " + std::to_string(size_) +
                              " connections stayed busy for " +
                              std::to_string(acquire_timeout_.count()) +
                              " ms (raise the pool size or look for long transactions)");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());  // the most recently used: its statement cache is warm
      idle_.pop_back();
    } else {
      ++open_;
    }
  }
  if (conn && conn->Healthy()) return Lease(this, std::move(conn));
  conn.reset();  // closed by the server while idle; its slot is reused for a fresh connection
  auto fresh = Connection::Connect(params_);
  if (!fresh.ok()) {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    cv_.notify_one();
    return std::move(fresh).status();
  }
  return Lease(this, std::move(*fresh));
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  const bool reusable = !conn->Broken() && conn->TransactionStatus() == PQTRANS_IDLE;
  {
    std::lock_guard lock(mu_);
    if (reusable) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
  // A connection not kept is closed here, outside the lock.
}

}  // namespace pa::storage::postgres
