#pragma once
// The circuit breaker (DESIGN.md §5): after `threshold` consecutive failed attempts it opens
// for `cooldown`; while open no new request starts (callers wait, rows are not failed); then
// exactly one probe goes out; its success closes the circuit, its failure opens it again.
// When the circuit has been open longer than `max_open` in total, callers are told to give up
// (UPSTREAM_UNAVAILABLE). Pure state machine over the times it is given; thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "util/clock.hpp"

namespace assetgen::schedule {

struct BreakerSettings {
    int threshold = 5;
    std::chrono::milliseconds cooldown{10'000};
    std::chrono::milliseconds max_open{300'000};
};

class CircuitBreaker {
public:
    enum class State { closed, open, half_open };
    enum class Verdict { go, probe, wait, give_up };
    struct Decision {
        Verdict verdict;
        util::SteadyTime retry_at;  // for wait: when to ask again
    };

    explicit CircuitBreaker(BreakerSettings settings) : m_settings(settings) {}

    // May a request start now? go: yes; probe: yes, as the single probe (report its outcome
    // with was_probe = true); wait: not before retry_at; give_up: open too long in total.
    Decision ask(util::SteadyTime now);
    // Reports an attempt's outcome. Only transient failures count as failures.
    // Returns true when this report changed the state (for a "circuit" event).
    bool report(bool success, bool was_probe, util::SteadyTime now);

    State state() const;
    // Total time spent open so far (including the current open period).
    std::chrono::milliseconds open_for(util::SteadyTime now) const;
    int opens() const;
    static const char* state_name(State s);

private:
    void open_locked(util::SteadyTime now);

    BreakerSettings m_settings;
    mutable std::mutex m_mutex;
    State m_state = State::closed;
    int m_consecutive_failures = 0;
    util::SteadyTime m_open_since{};
    util::SteadyTime m_open_until{};
    std::chrono::nanoseconds m_open_total{0};
    bool m_probe_in_flight = false;
    int m_opens = 0;
};

}  // namespace assetgen::schedule
