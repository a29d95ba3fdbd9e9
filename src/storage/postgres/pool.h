// A bounded pool of PostgreSQL connections.
//
//   PA_ASSIGN_OR_RETURN(Pool::Lease conn, pool.Acquire());
//   conn->Query(...);   // the connection returns to the pool when `conn` goes out of scope
//
// At most `size` connections exist; a caller waits up to `acquire_timeout` for one. An idle
// connection the server has closed (restart, pg_terminate_backend) is replaced before it is
// handed out, so the first query after the server comes back succeeds. A connection returned
// broken or inside a transaction is closed instead of reused.
// Thread-safety: Acquire and Lease destruction may run on any thread at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/postgres/connection.h"

namespace pa::storage::postgres {

class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Pool(ConnectParams params, int size, std::chrono::milliseconds acquire_timeout)
      : params_(std::move(params)), size_(size), acquire_timeout_(acquire_timeout) {}

  // A healthy connection for the caller alone. kUnavailable when the server cannot be reached
  // or every connection stayed busy for acquire_timeout.
  Result<Lease> Acquire();

  const ConnectParams& params() const { return params_; }

 private:
  void Release(std::unique_ptr<Connection> conn);

  const ConnectParams params_;
  const int size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle + leased + being connected
};

}  // namespace pa::storage::postgres
