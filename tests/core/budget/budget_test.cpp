#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "budget/budget_guard.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "ledger/ledger_folder.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::budget;

TEST_CASE("budget: the built-in flash price is $0.039 an image plus input", "[budget]") {
    auto t = PriceTable::builtin();
    RequestShape shape{"gemini-2.5-flash-image", "", 24, 0};
    auto est = t.estimate(shape);
    REQUIRE(est.ok());
    CHECK(*est >= 39'000);
    CHECK(*est < 39'100);
    auto worst = t.worst_case(shape);
    CHECK(*worst >= *est);
    // 1290 output tokens at $30/1M = $0.0387, plus 20 prompt tokens at $0.30/1M.
    CHECK(t.actual("gemini-2.5-flash-image", "", 20, 1290, 0).value() == 38'700 + 6);
    CHECK(*worst >= t.actual("gemini-2.5-flash-image", "", 70, 1290, 0).value());
}

TEST_CASE("budget: 3 Pro costs more at 4K, and its worst case covers thinking", "[budget]") {
    auto t = PriceTable::builtin();
    auto k1 = t.estimate({"gemini-3-pro-image-preview", "1K", 40, 0}).value();
    auto k4 = t.estimate({"gemini-3-pro-image-preview", "4K", 40, 0}).value();
    CHECK(k1 >= 134'000);
    CHECK(k4 >= 240'000);
    auto worst = t.worst_case({"gemini-3-pro-image-preview", "4K", 40, 2}).value();
    auto actual =
        t.actual("gemini-3-pro-image-preview", "4K", 40 / 4 + 60 + 2 * 560, 2000, 2000).value();
    CHECK(worst >= actual);
}

TEST_CASE("budget: an unknown model is a configuration error that says how to price it",
          "[budget]") {
    auto t = PriceTable::builtin();
    auto r = t.estimate({"imagen-9", "", 10, 0});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == util::Code::config);
    CHECK_THAT(r.status().message(), Catch::Contains("--prices"));
}

TEST_CASE("budget: a pricing file adds models and --price-per-image overrides the image price",
          "[budget]") {
    auto t = PriceTable::builtin();
    REQUIRE(t.load_json(R"({"models":{"my-model":{"input_per_mtok":1,"per_image":{"":0.5}}}})",
                        "p.json")
                .ok());
    CHECK(t.estimate({"my-model", "", 0, 0}).value() >= 500'000);
    auto bad = t.load_json(R"({"models":{"m":{"per_image":{"":"cheap"}}}})", "p.json");
    CHECK_FALSE(bad.ok());
    CHECK_THAT(bad.message(), Catch::Contains("p.json:1: models.m.per_image"));
    t.set_price_per_image(10'000);
    CHECK(t.actual("gemini-2.5-flash-image", "", 0, 1290, 0).value() == 10'000);
}

TEST_CASE("budget: reservations never let spent + reserved pass the limit", "[budget]") {
    MemoryBudget g(1'000'000, 0);
    std::atomic<int> granted{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 64; ++i) {
        ts.emplace_back([&] {
            while (g.reserve(39'042)) {
                REQUIRE(g.spent() + g.reserved() <= 1'000'000);
                granted.fetch_add(1);
                g.settle(39'042, 38'706);
            }
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    CHECK(g.overshoot() == 0);
    CHECK(g.reserved() == 0);
    CHECK(granted.load() == 25);  // 25 × 0.038706 = 0.96765; 0.03235 left < one reservation
    CHECK(g.spent() == 25 * 38'706);
}

TEST_CASE("budget: days are cut at midnight in the given time zone, across DST", "[budget]") {
    // 2025-03-09 is the spring-forward day in Los Angeles (PST → PDT at 02:00 local).
    // 2025-03-09T07:59:59.999Z = 23:59:59.999 PST on 03-08; 08:00:00.000Z = 00:00 PST on 03-09.
    CHECK(day_in_zone(1'741'507'199'999, "America/Los_Angeles").value() == "2025-03-08");
    CHECK(day_in_zone(1'741'507'200'000, "America/Los_Angeles").value() == "2025-03-09");
    // After the change midnight is 07:00Z: 2025-03-10T06:59:59.999Z is still 03-09 (PDT).
    CHECK(day_in_zone(1'741'589'999'999, "America/Los_Angeles").value() == "2025-03-09");
    CHECK(day_in_zone(1'741'590'000'000, "America/Los_Angeles").value() == "2025-03-10");
    CHECK(day_in_zone(1'741'590'000'000, "UTC").value() == "2025-03-10");
    CHECK_FALSE(check_zone("Mars/Olympus_Mons").ok());
}

TEST_CASE("budget: spend today counts 00:00:00.000 local and not 23:59:59.999, across DST",
          "[budget]") {
    test::TempDir dir;
    ledger::LocalLedgerWriter w(dir.path());
    auto line = [&](std::int64_t ts, util::Micros cost, const std::string& mode) {
        ledger::Entry e;
        e.ts = ts;
        e.user_id = "ana";
        e.job_id = "j";
        e.prompt = "p";
        e.images = 1;
        e.cost = cost;
        e.id = "j/" + std::to_string(ts) + mode;
        e.scene_id = "s";
        e.variant = 1;
        e.model = "gemini-2.5-flash-image";
        e.mode = mode;
        e.status = "ok";
        REQUIRE(w.append(e).ok());
    };
    // Los Angeles, spring forward on 2025-03-09: midnight is 08:00Z before, 07:00Z after.
    line(1'741'507'199'999, 4'000'000, "live");     // 2025-03-08 23:59:59.999 PST
    line(1'741'507'200'000, 500'000, "live");       // 2025-03-09 00:00:00.000 PST
    line(1'741'589'999'999, 250'000, "live");       // 2025-03-09 23:59:59.999 PDT
    line(1'741'590'000'000, 125'000, "live");       // 2025-03-10 00:00:00.000 PDT
    line(1'741'550'000'000, 9'000'000, "dry_run");  // another budget
    REQUIRE(w.flush().ok());

    SpendQuery q{"ana", ledger::RunMode::live, "America/Los_Angeles",
                 1'741'550'000'000};  // 2025-03-09 midday
    auto s = spent_today(dir.path(), q);
    REQUIRE(s.ok());
    CHECK(s->day == "2025-03-09");
    CHECK(s->spent == 750'000);
    CHECK(s->entries == 2);
    q.tz = "UTC";  // 2025-03-09 in UTC holds the first two lines (07:59:59.999Z and 08:00Z)
    CHECK(spent_today(dir.path(), q)->spent == 4'500'000);
    q.user = "bob";
    CHECK(spent_today(dir.path(), q)->spent == 0);
}
