// The engine under unit tests (issue 16 item 6): the Runner with a scripted provider, real files
// in a temp folder and a fake clock (runner_fakes.hpp). This file: the gates every request goes
// through (concurrency, retries and their waits, the circuit breaker, the rate limit) and the
// order rows are reported in. Budget: runner_budget_test.cpp; stops: runner_stop_test.cpp;
// crashes and resume: runner_resume_test.cpp.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "core/schedule/runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;
using util::Code;

TEST_CASE("runner: never more requests in flight than --concurrency, and exactly that many",
          "[runner][schedule]") {
    const auto [concurrency, images] = GENERATE(table<int, int>({{4, 20}, {1, 5}, {3, 7}, {8, 3}}));
    CAPTURE(concurrency, images);
    Bench b;
    b.settings.concurrency = concurrency;
    b.provider.gather(std::min(concurrency, images), images);
    auto out = b.run(rows(images));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == static_cast<std::size_t>(images));
    CHECK(b.provider.max_in_flight() == std::min(concurrency, images));
    CHECK(out.summary->images_generated == static_cast<std::uint64_t>(images));
    CHECK(b.image_files().size() == static_cast<std::size_t>(images));
}

TEST_CASE("runner: a 429's RetryInfo hint is waited exactly, on the clock", "[runner][schedule]") {
    Bench b;
    b.provider.script("r1", 1, {Answer::rate_limited(7s), Answer::rate_limited(3500ms)});
    auto out = b.run(rows(1));
    REQUIRE(out.summary.ok());
    auto calls = b.provider.calls_for("r1", 1);
    REQUIRE(calls.size() == 3);
    // The hints are longer than the backoff's jitter (at most 1 s, then 2 s): they win.
    CHECK(calls[1].at - calls[0].at == 7s);
    CHECK(calls[2].at - calls[1].at == 3500ms);
    CHECK(calls[2].attempt == 3);
    CHECK(out.summary->retries == 2);
    CHECK(out.rows.at(0).status == "ok");
    CHECK(out.rows.at(0).variants.at(0).attempts == 3);
    auto retries = b.events.of("retry");
    REQUIRE(retries.size() == 2);
    CHECK(retries[0]["delay_ms"] == 7000);
    CHECK(retries[0]["error_code"] == "MODEL_RATE_LIMIT");
}

TEST_CASE("runner: a hint longer than --max-retry-delay is not waited: MODEL_RATE_LIMIT, said once",
          "[runner][schedule]") {
    Bench b;
    b.settings.max_retry_delay = 60s;
    b.provider.script("r1", 1, {Answer::rate_limited(2h)});
    b.provider.script("r2", 1, {Answer::rate_limited(3h)});
    const auto t0 = b.clock.steady();
    auto out = b.run(rows(2));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == 2);  // no retry of either
    CHECK(b.clock.steady() - t0 < 60s);     // nothing waited the hours
    REQUIRE(out.rows.size() == 2);
    CHECK(out.rows[0].first_error == Code::rate_limited);
    CHECK(out.rows[0].first_message.find("--max-retry-delay 1m") != std::string::npos);
    CHECK(out.rows[0].status == "failed");
    CHECK(b.warnings.size() == 1);  // one warning for the run, not one per row
    CHECK(b.events.of("retry_refused").size() == 2);
}

TEST_CASE("runner: attempts are bounded by --max-attempts; the backoff waits on the clock",
          "[runner][schedule]") {
    Bench b;
    b.settings.retry.max_attempts = 3;
    b.settings.breaker.threshold = 100;  // this test is about attempts, not the breaker
    b.provider.set_default(Answer::error(Code::unavailable, "500 INTERNAL"));
    auto out = b.run(rows(2));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls_for("r1", 1).size() == 3);
    CHECK(b.provider.calls_for("r2", 1).size() == 3);
    CHECK(out.summary->requests == 6);
    CHECK(out.summary->retries == 4);
    CHECK(out.summary->status == schedule::RunEnd::failed);
    CHECK(out.summary->errors_by_code.at("MODEL_UNAVAILABLE") == 2);
    for (const auto& r : out.rows) {
        CHECK(r.status == "failed");
        CHECK(r.variants.at(0).attempts == 3);
    }
    // Every wait came from the backoff: full jitter below base × 2^(attempt-1), so the gaps
    // stay within 1 s and 2 s.
    auto calls = b.provider.calls_for("r1", 1);
    CHECK(calls[1].at - calls[0].at <= 1s);
    CHECK(calls[2].at - calls[1].at <= 2s);
    // A failed request that cost nothing still has its ledger line (no cost, its code).
    auto lines = b.ledger_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].status == "MODEL_UNAVAILABLE");
    CHECK(lines[0].cost == 0);
    CHECK(lines[0].images == 0);
}

TEST_CASE("runner: a permanent error is not retried", "[runner][schedule]") {
    Bench b;
    b.provider.script("r1", 1, {Answer::error(Code::model_error, "400 INVALID_ARGUMENT")});
    auto out = b.run(rows(2));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls_for("r1", 1).size() == 1);
    CHECK(out.rows.at(0).status == "failed");
    CHECK(out.rows.at(0).first_error == Code::model_error);
    CHECK(out.rows.at(1).status == "ok");
    CHECK(out.summary->status == schedule::RunEnd::failed);
    CHECK(out.summary->rows_failed == 1);
}

