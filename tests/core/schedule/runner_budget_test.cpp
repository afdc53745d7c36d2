// The engine and money (issue 16 item 6): the budget saying no mid-run, an answer billed past its
// reservation, billed refusals and billed answers that are not images, quota stops. Every
// amount is checked in the ledger on disk, which is what finance reads. See runner_fakes.hpp.
#include <catch2/catch.hpp>

#include "core/schedule/runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;
using util::Code;
using Kind = schedule::VariantOutcome::Kind;

namespace {

util::Micros images_cost(const std::vector<ledger::Entry>& lines) {
    util::Micros sum = 0;
    for (const auto& e : lines) {
        sum += e.cost;
    }
    return sum;
}

}  // namespace

TEST_CASE(
    "runner: the budget says no mid-run: no request after it, the ledger stays within the limit",
    "[runner][schedule][budget]") {
    const int concurrency = GENERATE(1, 4);
    CAPTURE(concurrency);
    Bench b(3 * k_image_cost);  // room for three images
    b.settings.concurrency = concurrency;
    auto out = b.run(rows(10));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == 3);
    CHECK(out.summary->status == schedule::RunEnd::budget_exceeded);
    CHECK(out.summary->images_generated == 3);
    CHECK(b.image_files().size() == 3);
    const auto lines = b.ledger_lines();
    CHECK(images_cost(lines) == 3 * k_image_cost);
    CHECK(images_cost(lines) <= b.budget().limit());
    CHECK(b.budget().overshoot() == 0);
    REQUIRE(out.rows.size() == 10);
    CHECK(out.rows[9].status == "budget_exceeded");
    CHECK(out.rows[9].variants.at(0).kind == Kind::not_run);
    CHECK(out.rows[9].first_error == Code::budget_exceeded);
    auto budget_events = b.events.of("budget");
    REQUIRE_FALSE(budget_events.empty());
    CHECK(budget_events[0]["event_detail"] == "exhausted");
}

TEST_CASE("runner: the request tells the API the reservation's output ceiling",
          "[runner][schedule][budget]") {
    Bench b;
    auto out = b.run(rows(1));
    REQUIRE(out.summary.ok());
    REQUIRE(b.provider.calls().size() == 1);
    CHECK(b.provider.calls()[0].max_output_tokens == 1000);  // one image's tokens: nothing more
    CHECK(out.summary->estimated_cost == k_image_cost);
    CHECK(out.summary->actual_cost == k_image_cost);
}

TEST_CASE(
    "runner: an answer billed past its reservation stops new requests: BUDGET_EXCEEDED, true cost "
    "kept",
    "[runner][schedule][budget]") {
    Bench b;
    b.provider.script("r2", 1, {Answer::image(5000)});  // 5000 tokens: $0.20, reserved $0.04
    auto out = b.run(rows(5));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == 2);  // r1, r2: nothing after the overrun
    CHECK(out.summary->status == schedule::RunEnd::budget_exceeded);
    CHECK(out.summary->overrun_requests == 1);
    CHECK(out.summary->reservation_overrun == 5 * k_image_cost - k_image_cost);
    // The overrun's image was paid for: it is kept and its true cost is in the ledger.
    CHECK(out.rows.at(1).status == "ok");
    CHECK(images_cost(b.ledger_lines()) == k_image_cost + 5 * k_image_cost);
    CHECK(out.rows.at(2).first_error == Code::budget_exceeded);
    CHECK(out.rows.at(4).variants.at(0).kind == Kind::not_run);
    auto overrun = b.events.of("budget");
    REQUIRE(overrun.size() == 1);
    CHECK(overrun[0]["event_detail"] == "overrun");
    CHECK(overrun[0]["max_output_tokens"] == 1000);
}

TEST_CASE(
    "runner: a billed safety block is not retried and its cost is in the ledger with its tokens",
    "[runner][schedule][budget]") {
    Bench b;
    b.provider.script("r1", 1, {Answer::blocked()});
    auto out = b.run(rows(2));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls_for("r1", 1).size() == 1);
    CHECK(out.rows.at(0).status == "blocked");
    CHECK(out.rows.at(0).cost == 4'000);  // 100 thinking tokens at $40 per million
    CHECK(out.rows.at(1).status == "ok");
    auto lines = b.ledger_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].status == "BLOCKED");
    CHECK(lines[0].cost == 4'000);
    CHECK(lines[0].has_tokens);
    CHECK(lines[0].thoughts_tokens == 100);
    CHECK(out.summary->actual_cost == 4'000 + k_image_cost);
    CHECK(b.budget().spent() == 4'000 + k_image_cost);
}

TEST_CASE("runner: a billed answer whose bytes are not an image is charged, and made again",
          "[runner][schedule][budget]") {
    Bench b;
    b.provider.script("r1", 1, {Answer::not_an_image()});
    auto out = b.run(rows(1));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls_for("r1", 1).size() == 2);
    REQUIRE(out.rows.size() == 1);
    CHECK(out.rows[0].status == "ok");
    CHECK(out.rows[0].variants.at(0).attempts == 2);
    CHECK(out.rows[0].cost == 2 * k_image_cost);  // both answers were billed
    auto lines = b.ledger_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].status == "BAD_RESPONSE");
    CHECK(lines[0].images == 0);
    CHECK(lines[0].cost == k_image_cost);
    CHECK(lines[1].status == "ok");
    CHECK(lines[0].id != lines[1].id);
    CHECK(out.summary->actual_cost == 2 * k_image_cost);
    CHECK(b.budget().spent() == 2 * k_image_cost);
    CHECK(b.image_files() == std::vector<std::string>{"r1/r1_v1.png"});
    CHECK(b.events.of("bad_image").size() == 1);
}

TEST_CASE("runner: a per-day quota answer stops sending; the rest end QUOTA_DAILY unsent",
          "[runner][schedule][budget]") {
    Bench b;
    b.provider.script("r2", 1, {Answer::error(Code::quota_daily, "429 GenerateRequestsPerDay")});
    auto out = b.run(rows(4));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == 2);
    CHECK(out.summary->status == schedule::RunEnd::quota_daily);
    CHECK(out.summary->first_error.find("GenerateRequestsPerDay") != std::string::npos);
    CHECK(out.rows.at(0).status == "ok");
    CHECK(out.rows.at(1).status == "quota_daily");
    CHECK(out.rows.at(3).status == "quota_daily");
    CHECK(out.rows.at(3).variants.at(0).kind == Kind::not_run);
    CHECK(out.rows.at(3).first_message.rfind("not sent", 0) == 0);
    CHECK(b.events.of("quota_stop").size() == 1);
}
