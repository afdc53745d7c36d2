#include "schedule/rate_limiter.hpp"

namespace assetgen::schedule {

std::optional<util::SteadyTime> RateLimiter::try_start(util::SteadyTime now) {
    if (m_rpm <= 0) {
        return std::nullopt;
    }
    std::lock_guard lock(m_mutex);
    while (!m_starts.empty() && m_starts.front() + m_window <= now) {
        m_starts.pop_front();
    }
    if (static_cast<int>(m_starts.size()) < m_rpm) {
        m_starts.push_back(now);
        return std::nullopt;
    }
    return m_starts.front() + m_window;
}

}  // namespace assetgen::schedule
