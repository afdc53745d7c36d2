#include "schedule/circuit_breaker.hpp"

namespace assetgen::schedule {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

CircuitBreaker::Decision CircuitBreaker::ask(util::SteadyTime now) {
    std::lock_guard lock(m_mutex);
    auto total_open = [&] { return m_open_total + (now - m_open_since); };
    switch (m_state) {
        case State::closed:
            return {Verdict::go, now};
        case State::open:
            if (total_open() > m_settings.max_open) {
                return {Verdict::give_up, now};
            }
            if (now < m_open_until) {
                return {Verdict::wait, m_open_until};
            }
            m_state = State::half_open;
            m_probe_in_flight = true;
            return {Verdict::probe, now};
        case State::half_open:
            if (total_open() > m_settings.max_open) {
                return {Verdict::give_up, now};
            }
            if (!m_probe_in_flight) {
                m_probe_in_flight = true;
                return {Verdict::probe, now};
            }
            // Ask again shortly: the probe's outcome decides.
            return {Verdict::wait, now + milliseconds(50)};
    }
    return {Verdict::go, now};
}

void CircuitBreaker::open_locked(util::SteadyTime now) {
    if (m_state == State::closed) {
        m_open_since = now;
    }
    m_state = State::open;
    m_open_until = now + m_settings.cooldown;
    m_probe_in_flight = false;
    ++m_opens;
}

bool CircuitBreaker::report(bool success, bool was_probe, util::SteadyTime now) {
    std::lock_guard lock(m_mutex);
    if (success) {
        m_consecutive_failures = 0;
        if (m_state != State::closed && (was_probe || m_state == State::half_open)) {
            m_open_total += now - m_open_since;
            m_state = State::closed;
            m_probe_in_flight = false;
            return true;
        }
        return false;
    }
    ++m_consecutive_failures;
    if (was_probe && m_state == State::half_open) {
        open_locked(now);
        return true;
    }
    if (m_state == State::closed && m_consecutive_failures >= m_settings.threshold) {
        open_locked(now);
        return true;
    }
    return false;
}

CircuitBreaker::State CircuitBreaker::state() const {
    std::lock_guard lock(m_mutex);
    return m_state;
}

std::chrono::milliseconds CircuitBreaker::open_for(util::SteadyTime now) const {
    std::lock_guard lock(m_mutex);
    auto total = m_open_total;
    if (m_state != State::closed) {
        total += now - m_open_since;
    }
    return duration_cast<milliseconds>(total);
}

int CircuitBreaker::opens() const {
    std::lock_guard lock(m_mutex);
    return m_opens;
}

const char* CircuitBreaker::state_name(State s) {
    switch (s) {
        case State::closed:
            return "closed";
        case State::open:
            return "open";
        case State::half_open:
            return "half_open";
    }
    return "closed";
}

}  // namespace assetgen::schedule
