#include "auth/login_throttle.h"

#include <gtest/gtest.h>

namespace pa::auth {
namespace {

using std::chrono::seconds;

TEST(LoginThrottleTest, BackoffPerAccountAndIp) {
  FakeClock clock;
  LoginThrottle t(clock);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(t.Check("alice", "10.0.0.9", 0));
    t.RecordFailure("alice", "10.0.0.9");
  }
  EXPECT_FALSE(t.Check("alice", "10.0.0.9", 3));  // three free failures
  t.RecordFailure("alice", "10.0.0.9");           // the fourth starts the backoff
  EXPECT_EQ(t.Check("alice", "10.0.0.9", 4), seconds(1));
  clock.Advance(seconds(1));
  EXPECT_FALSE(t.Check("alice", "10.0.0.9", 4));
  t.RecordFailure("alice", "10.0.0.9");
  EXPECT_EQ(t.Check("alice", "10.0.0.9", 5), seconds(2));
  t.RecordFailure("alice", "10.0.0.9");
  EXPECT_EQ(t.Check("alice", "10.0.0.9", 6), seconds(4));
  // The real user on another address is not affected.
  EXPECT_FALSE(t.Check("alice", "192.0.2.1", 6));
  // Success from the attacker's address clears its per-account counter.
  t.RecordSuccess("alice", "10.0.0.9");
  EXPECT_FALSE(t.Check("alice", "10.0.0.9", 0));
}

TEST(LoginThrottleTest, OneAddressSprayingManyAccounts) {
  FakeClock clock;
  LoginThrottle t(clock);
  for (int i = 0; i < 11; ++i) t.RecordFailure("user" + std::to_string(i), "10.0.0.9");
  EXPECT_EQ(t.Check("someone-else", "10.0.0.9", 0), seconds(1));
  EXPECT_FALSE(t.Check("someone-else", "10.0.0.10", 0));
}

TEST(LoginThrottleTest, AccountUnderAttackDelaysOnlyFailedAddresses) {
  FakeClock clock;
  LoginThrottle t(clock);
  t.RecordFailure("alice", "10.0.0.9");
  EXPECT_FALSE(t.Check("alice", "10.0.0.9", 99));
  EXPECT_EQ(t.Check("alice", "10.0.0.9", 100), seconds(1));  // ≥ 100 consecutive failures
  EXPECT_FALSE(t.Check("alice", "192.0.2.1", 100));          // never failed here
}

TEST(LoginThrottleTest, DelayIsCappedAndForgotten) {
  FakeClock clock;
  LoginThrottle t(clock);
  for (int i = 0; i < 40; ++i) t.RecordFailure("alice", "10.0.0.9");
  EXPECT_EQ(t.Check("alice", "10.0.0.9", 40), seconds(900));
  clock.Advance(seconds(3601));
  t.RecordFailure("alice", "10.0.0.9");  // after an hour the count starts again
  EXPECT_FALSE(t.Check("alice", "10.0.0.9", 1));
}

}  // namespace
}  // namespace pa::auth
