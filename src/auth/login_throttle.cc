#include "auth/login_throttle.h"

#include <algorithm>
#include <vector>

namespace pa::auth {
namespace {

std::string Key(const std::string& account, const std::string& ip) { return account + '\n' + ip; }

}  // namespace

std::chrono::seconds LoginThrottle::Remaining(const Counter& c, int free) const {
  if (c.failures <= free) return std::chrono::seconds(0);
  const int exponent = std::min(c.failures - free - 1, 20);
  const auto delay = std::min(options_.base_delay * (int64_t{1} << exponent), options_.max_delay);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.MonotonicNow() - c.last_failure);
  return elapsed >= delay ? std::chrono::seconds(0) : delay - elapsed;
}

std::optional<std::chrono::seconds> LoginThrottle::Check(const std::string& account,
                                                         const std::string& ip,
                                                         int64_t account_failures) {
  std::lock_guard lock(mu_);
  std::chrono::seconds wait(0);
  if (auto it = by_ip_.find(ip); it != by_ip_.end()) {
    wait = std::max(wait, Remaining(it->second, options_.free_per_ip));
  }
  if (auto it = by_account_ip_.find(Key(account, ip)); it != by_account_ip_.end()) {
    const bool under_attack = account_failures >= options_.account_under_attack;
    wait = std::max(wait, Remaining(it->second, under_attack ? 0 : options_.free_per_account_ip));
  }
  if (wait.count() == 0) return std::nullopt;
  return wait;
}

void LoginThrottle::RecordFailure(const std::string& account, const std::string& ip) {
  std::lock_guard lock(mu_);
  const auto now = clock_.MonotonicNow();
  for (Counter* c : {&by_account_ip_[Key(account, ip)], &by_ip_[ip]}) {
    if (c->failures > 0 && now - c->last_failure > options_.forget_after) c->failures = 0;
    ++c->failures;
    c->last_failure = now;
  }
  if (by_account_ip_.size() + by_ip_.size() > options_.max_entries) Prune();
}

void LoginThrottle::RecordSuccess(const std::string& account, const std::string& ip) {
  std::lock_guard lock(mu_);
  by_account_ip_.erase(Key(account, ip));
}

void LoginThrottle::Prune() {
  const auto now = clock_.MonotonicNow();
  auto prune = [&](std::unordered_map<std::string, Counter>& m) {
    std::erase_if(
        m, [&](const auto& kv) { return now - kv.second.last_failure > options_.forget_after; });
  };
  prune(by_account_ip_);
  prune(by_ip_);
  // Still too many: an attacker with very many addresses. Forget the oldest half.
  if (by_account_ip_.size() + by_ip_.size() > options_.max_entries) {
    auto halve = [&](std::unordered_map<std::string, Counter>& m) {
      if (m.empty()) return;
      std::vector<Clock::MonoTime> times;
      for (const auto& kv : m) times.push_back(kv.second.last_failure);
      std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
      const auto cut = times[times.size() / 2];
      std::erase_if(m, [&](const auto& kv) { return kv.second.last_failure < cut; });
    };
    halve(by_account_ip_);
    halve(by_ip_);
  }
}

}  // namespace pa::auth
