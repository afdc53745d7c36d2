#pragma once
// The clock seam: everything that reads time or waits goes through a Clock, so tests run a
// fake one and never sleep real time.

#include <chrono>
#include <cstdint>

namespace assetgen::util {

using Millis = std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
public:
    virtual ~Clock() = default;
    // Wall-clock time in milliseconds since the Unix epoch (ledger timestamps, day boundaries).
    virtual std::int64_t unix_ms() const = 0;
    // Monotonic time for deadlines, latencies and rate windows.
    virtual SteadyTime steady() const = 0;
    // Blocks the calling thread for d (a fake clock advances instead).
    virtual void sleep_for(std::chrono::nanoseconds d) = 0;
    void sleep_until(SteadyTime t) {
        auto now = steady();
        if (t > now) {
            sleep_for(t - now);
        }
    }
};

// The real clock.
class SystemClock final : public Clock {
public:
    std::int64_t unix_ms() const override;
    SteadyTime steady() const override { return std::chrono::steady_clock::now(); }
    void sleep_for(std::chrono::nanoseconds d) override;
};

// A process-wide SystemClock for the CLI to put into its Context.
Clock& system_clock();

}  // namespace assetgen::util
