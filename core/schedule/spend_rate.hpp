#pragma once
// --max-spend-rate: keeps a run under a spend-rate limit (the Gemini API's spend-based rate
// limits are dollars per rolling 10 minutes per usage tier). A sliding window over
// reservations: a request's worst case counts from when it is reserved; when the request ends
// its amount becomes what it actually cost, and it keeps counting until one window after it
// ended. So every ledger line of a request (written between the reservation and the end) lies
// inside the span in which its cost counted, and the spend of any window of ledger time stays
// under the limit. A request that would push the window over waits (on the injected Clock)
// until it fits.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "util/clock.hpp"
#include "util/money.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct SpendRate {
    util::Micros limit = 0;  // 0: no limit
    std::chrono::milliseconds window{600'000};
};

// Reads "USD[/WINDOW]": "0.50/10m", "2/1h", "0.1/60s", "0.50" (10 minutes). The amount is
// dollars as --daily-budget-usd reads them (more than 0, at most six decimals); the window a
// duration of 1s to 24h. USAGE_ERROR `--max-spend-rate: "<text>" <problem>` otherwise.
util::Result<SpendRate> parse_spend_rate(std::string_view text);

// "$0.50 per 10m"
std::string format_spend_rate(const SpendRate& rate);

class SpendRateWindow {
public:
    explicit SpendRateWindow(SpendRate rate) : m_rate(rate) {}

    bool enabled() const { return m_rate.limit > 0; }
    const SpendRate& rate() const { return m_rate; }

    // Reserves `amount` at `now` when the window has room for it: a ticket. Otherwise the
    // time to ask again: when enough settled amounts leave the window, or, when only requests
    // still running fill it, a short poll later. An amount over the limit never fits
    // (callers refuse it first).
    std::variant<std::uint64_t, util::SteadyTime> try_reserve(util::Micros amount,
                                                              util::SteadyTime now);
    // The request of `ticket` ended at `now` having cost `actual`: that counts until now + window.
    void settle(std::uint64_t ticket, util::Micros actual, util::SteadyTime now);
    // What counts at `now` (reserved and settled).
    util::Micros in_window(util::SteadyTime now);

    static constexpr std::chrono::milliseconds k_poll{50};

private:
    struct Held {
        util::Micros amount = 0;
        std::optional<util::SteadyTime> leaves;  // set once settled
    };
    void expire_locked(util::SteadyTime now);

    SpendRate m_rate;
    std::mutex m_mutex;
    std::map<std::uint64_t, Held> m_held;
    std::uint64_t m_next = 1;
};

}  // namespace assetgen::schedule
