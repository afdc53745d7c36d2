// --max-spend-rate (issue 15 item 5): parsing, and the sliding window over reservations driven
// by explicit times (no clock, no sleeps).
#include <catch2/catch.hpp>

#include <chrono>
#include <variant>

#include "schedule/spend_rate.hpp"

using namespace assetgen;
using namespace std::chrono_literals;
using schedule::SpendRateWindow;

namespace {

constexpr util::Micros k_cent = 10'000;
const util::SteadyTime k_t0{std::chrono::hours(1)};

std::uint64_t ticket(const std::variant<std::uint64_t, util::SteadyTime>& r) {
    REQUIRE(std::holds_alternative<std::uint64_t>(r));
    return std::get<std::uint64_t>(r);
}
util::SteadyTime retry_at(const std::variant<std::uint64_t, util::SteadyTime>& r) {
    REQUIRE(std::holds_alternative<util::SteadyTime>(r));
    return std::get<util::SteadyTime>(r);
}

}  // namespace

TEST_CASE("spend rate: values with and without a window", "[spend_rate][schedule]") {
    auto r = schedule::parse_spend_rate("0.50/10m");
    REQUIRE(r.ok());
    CHECK(r->limit == 50 * k_cent);
    CHECK(r->window == 10min);
    r = schedule::parse_spend_rate("2");
    REQUIRE(r.ok());
    CHECK(r->limit == 200 * k_cent);
    CHECK(r->window == 10min);  // the default unit
    r = schedule::parse_spend_rate("0.1/60s");
    REQUIRE(r.ok());
    CHECK(r->window == 60s);
    CHECK(schedule::format_spend_rate(*r) == "$0.100000 per 1m");
    CHECK(schedule::parse_spend_rate("1/1h")->window == 1h);
}

TEST_CASE("spend rate: bad values are usage errors naming the flag", "[spend_rate][schedule]") {
    for (const char* bad :
         {"", "/10m", "0.5/", "0.5/10x", "0.5/0s", "0.5/500ms", "0.5/25h", "-1/10m", "0/10m", "0",
          "abc", "1e3/10m", "nan", "0.5/10m/1", "$1/10m", "0.1234567"}) {
        INFO(bad);
        auto r = schedule::parse_spend_rate(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::usage);
        CHECK(r.status().message().rfind("--max-spend-rate", 0) == 0);
    }
}

TEST_CASE("spend rate: a reservation waits until settled spend leaves the window",
          "[spend_rate][schedule]") {
    SpendRateWindow w({10 * k_cent, 10s});
    REQUIRE(w.enabled());
    // Two worst cases of 4 cents fit under 10; a third does not while they run.
    auto a = ticket(w.try_reserve(4 * k_cent, k_t0));
    auto b = ticket(w.try_reserve(4 * k_cent, k_t0 + 1s));
    CHECK(w.in_window(k_t0 + 1s) == 8 * k_cent);
    // Only running requests fill it: ask again after a short poll.
    CHECK(retry_at(w.try_reserve(4 * k_cent, k_t0 + 2s)) == k_t0 + 2s + SpendRateWindow::k_poll);
    // a ends at 3s having cost 3 cents (settled to actual): 7 held, still no room for 4.
    w.settle(a, 3 * k_cent, k_t0 + 3s);
    CHECK(w.in_window(k_t0 + 3s) == 7 * k_cent);
    // b ends at 4s having cost 4: the third fits once a's 3 cents leave, at 3s + 10s.
    w.settle(b, 4 * k_cent, k_t0 + 4s);
    CHECK(retry_at(w.try_reserve(4 * k_cent, k_t0 + 5s)) == k_t0 + 13s);
    CHECK(std::holds_alternative<util::SteadyTime>(w.try_reserve(4 * k_cent, k_t0 + 13s - 1ms)));
    auto c = ticket(w.try_reserve(4 * k_cent, k_t0 + 13s));
    CHECK(w.in_window(k_t0 + 13s) == 8 * k_cent);
    // A request that failed (nothing spent) frees its reservation at once.
    w.settle(c, 0, k_t0 + 13500ms);
    CHECK(w.in_window(k_t0 + 13500ms) == 4 * k_cent);
    CHECK(w.in_window(k_t0 + 14s) == 0);  // b left at 4s + 10s
    // More than the whole limit never fits (callers refuse it before anything is sent).
    CHECK(std::holds_alternative<util::SteadyTime>(w.try_reserve(11 * k_cent, k_t0 + 1h)));
}

TEST_CASE("spend rate: no window holds more than the limit, whatever the order",
          "[spend_rate][schedule]") {
    // A simulated run: 4 workers, requests of worst case 3 cents costing 2, each taking 700 ms,
    // limit 10 cents per 2 s. Every cost is booked at its end time; any 2 s span of those
    // times must hold at most 10 cents.
    SpendRateWindow w({10 * k_cent, 2s});
    struct Running {
        std::uint64_t ticket;
        util::SteadyTime ends;
    };
    std::vector<Running> running;
    std::vector<util::SteadyTime> booked;
    util::SteadyTime now = k_t0;
    int started = 0;
    while (booked.size() < 40) {
        for (auto it = running.begin(); it != running.end();) {
            if (it->ends <= now) {
                w.settle(it->ticket, 2 * k_cent, now);
                booked.push_back(now);
                it = running.erase(it);
            } else {
                ++it;
            }
        }
        while (running.size() < 4 && started < 40) {
            auto r = w.try_reserve(3 * k_cent, now);
            if (!std::holds_alternative<std::uint64_t>(r)) {
                break;
            }
            running.push_back({std::get<std::uint64_t>(r), now + 700ms});
            ++started;
        }
        now += 10ms;
    }
    for (std::size_t i = 0; i < booked.size(); ++i) {
        util::Micros in_span = 0;
        for (auto t : booked) {
            if (t >= booked[i] && t < booked[i] + 2s) {
                in_span += 2 * k_cent;
            }
        }
        CHECK(in_span <= 10 * k_cent);
    }
    CHECK(booked.back() - booked.front() > 10s);  // it did have to wait
}
