// Reservations that outlive the process (issue 17 item 3): the reserve and settle lines, what
// an open reservation holds, `ledger sum` and `ledger verify` over them.

#include <catch2/catch.hpp>

#include "core/ledger/sample_entries.hpp"
#include "ledger/audit.hpp"
#include "ledger/reservations.hpp"
#include "support/temp_dir.hpp"
#include "util/money.hpp"

using namespace assetgen;
using test::k_noon_ms;
using test::sample_entry;

namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;

// A batch of 4 requests of job1 holding $0.200000, reserved at noon.
ledger::Reservation sample_reservation(std::int64_t ts = k_noon_ms) {
    ledger::Reservation r;
    r.id = "job1/batch/0";
    r.user_id = "ops";
    r.job_id = "job1";
    r.model = "gemini-2.5-flash-image";
    r.mode = "dry_run";
    r.batch = "assetgen-job1-0";
    r.requests = 4;
    r.amount = 200'000;
    r.ts = ts;
    return r;
}

// The paid line of one request of r (cost $0.039), written an hour later.
ledger::Entry paid_under(const ledger::Reservation& r, const std::string& scene) {
    auto e = sample_entry(r.job_id, scene, 1, r.ts + k_hour_ms);
    e.tier = "batch";
    ledger::bind_to_reservation(e, r, r.ts + k_hour_ms);
    return e;
}

}  // namespace

