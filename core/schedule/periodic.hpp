#pragma once
// A background thread that calls a task every `every` on a Clock: JobSession's checkpoints.
// The deadline is read on the clock it is given, so a fake clock drives it in tests; the thread
// sleeps on a condition variable until the deadline (the real clock's time) or until stop() or
// nudge() wakes it, and never holds its lock while the task runs.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "util/clock.hpp"

namespace assetgen::schedule {

class Periodic {
public:
    Periodic(util::Clock& clock, std::chrono::milliseconds every, std::function<void()> task)
        : m_clock(clock), m_every(every), m_task(std::move(task)) {}
    ~Periodic() { stop(); }
    Periodic(const Periodic&) = delete;
    Periodic& operator=(const Periodic&) = delete;

    // Starts the thread; the calls come every `every` from now (a task that overran a whole
    // period moves the next one to `every` after it). Does nothing when every <= 0.
    void start();
    // Wakes the thread and joins it; a task running finishes first, none starts after.
    // Idempotent.
    void stop();
    // Makes the thread read the clock again now (a test that moved a fake clock calls it).
    void nudge();
    // How many times the task ran.
    std::uint64_t runs() const;

private:
    void loop(util::SteadyTime due);

    util::Clock& m_clock;
    std::chrono::milliseconds m_every;
    std::function<void()> m_task;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::uint64_t m_nudges = 0;
    std::uint64_t m_runs = 0;
    std::thread m_thread;
};

}  // namespace assetgen::schedule
