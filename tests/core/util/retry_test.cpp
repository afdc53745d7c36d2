#include <catch2/catch.hpp>

#include <vector>

#include "support/fake_clock.hpp"
#include "util/retry.hpp"

using namespace assetgen;
using namespace assetgen::util;
using std::chrono::milliseconds;

namespace {

Status transient(std::string m = "busy") {
    return Status(Code::unavailable, std::move(m)).with_http_status(503);
}

// A policy whose waits are exact (no jitter), so the fake clock's time is predictable.
RetryPolicy exact(int attempts) {
    RetryPolicy p;
    p.max_attempts = attempts;
    p.initial_backoff = milliseconds(1000);
    p.max_backoff = milliseconds(32'000);
    p.jitter = Jitter::none;
    return p;
}

std::int64_t elapsed_ms(const test::FakeClock& clock) {
    return std::chrono::duration_cast<milliseconds>(clock.steady().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("retry: splitmix64 matches the published reference values", "[retry]") {
    // Reference: the first outputs of Vigna's splitmix64.c seeded with 0 are splitmix64(0),
    // splitmix64(golden), ... (the generator adds the golden gamma before mixing).
    CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);
    CHECK(splitmix64(0x9e3779b97f4a7c15ull) == 0x6e789e6aa1b965f4ull);
    SplitMix a(7), b(7);
    CHECK(a() == b());
    CHECK(a() != splitmix64(7));  // the counter moved on
}

TEST_CASE("retry: a transient failure is retried until max attempts, then the last one returns",
          "[retry]") {
    test::FakeClock clock;
    int calls = 0;
    auto out = retry_loop(clock, exact(4), [&](int attempt) {
        ++calls;
        CHECK(attempt == calls);
        return transient("try " + std::to_string(attempt));
    });
    CHECK(calls == 4);
    CHECK(out.attempts == 4);
    CHECK(out.stop == StopReason::attempts_exhausted);
    CHECK(out.value.message() == "try 4");
    // Waits 1 s, 2 s, 4 s between the four attempts, none after the last.
    CHECK(elapsed_ms(clock) == 7000);
    CHECK(clock.sleeps() == 3);
}

TEST_CASE("retry: success stops the loop and returns the value", "[retry]") {
    test::FakeClock clock;
    auto out = retry_loop(clock, exact(5), [&](int attempt) -> Result<int> {
        if (attempt < 3) {
            return transient();
        }
        return attempt * 10;
    });
    REQUIRE(out.ok());
    CHECK(*out.value == 30);
    CHECK(out.attempts == 3);
    CHECK(out.stop == StopReason::succeeded);
}

TEST_CASE("retry: a permanent failure is never retried", "[retry]") {
    test::FakeClock clock;
    for (Code c : {Code::invalid_input, Code::unauthenticated, Code::permission_denied,
                   Code::not_found, Code::blocked, Code::model_error, Code::storage_io}) {
        int calls = 0;
        auto out = retry_loop(clock, exact(6), [&](int) {
            ++calls;
            return Status(c, "no");
        });
        CHECK(calls == 1);
        CHECK(out.stop == StopReason::not_retryable);
    }
    CHECK(clock.sleeps() == 0);
}

TEST_CASE("retry: a non-idempotent failure stops even when it is transient", "[retry]") {
    test::FakeClock clock;
    int calls = 0;
    auto out = retry_loop(
        clock, exact(6),
        [&](int) {
            ++calls;
            return transient();
        },
        [](const Status& s) {
            RetryClass c = classify_transient(s);
            c.idempotent = false;
            return c;
        });
    CHECK(calls == 1);
    CHECK(out.stop == StopReason::not_idempotent);
}

TEST_CASE("retry: max_attempts 1 makes one attempt; below 1 is read as 1", "[retry]") {
    test::FakeClock clock;
    for (int n : {1, 0, -3}) {
        int calls = 0;
        auto out = retry_loop(clock, exact(n), [&](int) {
            ++calls;
            return transient();
        });
        CHECK(calls == 1);
        CHECK(out.stop == StopReason::attempts_exhausted);
    }
}

TEST_CASE("retry: full jitter stays in [0, min(cap, initial x multiplier^(n-1))] and spreads",
          "[retry]") {
    RetryPolicy p;
    p.initial_backoff = milliseconds(1000);
    p.max_backoff = milliseconds(32'000);
    p.multiplier = 2.0;
    p.jitter = Jitter::full;
    for (int attempt = 1; attempt <= 9; ++attempt) {
        const std::int64_t ceiling = std::min<std::int64_t>(32'000, 1000LL << (attempt - 1));
        std::int64_t lo = ceiling, hi = 0;
        for (std::uint64_t r = 0; r < 5000; ++r) {
            auto d = backoff_delay(p, attempt, milliseconds(0), splitmix64(r)).count();
            REQUIRE(d >= 0);
            REQUIRE(d <= ceiling);
            lo = std::min(lo, d);
            hi = std::max(hi, d);
        }
        // 5000 uniform draws reach both ends of the range within 2 %.
        CHECK(lo <= ceiling / 50);
        CHECK(hi >= ceiling - ceiling / 50);
    }
    // The extremes of the random number map to the ends of the range.
    CHECK(backoff_delay(p, 3, milliseconds(0), 0).count() == 0);
    CHECK(backoff_delay(p, 3, milliseconds(0), 4000).count() == 4000);
}

TEST_CASE("retry: decorrelated jitter stays in [initial, previous x multiplier], capped",
          "[retry]") {
    RetryPolicy p;
    p.initial_backoff = milliseconds(500);
    p.max_backoff = milliseconds(10'000);
    p.multiplier = 3.0;
    p.jitter = Jitter::decorrelated;
    SplitMix rng(42);
    milliseconds previous(0);
    bool reached_cap = false;
    for (int attempt = 1; attempt <= 200; ++attempt) {
        auto d = backoff_delay(p, attempt, previous, rng());
        const auto hi =
            std::min<std::int64_t>(10'000, std::max<std::int64_t>(previous.count(), 500) * 3);
        REQUIRE(d.count() >= 500);
        REQUIRE(d.count() <= hi);
        reached_cap = reached_cap || d.count() > 9000;
        previous = d;
    }
    CHECK(reached_cap);
}

TEST_CASE(
    "retry: no jitter waits the capped exponential ceiling; a large multiplier never overflows",
    "[retry]") {
    RetryPolicy p = exact(100);
    CHECK(backoff_delay(p, 1, milliseconds(0), 123).count() == 1000);
    CHECK(backoff_delay(p, 2, milliseconds(0), 123).count() == 2000);
    CHECK(backoff_delay(p, 6, milliseconds(0), 123).count() == 32'000);
    CHECK(backoff_delay(p, 1000, milliseconds(0), 123).count() == 32'000);
    p.multiplier = 1e300;
    CHECK(backoff_delay(p, 5, milliseconds(0), 123).count() == 32'000);
    p.multiplier = 0.5;  // read as 1: a constant wait
    CHECK(backoff_delay(p, 5, milliseconds(0), 123).count() == 1000);
}

TEST_CASE("retry: a server hint longer than the backoff wins; a shorter one does not", "[retry]") {
    test::FakeClock clock;
    std::vector<std::int64_t> waits;
    RetryHooks hooks;
    hooks.on_retry = [&](const RetryNotice& n) { waits.push_back(n.delay.count()); };
    auto out = retry_loop(
        clock, exact(3),
        [&](int attempt) {
            Status s = transient();
            s.with_retry_after(milliseconds(attempt == 1 ? 45'800 : 10));
            return s;
        },
        hooks);
    CHECK(out.attempts == 3);
    CHECK(waits == std::vector<std::int64_t>{45'800, 2000});
    CHECK(elapsed_ms(clock) == 47'800);
}

TEST_CASE("retry: a hint above max_hint stops the loop instead of waiting", "[retry]") {
    test::FakeClock clock;
    RetryPolicy p = exact(4);
    p.max_hint = milliseconds(60'000);
    int calls = 0;
    auto out = retry_loop(clock, p, [&](int) {
        ++calls;
        return transient().with_retry_after(milliseconds(3'600'000));
    });
    CHECK(calls == 1);
    CHECK(out.stop == StopReason::hint_too_long);
    CHECK(clock.sleeps() == 0);
    CHECK(out.value.retry_after() == milliseconds(3'600'000));
}

TEST_CASE("retry: the caller's classifier gives the hint (RetryInfo in a body)", "[retry]") {
    test::FakeClock clock;
    auto out = retry_loop(
        clock, exact(2), [&](int) { return Status(Code::storage_io, "412"); },
        [](const Status&) {
            return RetryClass{true, true, milliseconds(5000)};
        });
    CHECK(out.attempts == 2);
    CHECK(elapsed_ms(clock) == 5000);
}

TEST_CASE("retry: no wait crosses the overall deadline", "[retry]") {
    test::FakeClock clock;
    RetryPolicy p = exact(100);
    p.deadline = milliseconds(10'000);
    int calls = 0;
    auto out = retry_loop(clock, p, [&](int) {
        ++calls;
        clock.advance(milliseconds(500));  // each attempt takes half a second
        return transient();
    });
    // 0.5 + 1 + 0.5 + 2 + 0.5 + 4 = 8.5 s after three attempts; the next wait (8 s) would end
    // at 17 s, past the 10 s deadline.
    CHECK(calls == 4);
    CHECK(out.stop == StopReason::deadline);
    CHECK(elapsed_ms(clock) <= 10'000);
}

TEST_CASE("retry: a wait hook that refuses cancels the loop", "[retry]") {
    test::FakeClock clock;
    RetryHooks hooks;
    int waits = 0;
    hooks.wait = [&](milliseconds) { return ++waits < 2; };
    int calls = 0;
    auto out = retry_loop(
        clock, exact(10),
        [&](int) {
            ++calls;
            return transient();
        },
        hooks);
    CHECK(calls == 2);
    CHECK(out.stop == StopReason::cancelled);
    CHECK(clock.sleeps() == 0);  // the hook waited, not the clock
}

TEST_CASE("retry: the injected random source decides the jitter, so a seed repeats a run",
          "[retry]") {
    auto run = [](std::uint64_t seed) {
        test::FakeClock clock;
        RetryPolicy p;
        p.max_attempts = 6;
        RetryHooks hooks;
        auto rng = std::make_shared<SplitMix>(seed);
        hooks.random = [rng] { return (*rng)(); };
        std::vector<std::int64_t> waits;
        hooks.on_retry = [&](const RetryNotice& n) { waits.push_back(n.delay.count()); };
        (void)retry_loop(
            clock, p, [](int) { return transient(); }, hooks);
        return waits;
    };
    CHECK(run(1) == run(1));
    CHECK(run(1) != run(2));
    CHECK(run(1).size() == 5);
}

TEST_CASE("retry: with_attempts says the count and keeps code, HTTP status and hint", "[retry]") {
    Status s = transient("gcs: read gs://b/o: HTTP 503");
    s.with_retry_after(milliseconds(2000));
    CHECK(with_attempts(s, 1).message() == s.message());
    Status t = with_attempts(s, 3);
    CHECK(t.message() == "gcs: read gs://b/o: HTTP 503 (after 3 attempts)");
    CHECK(t.code() == Code::unavailable);
    CHECK(t.http_status() == 503);
    CHECK(t.retry_after() == milliseconds(2000));
}
