#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "core/ledger/sample_entries.hpp"
#include "ledger/audit.hpp"
#include "ledger/day_totals.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;
using json = nlohmann::json;

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

// Three users' lines on the noon's day (one refused, one live) and one on the next day.
std::vector<ledger::Entry> day_entries() {
    auto a1 = test::sample_entry("j1", "S-1");
    auto a2 = test::sample_entry("j1", "S-2", 1, test::k_noon_ms + 5'000);
    auto refused = test::sample_entry("j1", "S-3");
    refused.status = "BUDGET_EXCEEDED";
    refused.images = 0;
    refused.cost = 0;
    auto live = test::sample_entry("j2", "S-1");
    live.user_id = "ana";
    live.mode = "live";
    live.cost = 134'000;
    auto tomorrow = test::sample_entry("j3", "S-1", 1, test::k_noon_ms + k_day_ms);
    return {a1, a2, refused, live, tomorrow};
}

}  // namespace

TEST_CASE("day totals: recomputed from the day's lines per user and mode, written atomically",
          "[ledger]") {
    test::TempDir dir;
    test::FakeClock clock(test::k_noon_ms + 60'000);
    ledger::LocalLedgerWriter writer(dir.file("ledger"));
    for (const auto& e : day_entries()) {
        REQUIRE(writer.append(e).ok());
    }
    REQUIRE(writer.flush().ok());
    const std::string day = ledger::utc_day(test::k_noon_ms);
    REQUIRE(ledger::update_day_totals(dir.file("ledger"), day, clock).ok());
    // Twice gives the same: nothing is added onto what was there.
    REQUIRE(ledger::update_day_totals(dir.file("ledger"), day, clock).ok());
    auto text = util::read_file(ledger::day_totals_location(dir.file("ledger"), day));
    REQUIRE(text.ok());
    const json doc = json::parse(*text);
    CHECK(doc["v"] == 1);
    CHECK(doc["day"] == day);
    CHECK(doc["entries"] == 4);
    CHECK(doc["users"]["ops"]["dry_run"]["cost_micros"] == 78'000);
    CHECK(doc["users"]["ops"]["dry_run"]["images"] == 2);
    CHECK(doc["users"]["ops"]["dry_run"]["requests"] == 3);
    CHECK(doc["users"]["ops"]["dry_run"]["updated"] ==
          util::utc_timestamp(test::k_noon_ms + 5'000));
    CHECK(doc["users"]["ana"]["live"]["cost_micros"] == 134'000);
    CHECK(doc["updated"] == util::utc_timestamp(test::k_noon_ms + 60'000));
    CHECK(doc["users"].size() == 2);

    // A run that started yesterday also rewrites yesterday's totals.
    clock.advance(std::chrono::milliseconds(k_day_ms));
    REQUIRE(ledger::update_run_day_totals(dir.file("ledger"), test::k_noon_ms, clock).ok());
    const std::string next = ledger::utc_day(test::k_noon_ms + k_day_ms);
    auto next_text = util::read_file(ledger::day_totals_location(dir.file("ledger"), next));
    REQUIRE(next_text.ok());
    CHECK(json::parse(*next_text)["entries"] == 1);

    CHECK(ledger::update_day_totals(dir.file("ledger"), "2025-13-01", clock).code() ==
          util::Code::invalid_input);
}

TEST_CASE("day totals: the day's open reservations apart from cost, settled ones not at all",
          "[ledger][reservations]") {
    test::TempDir dir;
    test::FakeClock clock(test::k_noon_ms + 60'000);
    ledger::LocalLedgerWriter writer(dir.file("ledger"));
    ledger::Reservation r;
    r.id = "jb/batch/0";
    r.user_id = "ops";
    r.job_id = "jb";
    r.model = "gemini-2.5-flash-image";
    r.mode = "dry_run";
    r.batch = "assetgen-jb-0";
    r.requests = 4;
    r.amount = 200'000;
    r.ts = test::k_noon_ms;
    auto settled = r;
    settled.id = "jb/batch/1";
    REQUIRE(ledger::write_reservation(writer, r).ok());
    REQUIRE(ledger::write_reservation(writer, settled).ok());
    auto paid = test::sample_entry("jb", "S-1");  // $0.039 of the open one used
    ledger::bind_to_reservation(paid, r, test::k_noon_ms + 1'000);
    REQUIRE(writer.append(paid).ok());
    REQUIRE(ledger::write_settlement(writer, settled, 0, "BATCH_CANCELLED", test::k_noon_ms).ok());
    REQUIRE(writer.append(test::sample_entry("j1", "S-1")).ok());  // a plain line, $0.039
    REQUIRE(writer.flush().ok());

    const std::string day = ledger::utc_day(test::k_noon_ms);
    auto totals = ledger::compute_day_totals(dir.file("ledger"), day);
    REQUIRE(totals.ok());
    const auto& cell = totals->users.at("ops").at("dry_run");
    CHECK(cell.cost == 2 * 39'000);  // paid lines only
    CHECK(cell.reserved_pending == 200'000 - 39'000);
    CHECK(cell.requests == 2);

    REQUIRE(ledger::update_day_totals(dir.file("ledger"), day, clock).ok());
    auto text = util::read_file(ledger::day_totals_location(dir.file("ledger"), day));
    REQUIRE(text.ok());
    const json doc = json::parse(*text);
    CHECK(doc["users"]["ops"]["dry_run"]["cost_micros"] == 78'000);
    CHECK(doc["users"]["ops"]["dry_run"]["reserved_pending_micros"] == 161'000);
}

TEST_CASE(
    "day totals: gs:// under ifGenerationMatch; 412s are retried, then given up on, naming the "
    "object",
    "[ledger][integration]") {
    test::GcsLedgerFixture f;
    auto writer = ledger::GcsLedgerWriter::open(*f.store, f.clock, f.writer_options());
    REQUIRE(writer.ok());
    for (const auto& e : day_entries()) {
        REQUIRE((*writer)->append(e).ok());
    }
    REQUIRE((*writer)->flush().ok());
    const std::string day = ledger::utc_day(test::k_noon_ms);
    const ledger::LedgerLocation where(f.location(), &f.store->client());
    REQUIRE(f.set_faults(json::array({{{"fault", "412"}, {"first_n", 2}, {"ops", {"upload"}}}})));
    REQUIRE(ledger::update_day_totals(where, day, f.clock).ok());
    const auto objects = f.objects("totals/" + day + ".json");
    REQUIRE(objects.size() == 1);
    const json doc = json::parse(objects[0].value("text", "{}"));
    CHECK(doc["users"]["ops"]["dry_run"]["cost_micros"] == 78'000);
    CHECK(doc["entries"] == 4);
    CHECK(f.requests("upload").size() >= 3);  // two refused, then written

    REQUIRE(f.set_faults(json::array({{{"fault", "412"}, {"rate", 1.0}, {"ops", {"upload"}}}})));
    const auto st = ledger::update_day_totals(where, day, f.clock);
    CHECK(st.code() == util::Code::unavailable);
    CHECK(st.message() ==
          f.location() + "/totals/" + day + ".json: changed by other runs 8 times in a row");
}