TEST_CASE(
    "runner: the breaker opens after 5 failures, pauses for its cooldown, then one probe closes it",
    "[runner][schedule]") {
    Bench b;
    b.settings.retry.max_attempts = 10;
    b.settings.breaker.threshold = 5;
    b.settings.breaker.cooldown = 20s;
    b.provider.script("r1", 1,
                      std::vector<Answer>(5, Answer::error(Code::unavailable, "503 UNAVAILABLE")));
    auto out = b.run(rows(3));
    REQUIRE(out.summary.ok());
    auto calls = b.provider.calls_for("r1", 1);
    REQUIRE(calls.size() == 6);
    // The fifth failure opened it; the sixth attempt (the probe) waited the cooldown, longer than
    // any backoff (at most 8 s here).
    CHECK(calls[5].at - calls[4].at >= 20s);
    CHECK(out.summary->circuit_opens == 1);
    CHECK(out.summary->images_generated == 3);
    auto circuit = b.events.of("circuit");
    REQUIRE(circuit.size() == 3);
    CHECK(circuit[0]["state"] == "open");
    CHECK(circuit[1]["state"] == "half_open");
    CHECK(circuit[2]["state"] == "closed");
}

TEST_CASE(
    "runner: a failed probe opens the breaker again, and past --circuit-max-open the run gives up",
    "[runner][schedule]") {
    Bench b;
    b.settings.concurrency = 2;
    b.settings.retry.max_attempts = 100;
    b.settings.breaker.threshold = 3;
    b.settings.breaker.cooldown = 10s;
    b.settings.breaker.max_open = 60s;
    b.provider.set_default(Answer::error(Code::unavailable, "503 UNAVAILABLE"));
    auto out = b.run(rows(6));
    REQUIRE(out.summary.ok());
    CHECK(out.summary->status == schedule::RunEnd::upstream_unavailable);
    CHECK(out.summary->circuit_opens >= 2);
    // While open, requests are probes only: far fewer than 6 images × 100 attempts.
    CHECK(b.provider.calls().size() < 20);
    REQUIRE(out.rows.size() == 6);
    for (const auto& r : out.rows) {
        CHECK(r.status == "upstream_unavailable");
    }
    CHECK(out.rows.back().variants.at(0).kind == schedule::VariantOutcome::Kind::not_run);
    CHECK(b.image_files().empty());
}

TEST_CASE("runner: --rpm holds request starts to the per-minute limit on the clock",
          "[runner][schedule]") {
    Bench b;
    // One worker: the fake clock is shared, so with several workers one worker's wait can move
    // the clock between another's limiter check and its recorded start (a fresh clone under
    // load saw two starts stamped at the same instant). Instant answers without the limiter
    // would start all five at 0 s.
    b.settings.concurrency = 1;
    b.settings.rpm = 2;
    auto out = b.run(rows(5));
    REQUIRE(out.summary.ok());
    auto calls = b.provider.calls();
    REQUIRE(calls.size() == 5);
    std::vector<util::SteadyTime> at;
    for (const auto& c : calls) {
        at.push_back(c.at);
    }
    std::sort(at.begin(), at.end());
    // No 60-second window holds more than 2 starts.
    for (std::size_t i = 2; i < at.size(); ++i) {
        CHECK(at[i] - at[i - 2] >= 60s);
    }
}

TEST_CASE("runner: rows are reported in input order even when they finish out of order",
          "[runner][schedule]") {
    Bench b;
    b.settings.concurrency = 3;
    b.provider.script("r1", 1, {Answer::hang()});
    std::thread releaser([&] {
        // r1 hangs until every other row's request was made; then it finishes last.
        b.provider.wait_calls(8);
        b.provider.release(1);
    });
    auto out = b.run(rows(8));
    releaser.join();
    REQUIRE(out.summary.ok());
    REQUIRE(out.rows.size() == 8);
    for (std::size_t i = 0; i < out.rows.size(); ++i) {
        CHECK(out.rows[i].scene_id == "r" + std::to_string(i + 1));
        CHECK(out.rows[i].status == "ok");
    }
}

TEST_CASE("runner: images an earlier run made are skipped, not requested, not charged",
          "[runner][schedule]") {
    Bench b;
    auto first = b.run(rows(2, 2));
    REQUIRE(first.summary.ok());
    REQUIRE(b.provider.calls().size() == 4);
    // The sheet grew: the same job runs again with a third row.
    auto second = b.run(rows(3, 2));
    REQUIRE(second.summary.ok());
    CHECK(b.provider.calls().size() == 6);
    CHECK(b.provider.calls_for("r3", 2).size() == 1);
    CHECK(b.provider.calls_for("r1", 1).size() == 1);
    CHECK(second.summary->images_skipped == 4);
    CHECK(second.summary->images_generated == 2);
    CHECK(second.rows.at(0).variants.at(0).kind == schedule::VariantOutcome::Kind::skipped_done);
    CHECK(b.ledger_total() == 6 * k_image_cost);
    CHECK(b.image_files().size() == 6);
}

TEST_CASE("runner: every variant of a row is its own image, file and ledger line",
          "[runner][schedule]") {
    Bench b;
    b.settings.concurrency = 2;
    auto out = b.run(rows(2, 3));
    REQUIRE(out.summary.ok());
    CHECK(b.image_files() == std::vector<std::string>{"r1/r1_v1.png", "r1/r1_v2.png",
                                                      "r1/r1_v3.png", "r2/r2_v1.png",
                                                      "r2/r2_v2.png", "r2/r2_v3.png"});
    auto lines = b.ledger_lines();
    REQUIRE(lines.size() == 6);
    std::set<std::string> ids;
    for (const auto& e : lines) {
        ids.insert(e.id);
        CHECK(e.cost == k_image_cost);
        CHECK(e.status == "ok");
        CHECK(e.images == 1);
    }
    CHECK(ids.size() == 6);
    CHECK(ids.count("job-test/r2/v3") == 1);
    CHECK(b.manifest_lines().size() == 6);
    CHECK(out.rows.at(1).cost == 3 * k_image_cost);
}
