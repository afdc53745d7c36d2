#pragma once
// --rpm: no sliding 60-second window holds more than `rpm` request starts. Keeps the start
// times of the last `rpm` requests; a start is allowed once the oldest of them is a full window
// (plus a small margin for clock and network skew) in the past. Thread-safe.

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "util/clock.hpp"

namespace assetgen::schedule {

class RateLimiter {
public:
    // rpm 0 = unlimited.
    explicit RateLimiter(int rpm,
                         std::chrono::milliseconds window = std::chrono::milliseconds(60'000),
                         std::chrono::milliseconds margin = std::chrono::milliseconds(100))
        : m_rpm(rpm), m_window(window + margin) {}

    // Takes a start slot at `now` and returns std::nullopt, or returns the time to ask again.
    std::optional<util::SteadyTime> try_start(util::SteadyTime now);
    bool unlimited() const { return m_rpm <= 0; }

private:
    int m_rpm;
    std::chrono::milliseconds m_window;
    std::mutex m_mutex;
    std::deque<util::SteadyTime> m_starts;
};

}  // namespace assetgen::schedule
