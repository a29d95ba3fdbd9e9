// LoginThrottle: slows down password guessing without letting an attacker lock a real user out.
//
// Three counters, each with exponential backoff (1 s, 2 s, 4 s, ... up to 15 min after the last
// failure) once its free allowance is used up:
//   * per (account, client IP): 3 free failures — one client guessing one account;
//   * per client IP: 10 free failures — one client spraying many accounts;
//   * per account under attack (≥ 100 consecutive failures, counted in the database so every
//     instance sees it): every client IP that has failed on that account is delayed from its
//     first failure, while an IP that never failed — the real user — logs in normally.
// Counters are forgotten an hour after their last failure; a success clears the (account, IP)
// counter. State is per process and bounded (oldest entries are dropped past `max_entries`).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace pa::auth {

struct ThrottleOptions {
  int free_per_account_ip = 3;
  int free_per_ip = 10;
  int64_t account_under_attack = 100;
  std::chrono::seconds base_delay{1};
  std::chrono::seconds max_delay{900};
  std::chrono::seconds forget_after{3600};
  size_t max_entries = 100000;
};

class LoginThrottle {
 public:
  explicit LoginThrottle(Clock& clock, ThrottleOptions options = {})
      : clock_(clock), options_(options) {}

  // How long this client must wait before trying this account, or nullopt if it may try now.
  // `account_failures` is the account's consecutive failure count from the database (0 when
  // the account does not exist).
  std::optional<std::chrono::seconds> Check(const std::string& account, const std::string& ip,
                                            int64_t account_failures);

  void RecordFailure(const std::string& account, const std::string& ip);
  void RecordSuccess(const std::string& account, const std::string& ip);

 private:
  struct Counter {
    int failures = 0;
    Clock::MonoTime last_failure;
  };
  // Remaining wait for a counter given its free allowance; zero when none.
  std::chrono::seconds Remaining(const Counter& c, int free) const;
  void Prune();

  Clock& clock_;
  ThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Counter> by_account_ip_;
  std::unordered_map<std::string, Counter> by_ip_;
};

}  // namespace pa::auth
