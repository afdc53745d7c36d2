#include "schedule/spend_rate.hpp"

#include <algorithm>
#include <vector>

#include "budget/amounts.hpp"
#include "util/text.hpp"
#include "util/utf8.hpp"

namespace assetgen::schedule {

util::Result<SpendRate> parse_spend_rate(std::string_view text) {
    auto bad = [&](const std::string& problem) {
        return util::error(util::Code::usage,
                           "--max-spend-rate: \"" + util::utf8_clean(text, 64) + "\" " + problem +
                               "; write dollars per window, e.g. 0.50/10m or 2/1h");
    };
    SpendRate rate;
    std::string_view amount = text;
    const auto slash = text.find('/');
    if (slash != std::string_view::npos) {
        amount = text.substr(0, slash);
        std::string_view window = text.substr(slash + 1);
        if (window.empty()) {
            return bad("has no window after the /");
        }
        auto d = util::parse_duration(std::string(window));
        if (!d.ok()) {
            return bad("has a window that is not a duration");
        }
        if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
            return bad("has a window outside 1s..24h");
        }
        rate.window = *d;
    }
    if (amount.empty()) {
        return bad("has no amount");
    }
    auto usd = budget::parse_amount(amount, budget::k_daily_limit, false, "--max-spend-rate");
    if (!usd.ok()) {
        return util::error(util::Code::usage, usd.status().message());
    }
    if (*usd <= 0) {
        return bad("must be more than $0 (leave it unset for no limit)");
    }
    rate.limit = *usd;
    return rate;
}

std::string format_spend_rate(const SpendRate& rate) {
    return util::format_usd(rate.limit) + " per " + util::format_duration(rate.window);
}

void SpendRateWindow::expire_locked(util::SteadyTime now) {
    for (auto it = m_held.begin(); it != m_held.end();) {
        if (it->second.leaves && *it->second.leaves <= now) {
            it = m_held.erase(it);
        } else {
            ++it;
        }
    }
}

std::variant<std::uint64_t, util::SteadyTime> SpendRateWindow::try_reserve(util::Micros amount,
                                                                           util::SteadyTime now) {
    std::lock_guard lock(m_mutex);
    expire_locked(now);
    util::Micros held = 0;
    std::vector<std::pair<util::SteadyTime, util::Micros>> leaving;
    for (const auto& [id, h] : m_held) {
        held = util::add_sat(held, h.amount);
        if (h.leaves) {
            leaving.emplace_back(*h.leaves, h.amount);
        }
    }
    if (util::add_sat(held, amount) <= m_rate.limit) {
        const std::uint64_t ticket = m_next++;
        m_held.emplace(ticket, Held{amount, std::nullopt});
        return ticket;
    }
    // The first moment enough settled amounts have left; a poll when running requests fill it.
    std::sort(leaving.begin(), leaving.end());
    for (const auto& [when, freed] : leaving) {
        held -= freed;
        if (util::add_sat(held, amount) <= m_rate.limit) {
            return when;
        }
    }
    return now + k_poll;
}

void SpendRateWindow::settle(std::uint64_t ticket, util::Micros actual, util::SteadyTime now) {
    std::lock_guard lock(m_mutex);
    auto it = m_held.find(ticket);
    if (it == m_held.end()) {
        return;
    }
    it->second.amount = std::max<util::Micros>(0, actual);
    it->second.leaves = now + m_rate.window;
    if (it->second.amount == 0) {
        m_held.erase(it);  // nothing spent: nothing to count
    }
}

util::Micros SpendRateWindow::in_window(util::SteadyTime now) {
    std::lock_guard lock(m_mutex);
    expire_locked(now);
    util::Micros held = 0;
    for (const auto& [id, h] : m_held) {
        held = util::add_sat(held, h.amount);
    }
    return held;
}

}  // namespace assetgen::schedule
