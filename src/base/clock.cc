#include "base/clock.h"

namespace pa {
namespace {

class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime MonotonicNow() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

int64_t Clock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
}

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

FakeClock::FakeClock() : wall_ns_(int64_t{1767225600} * 1'000'000'000) {}

Clock::WallTime FakeClock::Now() const {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(wall_ns_.load())));
}

Clock::MonoTime FakeClock::MonotonicNow() const {
  return MonoTime(
      std::chrono::duration_cast<MonoTime::duration>(std::chrono::nanoseconds(mono_ns_.load())));
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  wall_ns_ += d.count();
  mono_ns_ += d.count();
}

void FakeClock::SetWall(WallTime t) {
  wall_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace pa
