#include "schedule/periodic.hpp"

namespace assetgen::schedule {

void Periodic::start() {
    if (m_every.count() <= 0 || m_thread.joinable()) {
        return;
    }
    const util::SteadyTime first =
        m_clock.steady() + m_every;  // from now, not from the thread's start
    m_thread = std::thread([this, first] { loop(first); });
}

void Periodic::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void Periodic::nudge() {
    {
        std::lock_guard lock(m_mutex);
        ++m_nudges;
    }
    m_wake.notify_all();
}

std::uint64_t Periodic::runs() const {
    std::lock_guard lock(m_mutex);
    return m_runs;
}

void Periodic::loop(util::SteadyTime due) {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        const auto now = m_clock.steady();
        if (now < due) {
            // Until the deadline as the clock tells it, or until stop() or nudge().
            const std::uint64_t nudges = m_nudges;
            m_wake.wait_for(lock, due - now, [&] { return m_stopping || m_nudges != nudges; });
            continue;
        }
        lock.unlock();
        m_task();
        lock.lock();
        ++m_runs;
        // A fixed rate on the clock; a task that overran a whole period does not cause a burst.
        due += m_every;
        if (const auto after = m_clock.steady(); due < after) {
            due = after + m_every;
        }
    }
}

}  // namespace assetgen::schedule
