#include <catch2/catch.hpp>

#include <deque>

#include "schedule/circuit_breaker.hpp"
#include "schedule/policies.hpp"
#include "schedule/rate_limiter.hpp"

using namespace assetgen;
using namespace assetgen::schedule;
using std::chrono::milliseconds;
using util::Code;

namespace {
util::SteadyTime at(std::int64_t ms) {
    return util::SteadyTime(milliseconds(ms));
}
}  // namespace

TEST_CASE("schedule: transient errors are retried up to max attempts, permanent ones never",
          "[schedule]") {
    RetryPolicy p;
    p.max_attempts = 4;
    for (Code c :
         {Code::rate_limited, Code::unavailable, Code::deadline_exceeded, Code::bad_response}) {
        CHECK(p.should_retry(util::Status(c, "x"), 1));
        CHECK(p.should_retry(util::Status(c, "x"), 3));
        CHECK_FALSE(p.should_retry(util::Status(c, "x"), 4));
    }
    for (Code c : {Code::model_error, Code::unauthenticated, Code::permission_denied,
                   Code::not_found, Code::blocked, Code::budget_exceeded}) {
        CHECK_FALSE(p.should_retry(util::Status(c, "x"), 1));
    }
}

TEST_CASE("schedule: backoff is full jitter under an exponential ceiling capped at 32s",
          "[schedule]") {
    BackoffPolicy b;
    std::int64_t max_seen[8] = {};
    for (std::uint64_t r = 0; r < 20'000; ++r) {
        for (int attempt = 1; attempt <= 7; ++attempt) {
            auto d = b.delay(attempt, mix64(r * 31 + static_cast<std::uint64_t>(attempt))).count();
            std::int64_t ceiling = std::min<std::int64_t>(32'000, 1000LL << (attempt - 1));
            REQUIRE(d >= 0);
            REQUIRE(d <= ceiling);
            max_seen[attempt] = std::max(max_seen[attempt], d);
        }
    }
    // Full jitter spreads over the whole range, up to the ceiling.
    CHECK(max_seen[1] > 950);
    CHECK(max_seen[3] > 3800);
    CHECK(max_seen[7] > 31'000);
}

TEST_CASE("schedule: a server hint wins when it is longer than the jitter, fractions included",
          "[schedule]") {
    BackoffPolicy b;
    CHECK(b.delay(1, 12345, milliseconds(1500)) == milliseconds(1500));
    CHECK(b.delay(1, 12345, milliseconds(45'800)) == milliseconds(45'800));
    // A shorter hint does not shorten the backoff.
    auto plain = b.delay(6, 999'999);
    CHECK(b.delay(6, 999'999, milliseconds(1)) == plain);
}

TEST_CASE("schedule: the breaker opens after 5 consecutive failures, waits, then sends one probe",
          "[schedule]") {
    CircuitBreaker cb(BreakerSettings{5, milliseconds(10'000), milliseconds(300'000)});
    for (int i = 0; i < 4; ++i) {
        CHECK(cb.ask(at(i)).verdict == CircuitBreaker::Verdict::go);
        CHECK_FALSE(cb.report(false, false, at(i)));
    }
    // A success in between resets the count.
    cb.report(true, false, at(5));
    for (int i = 0; i < 4; ++i) {
        cb.report(false, false, at(10 + i));
    }
    CHECK(cb.state() == CircuitBreaker::State::closed);
    CHECK(cb.report(false, false, at(20)));  // the fifth in a row
    CHECK(cb.state() == CircuitBreaker::State::open);

    auto d = cb.ask(at(5'000));
    CHECK(d.verdict == CircuitBreaker::Verdict::wait);
    CHECK(d.retry_at == at(10'020));
    CHECK(cb.ask(at(10'019)).verdict == CircuitBreaker::Verdict::wait);

    CHECK(cb.ask(at(10'020)).verdict == CircuitBreaker::Verdict::probe);
    // Only one probe: everyone else waits for its outcome.
    CHECK(cb.ask(at(10'021)).verdict == CircuitBreaker::Verdict::wait);
    CHECK(cb.ask(at(10'022)).verdict == CircuitBreaker::Verdict::wait);

    SECTION("a failed probe opens it again for the cooldown") {
        CHECK(cb.report(false, true, at(10'500)));
        CHECK(cb.state() == CircuitBreaker::State::open);
        CHECK(cb.ask(at(20'499)).verdict == CircuitBreaker::Verdict::wait);
        CHECK(cb.ask(at(20'500)).verdict == CircuitBreaker::Verdict::probe);
    }
    SECTION("a successful probe closes it") {
        CHECK(cb.report(true, true, at(10'500)));
        CHECK(cb.state() == CircuitBreaker::State::closed);
        CHECK(cb.ask(at(10'501)).verdict == CircuitBreaker::Verdict::go);
        CHECK(cb.open_for(at(99'999)) == milliseconds(10'480));
    }
}

TEST_CASE("schedule: the breaker gives up once it was open longer than max_open in total",
          "[schedule]") {
    CircuitBreaker cb(BreakerSettings{5, milliseconds(10'000), milliseconds(25'000)});
    for (int i = 0; i < 5; ++i) {
        cb.report(false, false, at(0));
    }
    std::int64_t t = 0;
    int probes = 0;
    for (;;) {
        auto d = cb.ask(at(t));
        if (d.verdict == CircuitBreaker::Verdict::give_up) {
            break;
        }
        if (d.verdict == CircuitBreaker::Verdict::probe) {
            ++probes;
            cb.report(false, true, at(t));
        }
        t += 100;
        REQUIRE(t < 100'000);
    }
    CHECK(probes == 2);  // at 10s and 20s; gives up after 25s open
    CHECK(t > 25'000);
    CHECK(t <= 25'100);
}

TEST_CASE("schedule: no 60-second window holds more than rpm starts", "[schedule]") {
    RateLimiter limiter(120);
    std::deque<std::int64_t> starts;
    std::int64_t now = 0;
    int started = 0;
    while (started < 1000) {
        auto next = limiter.try_start(at(now));
        if (!next) {
            starts.push_back(now);
            ++started;
            continue;  // try to start another at the same instant
        }
        now = std::chrono::duration_cast<milliseconds>(next->time_since_epoch()).count();
    }
    for (size_t i = 0; i + 120 < starts.size(); ++i) {
        REQUIRE(starts[i + 120] - starts[i] >= 60'000);
    }
    // ...and it is not slower than it must be: 1000 starts in about (1000/120 - 1) windows.
    CHECK(starts.back() < 8 * 60'100 + 1);
}
