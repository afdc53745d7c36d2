// other_pending_batches: another job's open batch over this run's rows in this --out (the sheet
// edited while its batch runs makes the next run a new job).
#include <catch2/catch.hpp>

#include "ledger/reservations.hpp"
#include "schedule/batch_chunks.hpp"
#include "schedule/other_batches.hpp"
#include "storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace assetgen {
namespace {

ledger::Reservation reservation(const std::string& job, int chunk, const std::string& shard = {}) {
    ledger::Reservation r;
    r.id = schedule::batch_chunk_reservation_id(job, chunk, shard);
    r.job_id = job;
    r.user_id = "u";
    r.model = "m";
    r.mode = "live";
    r.batch = schedule::batch_chunk_display_name(job, chunk, shard);
    r.shard = shard;
    r.requests = 2;
    r.amount = 80'000;
    r.ts = 1;
    return r;
}

}  // namespace

TEST_CASE("other_pending_batches: another job's open batch over this run's rows in this --out") {
    test::TempDir dir;
    storage::LocalStorage storage;
    const std::string out = dir.file("out");
    REQUIRE(schedule::write_chunk_keys(storage, out + "/old/batch/c1.keys", {"old/A/1", "old/B/1"})
                .ok());
    REQUIRE(
        schedule::write_chunk_keys(storage, out + "/old/shards/1-of-2/batch/c1.keys", {"old/C/1"})
            .ok());
    ledger::ReservationBook book;
    book.add(ledger::reserve_entry(reservation("old", 1)));
    book.add(ledger::reserve_entry(reservation("old", 1, "1/2")));
    book.add(ledger::reserve_entry(reservation("far", 1)));  // its keys file is in another --out
    const std::set<std::string> mine{"B", "C", "D"};

    auto found = schedule::other_pending_batches(book, "new", out, storage, mine);
    REQUIRE(found.ok());
    REQUIRE(found->size() == 2);
    CHECK((*found)[0].batch == "assetgen-old-c1");
    CHECK((*found)[0].overlap == 1);
    CHECK((*found)[0].some_scenes == std::vector<std::string>{"B"});
    CHECK((*found)[0].held == 80'000);
    CHECK((*found)[1].batch == "assetgen-old-c1-s1of2");
    CHECK((*found)[1].some_scenes == std::vector<std::string>{"C"});

    const auto st = schedule::refuse_other_pending(*found, "new", "sheet v2.csv");
    REQUIRE(st.code() == util::Code::config);
    CHECK_THAT(st.message(), Catch::Contains("job old: 2 batch chunk(s) still pending"));
    CHECK_THAT(st.message(), Catch::Contains("$0.160000 reserved"));
    CHECK_THAT(st.message(), Catch::Contains("(B, C)"));
    CHECK_THAT(st.message(),
               Catch::Contains("`assetgen run 'sheet v2.csv' --tier batch --job-id old`"));
    CHECK_THAT(st.message(), Catch::Contains("--job-id old --cancel`"));

    SECTION("rows it does not hold, its own job, or settled: nothing") {
        CHECK(schedule::other_pending_batches(book, "new", out, storage, {"A2", "Z"})->empty());
        CHECK(schedule::other_pending_batches(book, "old", out, storage, mine)->empty());
        ledger::Entry settle = ledger::settle_entry(reservation("old", 1), 0, "", 2);
        book.add(settle);
        book.add(ledger::settle_entry(reservation("old", 1, "1/2"), 0, "", 2));
        CHECK(schedule::other_pending_batches(book, "new", out, storage, mine)->empty());
        CHECK(schedule::refuse_other_pending({}, "new", "x.csv").ok());
    }
}

}  // namespace assetgen
