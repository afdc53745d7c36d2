#include "auth/token_cache.hpp"

#include <algorithm>

namespace assetgen::auth {

TokenCache::TokenCache(util::Clock& clock, std::chrono::seconds margin)
    : m_clock(clock), m_margin(margin) {}

bool TokenCache::usable(bool fresh, std::string& out) {
    std::lock_guard lock(m_state_mutex);
    if (m_token.empty() || m_clock.steady() >= (fresh ? m_refresh_at : m_expires_at)) {
        return false;
    }
    out = m_token;
    return true;
}

util::Result<std::string> TokenCache::get(const Fetch& fetch) {
    std::string token;
    if (usable(true, token)) {
        return token;
    }
    std::unique_lock refresh(m_refresh_mutex, std::try_to_lock);
    if (!refresh.owns_lock()) {
        if (usable(false, token)) {
            return token;  // another thread is refreshing; the old token still works
        }
        refresh.lock();
        if (usable(true, token)) {
            return token;  // the other thread's refresh succeeded
        }
    }
    // Lifetimes count from before the request, so the cache never outlives the token.
    util::SteadyTime started = m_clock.steady();
    auto fetched = fetch();
    if (!fetched.ok()) {
        if (usable(false, token)) {
            return token;
        }
        return fetched.status();
    }
    std::lock_guard lock(m_state_mutex);
    auto lifetime = std::max(fetched->expires_in, std::chrono::seconds(0));
    m_token = fetched->value;
    m_expires_at = started + lifetime;
    m_refresh_at = m_expires_at - std::min(m_margin, lifetime / 2);
    return m_token;
}

}  // namespace assetgen::auth
