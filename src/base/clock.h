// Clock: the one seam through which PrimoART reads time.
//
// Production code takes a `Clock*` (usually `Clock::System()`); tests pass a `FakeClock` and move
// time by hand, so "stale after 3 intervals" or an alert's "for 5 minutes" is tested in
// microseconds. Both wall time (timestamps users see and store) and monotonic time (durations,
// timeouts) come from here.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace pa {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime MonotonicNow() const = 0;

  // Unix time in milliseconds: the unit every stored timestamp uses.
  int64_t NowMs() const;

  // The process-wide real clock; never null, never freed.
  static Clock* System();
};

// A clock that only moves when told to. Starts at 2026-01-01T00:00:00Z unless set.
class FakeClock : public Clock {
 public:
  FakeClock();
  WallTime Now() const override;
  MonoTime MonotonicNow() const override;

  void Advance(std::chrono::nanoseconds d);
  void SetWall(WallTime t);

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> mono_ns_{0};
};

}  // namespace pa