TEST_CASE("reservations: the reserve and settle lines read back as written, and cost 0",
          "[ledger][reservations]") {
    const auto r = sample_reservation();
    const std::string reserve = ledger::to_line(ledger::reserve_entry(r));
    CHECK(reserve ==
          R"({"ts":1763985600000,"userId":"ops","jobId":"job1","prompt":"","images":0,"cost":0,)"
          R"("v":1,"id":"job1/batch/0","scene_id":"","variant":0,"model":"gemini-2.5-flash-image",)"
          R"("mode":"dry_run","status":"reserved","error_code":"","estimated":0,"shard":"",)"
          R"("tier":"batch","kind":"reserve","reserved":0.2,"requests":4,)"
          R"("batch":"assetgen-job1-0"})"
          "\n");
    auto back = ledger::parse_line(reserve.substr(0, reserve.size() - 1));
    REQUIRE(back.ok());
    CHECK(*back == ledger::reserve_entry(r));

    const auto settle = ledger::settle_entry(r, 78'000, "BATCH_EXPIRED", k_noon_ms + 5 * k_hour_ms);
    const std::string line = ledger::to_line(settle);
    CHECK(line.find(R"("id":"job1/batch/0/settle")") != std::string::npos);
    CHECK(line.find(R"("cost":0,)") != std::string::npos);
    CHECK(line.find(R"("kind":"settle","reservation":"job1/batch/0","settled":0.078,)") !=
          std::string::npos);
    auto settle_back = ledger::parse_line(line.substr(0, line.size() - 1));
    REQUIRE(settle_back.ok());
    CHECK(*settle_back == settle);
    CHECK(settle_back->ts == r.ts);  // the day of the reservation
    CHECK(settle_back->recorded_ts == k_noon_ms + 5 * k_hour_ms);

    // A request line's bytes are as before: none of the new fields appears.
    const std::string plain = ledger::to_line(sample_entry("job1", "a"));
    for (const char* field :
         {"kind", "reservation", "reserved", "requests", "settled", "batch", "recorded_ts"}) {
        CHECK(plain.find(std::string("\"") + field + "\"") == std::string::npos);
    }
}

TEST_CASE("reservations: an open one holds what its paid lines have not used, a settled none",
          "[ledger][reservations]") {
    const auto r = sample_reservation();
    ledger::ReservationBook book;
    book.add(paid_under(r, "a"));  // read before its reserve line: order does not matter
    CHECK(book.outstanding() == 0);
    book.add(ledger::reserve_entry(r));
    CHECK(book.outstanding() == 200'000 - 39'000);
    book.add(sample_entry("job1", "zz"));  // not bound: ignored
    book.add(paid_under(r, "b"));
    CHECK(book.outstanding() == 200'000 - 2 * 39'000);
    for (const char* scene : {"c", "d", "e", "f", "g", "h"}) {
        book.add(paid_under(r, scene));  // paid beyond the reservation: never below zero
    }
    CHECK(book.outstanding() == 0);

    ledger::ReservationBook settled;
    settled.add(ledger::reserve_entry(r));
    settled.add(ledger::settle_entry(r, 0, "BATCH_CANCELLED", k_noon_ms));
    CHECK(settled.outstanding() == 0);  // given back whole
    CHECK(ledger::open_reservations(settled, k_noon_ms).empty());
}

TEST_CASE("reservations: a build that sums cost counts paid requests only, never the reserve",
          "[ledger][reservations]") {
    // What an older build's spend does: the cost of every line of the day.
    const auto r = sample_reservation();
    util::Micros summed = 0;
    for (const auto& e : {ledger::reserve_entry(r), paid_under(r, "a"), paid_under(r, "b"),
                          ledger::settle_entry(r, 78'000, "", k_noon_ms + 2 * k_hour_ms)}) {
        const std::string line = ledger::to_line(e);
        auto read = ledger::parse_line(line.substr(0, line.size() - 1));
        REQUIRE(read.ok());
        summed += read->cost;
    }
    CHECK(summed == 78'000);
}

TEST_CASE("reservations: ledger sum shows paid cost and what pending batches hold apart",
          "[ledger][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto open = sample_reservation();
    auto closed = sample_reservation();
    closed.id = "job2/batch/0";
    closed.job_id = "job2";
    REQUIRE(ledger::write_reservation(writer, open).ok());
    REQUIRE(ledger::write_reservation(writer, closed).ok());
    REQUIRE(writer.append(paid_under(open, "a")).ok());
    REQUIRE(writer.append(paid_under(closed, "a")).ok());
    REQUIRE(ledger::write_settlement(writer, closed, 39'000, "", k_noon_ms + k_hour_ms).ok());
    REQUIRE(writer.append(sample_entry("job3", "a")).ok());
    REQUIRE(writer.flush().ok());

    auto by_job = ledger::sum(folder, {}, ledger::GroupBy::job);
    REQUIRE(by_job.ok());
    CHECK(by_job->total.cost == 3 * 39'000);
    CHECK(by_job->total.images == 3);
    CHECK(by_job->total.reserved == 200'000 - 39'000);
    CHECK(by_job->total.estimated == 3 * 39'000);  // reserve lines add no estimate
    REQUIRE(by_job->groups.size() == 3);
    CHECK(by_job->groups[0].key == "job1");
    CHECK(by_job->groups[0].totals.reserved == 161'000);
    CHECK(by_job->groups[1].totals.reserved == 0);
    CHECK(by_job->groups[2].totals.reserved == 0);
}

TEST_CASE("reservations: verify reports open ones with their age, stale ones and stray settles",
          "[ledger][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const std::int64_t now = k_noon_ms + 2 * 86'400'000;

    const auto fresh = sample_reservation(now - 2 * k_hour_ms);
    auto stale = sample_reservation(now - 50 * k_hour_ms);
    stale.id = "job1/batch/1";
    stale.batch = "assetgen-job1-1";
    auto stray = sample_reservation(now - k_hour_ms);
    stray.id = "job9/batch/0";
    auto twice = sample_reservation(now - k_hour_ms);
    twice.id = "job8/batch/0";
    REQUIRE(ledger::write_reservation(writer, fresh).ok());
    REQUIRE(ledger::write_reservation(writer, stale).ok());
    REQUIRE(ledger::write_settlement(writer, stray, 0, "", now).ok());  // no reserve line
    REQUIRE(ledger::write_reservation(writer, twice).ok());
    REQUIRE(ledger::write_settlement(writer, twice, 0, "", now).ok());
    auto again = ledger::settle_entry(twice, 0, "", now);
    again.id += "-2";
    REQUIRE(writer.append(again).ok());
    REQUIRE(writer.flush().ok());

    ledger::VerifyOptions options;
    options.now_ms = now;
    auto report = ledger::verify_report(folder, {}, options);
    REQUIRE(report.ok());
    std::vector<std::string> kinds;
    for (const auto& f : report->findings) {
        kinds.emplace_back(ledger::finding_kind_name(f.kind));
    }
    // By reservation id (job8 before job9), then the open ones by age.
    CHECK(kinds ==
          std::vector<std::string>{"settled_twice", "settle_without_reserve", "stale_reservation"});
    const auto& stale_finding = report->findings[2];
    CHECK(stale_finding.where.find("ledger/") != std::string::npos);
    CHECK(stale_finding.message.find("\"job1/batch/1\"") != std::string::npos);
    CHECK(stale_finding.message.find("$0.200000 held") != std::string::npos);
    CHECK(stale_finding.message.find("48 h") != std::string::npos);

    REQUIRE(report->open_reservations.size() == 2);  // oldest first
    CHECK(report->open_reservations[0].id == "job1/batch/1");
    CHECK(report->open_reservations[0].age_ms == 50 * k_hour_ms);
    CHECK(report->open_reservations[1].id == "job1/batch/0");
    CHECK(report->open_reservations[1].age_ms == 2 * k_hour_ms);
    CHECK(report->open_reservations[1].outstanding == 200'000);

    // Without a time, ages are not judged: no stale finding.
    auto undated = ledger::verify_report(folder, {}, {});
    REQUIRE(undated.ok());
    CHECK(undated->findings.size() == 2);
    CHECK(undated->open_reservations.empty());
}

TEST_CASE("reservations: a batch's paid lines match its job's manifest as other lines do",
          "[ledger][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto r = sample_reservation();
    REQUIRE(ledger::write_reservation(writer, r).ok());
    const auto a = paid_under(r, "a");
    REQUIRE(writer.append(a).ok());
    REQUIRE(ledger::write_settlement(writer, r, a.cost, "", k_noon_ms + k_hour_ms).ok());
    REQUIRE(writer.flush().ok());
    std::string manifest = ledger::to_line(test::sample_manifest_entry(a));
    const std::string path = dir.write("out/job1/manifest.jsonl", manifest);
    auto findings = ledger::verify(folder, {path});
    REQUIRE(findings.ok());
    for (const auto& f : *findings) {
        FAIL_CHECK(f.to_string());
    }
}

TEST_CASE("reservations: verify checks settled against the paid lines, and paid lines out of place",
          "[ledger][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    // Settled at $0.050000 while its two paid lines cost $0.078000.
    const auto wrong = sample_reservation();
    REQUIRE(ledger::write_reservation(writer, wrong).ok());
    REQUIRE(writer.append(paid_under(wrong, "a")).ok());
    REQUIRE(writer.append(paid_under(wrong, "b")).ok());
    REQUIRE(ledger::write_settlement(writer, wrong, 50'000, "", k_noon_ms + 2 * k_hour_ms).ok());
    // Cancelled (settled at $0), then a line charged after the money was given back.
    auto late = sample_reservation();
    late.id = "job2/batch/0";
    late.job_id = "job2";
    REQUIRE(ledger::write_reservation(writer, late).ok());
    REQUIRE(
        ledger::write_settlement(writer, late, 0, "BATCH_CANCELLED", k_noon_ms + k_hour_ms).ok());
    REQUIRE(writer.append(paid_under(late, "a")).ok());
    // Paid lines bound to a reservation nobody reserved.
    auto ghost = sample_reservation();
    ghost.id = "job3/batch/0";
    ghost.job_id = "job3";
    REQUIRE(writer.append(paid_under(ghost, "a")).ok());
    REQUIRE(writer.append(paid_under(ghost, "b")).ok());
    // Right: settled at what its one paid line cost.
    auto right = sample_reservation();
    right.id = "job4/batch/0";
    right.job_id = "job4";
    REQUIRE(ledger::write_reservation(writer, right).ok());
    REQUIRE(writer.append(paid_under(right, "a")).ok());
    REQUIRE(ledger::write_settlement(writer, right, 39'000, "", k_noon_ms + k_hour_ms).ok());
    REQUIRE(writer.flush().ok());

    auto report = ledger::verify_report(folder, {}, {});
    REQUIRE(report.ok());
    REQUIRE(report->findings.size() == 3);
    const std::string day_file = ledger::utc_day(k_noon_ms) + ".jsonl:";
    const auto& mismatch = report->findings[0];
    CHECK(ledger::finding_kind_name(mismatch.kind) == "settle_mismatch");
    CHECK(mismatch.where.ends_with(day_file + "4"));
    CHECK(mismatch.message ==
          "reservation \"job1/batch/0\" is settled at $0.050000 but its 2 paid lines before it "
          "cost $0.078000");
    const auto& after = report->findings[1];
    CHECK(ledger::finding_kind_name(after.kind) == "paid_after_settle");
    CHECK(after.where.ends_with(day_file + "7"));
    CHECK(after.message ==
          "line \"job2/a/v1\" of reservation \"job2/batch/0\" charges $0.039000 "
          "after its settle line at " +
              folder + "/" + day_file + "6 gave the rest back");
    const auto& ghostly = report->findings[2];
    CHECK(ledger::finding_kind_name(ghostly.kind) == "paid_without_reserve");
    CHECK(ghostly.where.ends_with(day_file + "8"));
    CHECK(ghostly.message ==
          "2 paid lines ($0.078000) bound to reservation \"job3/batch/0\", "
          "which has no reserve line: money the budget never held");
}

TEST_CASE("reservations: ledger sum by day and by user puts what is held in the reserve's row",
          "[ledger][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto r = sample_reservation();  // user ops, noon
    REQUIRE(ledger::write_reservation(writer, r).ok());
    REQUIRE(writer.append(paid_under(r, "a")).ok());
    auto other = sample_entry("job5", "a", 1, k_noon_ms + 86'400'000);  // the next day
    other.user_id = "ana";
    REQUIRE(writer.append(other).ok());
    REQUIRE(writer.flush().ok());

    auto by_day = ledger::sum(folder, {}, ledger::GroupBy::day);
    REQUIRE(by_day.ok());
    REQUIRE(by_day->groups.size() == 2);
    CHECK(by_day->groups[0].key == ledger::utc_day(k_noon_ms));
    CHECK(by_day->groups[0].totals.cost == 39'000);
    CHECK(by_day->groups[0].totals.reserved == 161'000);
    CHECK(by_day->groups[1].totals.reserved == 0);
    auto by_user = ledger::sum(folder, {}, ledger::GroupBy::user);
    REQUIRE(by_user.ok());
    REQUIRE(by_user->groups.size() == 2);
    CHECK(by_user->groups[0].key == "ana");
    CHECK(by_user->groups[0].totals.reserved == 0);
    CHECK(by_user->groups[1].key == "ops");
    CHECK(by_user->groups[1].totals.reserved == 161'000);
    CHECK(by_user->total.reserved == 161'000);
}
