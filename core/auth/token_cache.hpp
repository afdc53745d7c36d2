#pragma once
// The caching and refresh policy shared by every TokenSource that fetches OAuth tokens.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::auth {

// Refresh a token this long before it expires (Google's libraries use a few minutes).
inline constexpr std::chrono::seconds k_refresh_margin{300};

// A token as a token endpoint returns it.
struct AccessToken {
    std::string value;
    std::chrono::seconds expires_in{0};
};

// Holds one token and refreshes it through a fetch function when it is within the margin of
// its expiry. One refresh runs at a time; while it runs, other callers keep using the old
// token if it has not actually expired, else they wait for the refresh. Thread-safe.
class TokenCache {
public:
    using Fetch = std::function<util::Result<AccessToken>()>;

    // Times come from clock.steady(); margin is capped at half a token's lifetime.
    TokenCache(util::Clock& clock, std::chrono::seconds margin = k_refresh_margin);

    // The cached token, or a fresh one from fetch. A failed refresh returns the old token while
    // it is still valid, else fetch's Status.
    util::Result<std::string> get(const Fetch& fetch);

private:
    // The cached token if it is usable before refresh_at (fresh) or before expiry (!fresh).
    bool usable(bool fresh, std::string& out);

    util::Clock& m_clock;
    std::chrono::seconds m_margin;
    std::mutex m_refresh_mutex;  // held for the whole of one refresh
    std::mutex m_state_mutex;    // guards the fields below
    std::string m_token;
    util::SteadyTime m_refresh_at{};
    util::SteadyTime m_expires_at{};
};

}  // namespace assetgen::auth
