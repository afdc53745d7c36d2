#pragma once
// A clock that never sleeps: sleep_for advances virtual time at once. Thread-safe, so a
// multi-threaded runner sees one consistent virtual timeline.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "util/clock.hpp"

namespace assetgen::test {

class FakeClock final : public util::Clock {
public:
    explicit FakeClock(std::int64_t start_unix_ms = 1'764'000'000'000)
        : m_unix_start(start_unix_ms) {}
    std::int64_t unix_ms() const override {
        return m_unix_start + std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::nanoseconds(m_ns.load()))
                                  .count();
    }
    util::SteadyTime steady() const override {
        return util::SteadyTime(std::chrono::nanoseconds(m_ns.load()));
    }
    void sleep_for(std::chrono::nanoseconds d) override {
        if (d.count() > 0) {
            m_ns.fetch_add(d.count());
            m_sleeps.fetch_add(1);
        }
    }
    void advance(std::chrono::nanoseconds d) { m_ns.fetch_add(d.count()); }
    std::uint64_t sleeps() const { return m_sleeps.load(); }

private:
    std::int64_t m_unix_start;
    std::atomic<std::int64_t> m_ns{0};
    std::atomic<std::uint64_t> m_sleeps{0};
};

}  // namespace assetgen::test
