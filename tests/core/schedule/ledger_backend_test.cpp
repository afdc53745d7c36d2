// The ledger backend of a local folder (schedule/ledger_backend.hpp): the pre-flight's spend,
// the writer and the in-run budget read the same lines. The gs:// side is exercised by the e2e
// scripts against the fake GCS server (gcs-budget-*, gcs-kill-*).
#include <catch2/catch.hpp>

#include <filesystem>

#include "auth/env.hpp"
#include "schedule/ledger_backend.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_context.hpp"
#include "util/text.hpp"

using namespace assetgen;

namespace {

schedule::LedgerBackendOptions local_options(const test::TempDir& dir) {
    schedule::LedgerBackendOptions o;
    o.location = dir.file("ledger");
    o.spool_dir = dir.file("spool");
    o.user = "tester";
    o.mode = ledger::RunMode::dry_run;
    return o;
}

ledger::Entry paid_line(std::int64_t ts, const std::string& id, util::Micros cost) {
    ledger::Entry e;
    e.ts = ts;
    e.user_id = "tester";
    e.job_id = "job-1";
    e.prompt = "a red chair";
    e.images = 1;
    e.cost = cost;
    e.id = id;
    e.scene_id = "A-1";
    e.variant = 1;
    e.model = "gemini-3.1-flash-image";
    e.mode = "dry_run";
    e.status = "ok";
    e.estimated = cost;
    return e;
}

}  // namespace

TEST_CASE("ledger backend: a folder's writer, pre-flight spend and budget agree on one line",
          "[schedule][ledger_backend]") {
    test::TempDir dir;
    test::FakeClock clock;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    auto opened = schedule::LedgerBackend::open(local_options(dir), storage, clock);
    REQUIRE(opened.ok());
    schedule::LedgerBackend& backend = **opened;
    CHECK_FALSE(backend.spools());
    CHECK(backend.read_location().gcs == nullptr);

    // Opening and the pre-flight read touch nothing.
    auto before = backend.spent_today();
    REQUIRE(before.ok());
    CHECK(before->spend.spent == 0);
    CHECK(before->held == 0);
    CHECK(before->spend.day == util::utc_date(clock.unix_ms()));
    CHECK_FALSE(std::filesystem::exists(dir.file("ledger")));

    // No manifest: nothing to restore.
    auto restored = backend.open_writer(dir.file("job/manifest.jsonl"));
    REQUIRE(restored.ok());
    CHECK(*restored == 0);
    REQUIRE(backend.writer().append(paid_line(clock.unix_ms(), "job-1/A-1/v1", 39'000)).ok());
    REQUIRE(backend.flush_last().ok());

    // The line is in today's day file, once.
    const std::string day_file = "ledger/" + util::utc_date(clock.unix_ms()) + ".jsonl";
    const std::string text = dir.read(day_file);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK(text.find("\"id\":\"job-1/A-1/v1\"") != std::string::npos);

    // The pre-flight and the budget both see it.
    auto after = backend.spent_today();
    REQUIRE(after.ok());
    CHECK(after->spend.spent == 39'000);
    CHECK(after->spend.entries == 1);
    schedule::BudgetOpening bo;
    bo.limit = 100'000;
    bo.manifest = dir.file("job/manifest.jsonl");
    bo.holder = "job job-1";
    REQUIRE(backend.open_budget(bo).ok());
    CHECK(backend.budget().limit() == 100'000);
    CHECK(backend.budget().spent() == 39'000);
    CHECK(backend.budget().remaining() == 61'000);
    CHECK_FALSE(backend.budget().reserve(61'001));  // only what is left fits
    CHECK(backend.budget().reserve(61'000));
    backend.budget().settle(61'000, 0);
    CHECK(backend.budget().close().ok());
}

TEST_CASE("ledger backend: another user's lines are not this run's spend",
          "[schedule][ledger_backend]") {
    test::TempDir dir;
    test::FakeClock clock;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    {
        auto first = schedule::LedgerBackend::open(local_options(dir), storage, clock);
        REQUIRE(first.ok());
        REQUIRE((*first)->open_writer(dir.file("job/manifest.jsonl")).ok());
        auto line = paid_line(clock.unix_ms(), "job-1/A-1/v1", 39'000);
        line.user_id = "someone-else";
        REQUIRE((*first)->writer().append(line).ok());
        REQUIRE((*first)->flush_last().ok());
    }
    auto second = schedule::LedgerBackend::open(local_options(dir), storage, clock);
    REQUIRE(second.ok());
    auto spent = (*second)->spent_today();
    REQUIRE(spent.ok());
    CHECK(spent->spend.spent == 0);
}

TEST_CASE("ledger backend: a gs:// ledger with a bad URL is refused when opened",
          "[schedule][ledger_backend]") {
    test::TempDir dir;
    test::FakeClock clock;
    const auth::Env env = auth::Env::from_map({{"STORAGE_EMULATOR_HOST", "http://127.0.0.1:9"}});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    auto o = local_options(dir);
    o.location = "gs://";
    auto opened = schedule::LedgerBackend::open(o, storage, clock);
    REQUIRE_FALSE(opened.ok());
    CHECK_FALSE(std::filesystem::exists(dir.file("spool")));
}
