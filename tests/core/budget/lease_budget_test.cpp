// Budget leases: the document's arithmetic (decide), and GcsLeaseBudget against the loopback
// GCS fake with a fake clock: a dead holder's lease strands budget only until it expires, two
// machines under injected 412s spend exactly what fits, and every lease goes back at the end.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "budget/gcs_lease_budget.hpp"
#include "budget/lease_doc.hpp"
#include "core/ledger/gcs_ledger_test_support.hpp"

using namespace assetgen;
using test::GcsLedgerFixture;
using test::sample_entry;

namespace {

budget::LeaseView view(util::Micros spent, std::map<std::string, util::Micros> by_lease = {},
                       std::int64_t now = 10'000) {
    return budget::LeaseView{1'000'000, spent, std::move(by_lease), now, 1'000};
}

budget::LeaseAsk ask(util::Micros in_use, util::Micros need, util::Micros want) {
    budget::LeaseAsk a;
    a.id = "me";
    a.in_use = in_use;
    a.need = need;
    a.want = want;
    a.ttl_ms = 4'000;
    a.holder = "test";
    return a;
}

}  // namespace

TEST_CASE("lease doc: a lease takes what is left beside the others' outstanding parts",
          "[budget]") {
    budget::ModeLeases mode;
    mode.leases["other"] = budget::Lease{624'000, 12'000, 1'000, "other"};
    // The other lease spent 195,000 (visible); spent in all: that plus 100,000 without a lease.
    auto d = budget::decide(mode, view(295'000, {{"other", 195'000}}), ask(0, 39'000, 624'000));
    CHECK(d.granted);
    CHECK(d.others == 429'000);
    CHECK(d.amount == 1'000'000 - 295'000 - 429'000);  // 276,000: less than wanted
    CHECK(mode.leases.at("me").amount == d.amount);
    CHECK(mode.leases.at("me").expires_ms == 14'000);
    CHECK(mode.limit == 1'000'000);

    // This lease's own visible lines are in spent and in its amount: counted once.
    auto again = budget::decide(mode, view(334'000, {{"other", 195'000}, {"me", 39'000}}),
                                ask(39'000, 39'000, 624'000));
    CHECK(again.amount == 1'000'000 - 334'000 - 429'000 + 39'000);
}

TEST_CASE("lease doc: when the need does not fit, the lease keeps only what is in use",
          "[budget]") {
    budget::ModeLeases mode;
    mode.leases["other"] = budget::Lease{900'000, 12'000, 1'000, "other"};
    mode.leases["me"] = budget::Lease{100'000, 12'000, 1'000, "test"};
    CHECK(budget::held_by_leases(mode, view(70'000, {{"me", 70'000}})) == 900'000 + 30'000);
    CHECK(budget::held_by_leases(mode, view(70'000, {{"me", 70'000}}), "me") == 900'000);
    auto d = budget::decide(mode, view(70'000, {{"me", 70'000}}), ask(78'000, 39'000, 624'000));
    CHECK_FALSE(d.granted);
    CHECK(d.room == 22'000);    // less than the need
    CHECK(d.amount == 78'000);  // 22,000 given back for others to pool
    CHECK(mode.leases.at("me").amount == 78'000);
}

TEST_CASE("lease doc: expired leases are dropped only after their grace", "[budget]") {
    budget::ModeLeases mode;
    mode.leases["dead"] = budget::Lease{624'000, 9'000, 1'000, "dead"};
    auto live =
        budget::decide(mode, view(0, {}, 10'000), ask(0, 39'000, 624'000));  // 9,000 + 1,000 grace
    CHECK(live.reclaimed.empty());
    CHECK(live.others == 624'000);
    CHECK(live.amount == 376'000);
    auto dropped = budget::decide(mode, view(0, {}, 10'001), ask(0, 39'000, 624'000));
    REQUIRE(dropped.reclaimed.size() == 1);
    CHECK(dropped.reclaimed[0].first == "dead");
    CHECK(dropped.others == 0);
    CHECK(mode.leases.count("dead") == 0);
    CHECK(dropped.amount == 624'000);
}

TEST_CASE(
    "lease doc: an expired lease with a place is kept and counted until its place releases it",
    "[budget]") {
    budget::ModeLeases mode;
    mode.leases["dead"] =
        budget::Lease{624'000, 9'000, 1'000, "dead", "spool1:/jobs/a/manifest.jsonl"};
    // 100,000 of it is visible in the ledger: 524,000 may be paid and unrecorded.
    auto d =
        budget::decide(mode, view(100'000, {{"dead", 100'000}}, 10'001), ask(0, 39'000, 1'000'000));
    CHECK(d.reclaimed.empty());
    REQUIRE(d.dead_leases.size() == 1);
    CHECK(d.dead == 524'000);
    CHECK(d.others == 0);  // nothing to wait for: it will not come back by itself
    CHECK(d.amount == 1'000'000 - 100'000 - 524'000);
    CHECK(budget::held_by_leases(mode, view(100'000, {{"dead", 100'000}}, 50'000), "me") ==
          524'000);
    // Another place does not release it; its own place does, and then the room is free.
    CHECK(budget::release_dead_of_place(mode, "spool2:/jobs/a/manifest.jsonl", "me").empty());
    auto released = budget::release_dead_of_place(mode, "spool1:/jobs/a/manifest.jsonl", "me");
    REQUIRE(released.size() == 1);
    CHECK(released[0].first == "dead");
    CHECK(mode.leases.count("dead") == 0);
    CHECK(mode.leases.at("me").place.empty());
}

TEST_CASE("lease doc: a lease's place reads back as written", "[budget]") {
    budget::LeaseDoc doc{"ops", "2025-11-24", "UTC", 77, {}};
    doc.modes["live"].leases["me"] = budget::Lease{5, 6, 7, "h", "abc:/x/manifest.jsonl"};
    auto parsed = budget::parse_lease_doc(budget::to_json(doc));
    REQUIRE(parsed.ok());
    CHECK(*parsed == doc);
}

TEST_CASE("lease doc: release removes the lease; the document reads back as written", "[budget]") {
    budget::LeaseDoc doc{"ops", "2025-11-24", "Europe/Paris", 77, {}};
    doc.modes["dry_run"].leases["me"] = budget::Lease{5, 6, 7, "job x, shard 1/4, pid 9 on h"};
    doc.modes["live"].limit = 10'000'000;
    auto parsed = budget::parse_lease_doc(budget::to_json(doc));
    REQUIRE(parsed.ok());
    CHECK(*parsed == doc);

    auto a = ask(0, 0, 0);
    a.release = true;
    auto d = budget::decide(doc.modes["dry_run"], view(0), a);
    CHECK(d.amount == 0);
    CHECK(doc.modes["dry_run"].leases.empty());

    auto bad = budget::parse_lease_doc(
        R"({"v":1,"user":"ops","day":"d","tz":"UTC","updated_ms":1,"modes":{"live":{"limit_micros":1,)"
        R"("leases":{"x":{"amount_micros":"5","expires_ms":1,"granted_ms":1,"holder":"h"}}}}})");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("modes.live.leases.x.amount_micros must be an integer") !=
          std::string::npos);
    CHECK(budget::parse_lease_doc(R"({"v":2})").status().message().find("version 2") !=
          std::string::npos);
}

namespace {

struct Machine {
    // ttl: how long a lease lives unrenewed. The fake clock is shared and a waiting machine's
    // polls advance it, so a test of contention (not of expiry) gives leases a long life, as the
    // renewal thread does in real time.
    Machine(GcsLedgerFixture& f, const std::string& name,
            std::chrono::milliseconds ttl = std::chrono::seconds(4))
        : fixture(f) {
        auto options = f.writer_options(name);
        auto opened = ledger::GcsLedgerWriter::open(*f.store, f.clock, options);
        REQUIRE(opened.ok());
        writer = std::move(opened).value();
        budget::LeaseBudgetOptions o;
        o.user = "ops";
        o.mode = ledger::RunMode::dry_run;
        o.limit = 1'000'000;
        o.store = f.store.get();
        o.spool_dir = options.spool_dir;
        o.ttl = ttl;
        o.lease_images = 16;
        o.holder = name;
        o.flush_ledger = [this] { return writer->flush(); };
        o.renew_thread = false;
        auto b = budget::GcsLeaseBudget::open(o, f.clock);
        REQUIRE(b.ok());
        budget = std::move(b).value();
    }
    // One request: reserve, write its ledger line under the lease, settle. False when refused.
    bool request(const std::string& scene) {
        if (!budget->reserve(39'000)) {
            return false;
        }
        auto e = sample_entry("job", scene);
        e.ts = fixture.clock.unix_ms();
        e.lease = budget->lease_id();
        REQUIRE(writer->append(e).ok());
        budget->settle(39'000, 39'000);
        return true;
    }

    GcsLedgerFixture& fixture;
    std::unique_ptr<ledger::GcsLedgerWriter> writer;
    std::unique_ptr<budget::GcsLeaseBudget> budget;
};

nlohmann::json document(GcsLedgerFixture& f, budget::GcsLeaseBudget& b) {
    auto r = f.store->client().read(b.document());
    REQUIRE(r.ok());
    return nlohmann::json::parse(r->data);
}

}  // namespace

TEST_CASE("lease budget: a dead holder's lease strands budget only until it expires",
          "[budget][integration]") {
    GcsLedgerFixture f;
    Machine m(f, "spool-b");
    // A process that took $0.624 and died: its lease expires 4 s from now (+1 s grace).
    const std::int64_t expires = f.clock.unix_ms() + 4'000;
    budget::LeaseDoc dead{"ops", "2025-11-24", "UTC", f.clock.unix_ms(), {}};
    dead.modes["dry_run"].leases["dead0000"] =
        budget::Lease{624'000, expires, f.clock.unix_ms(), "killed"};
    storage::Preconditions none_yet;
    none_yet.if_generation_match = 0;
    REQUIRE(f.store->client()
                .upload(m.budget->document(), budget::to_json(dead), "application/json", none_yet)
                .ok());

    // The pre-flight check sees it as held.
    const budget::SpendScope scope{"ops", ledger::RunMode::dry_run, "UTC", "2025-11-24"};
    auto held = budget::held_by_leases_now(*f.store, f.dir.file("spool-b"), scope, f.clock,
                                           std::chrono::seconds(4));
    REQUIRE(held.ok());
    CHECK(*held == 624'000);

    int granted = 0;
    for (; granted < 9; ++granted) {
        REQUIRE(m.request("s" + std::to_string(granted)));
    }
    CHECK(f.clock.unix_ms() <= expires);  // nine fit beside the dead lease at once
    REQUIRE(m.request("s9"));             // the tenth waits for the dead lease to expire
    CHECK(f.clock.unix_ms() > expires + 1'000);
    CHECK(m.budget->stats().reclaimed == 1);
    CHECK(m.budget->stats().waits == 1);
    for (granted = 10; m.request("s" + std::to_string(granted)); ++granted) {
    }
    CHECK(granted == 25);  // $1.00 / $0.039
    CHECK(m.budget->overshoot() == 0);
    held = budget::held_by_leases_now(*f.store, f.dir.file("spool-b"), scope, f.clock,
                                      std::chrono::seconds(4));
    REQUIRE(held.ok());
    CHECK(*held == 0);  // its own lease is all spent, and visible: nothing held
    REQUIRE(m.budget->close().ok());
    CHECK(document(f, *m.budget)["modes"]["dry_run"]["leases"].empty());
    CHECK(test::id_counts(f.day_text("2025-11-24")).size() == 25);
}

TEST_CASE("lease budget: two machines under 412s spend exactly what fits",
          "[budget][integration]") {
    GcsLedgerFixture f;
    Machine a(f, "spool-a", std::chrono::hours(1));
    Machine b(f, "spool-b", std::chrono::hours(1));
    REQUIRE(f.set_faults({{{"fault", "412"},
                           {"rate", 0.3},
                           {"ops", {"upload"}},
                           {"object_prefix", "ledger/budget/"}}}));
    std::atomic<int> granted{0};
    auto work = [&](Machine& m, const std::string& who) {
        for (int i = 0; m.request(who + std::to_string(i)); ++i) {
            ++granted;
        }
        REQUIRE(m.budget->close().ok());
    };
    std::thread ta([&] { work(a, "a"); });
    std::thread tb([&] { work(b, "b"); });
    ta.join();
    tb.join();
    CHECK(granted == 25);
    CHECK(a.budget->stats().conflicts + b.budget->stats().conflicts > 0);
    const auto ids = test::id_counts(f.day_text("2025-11-24"));
    CHECK(ids.size() == 25);
    CHECK(document(f, *a.budget)["modes"]["dry_run"]["leases"].empty());
}

TEST_CASE("lease budget: a document that is not one is refused, naming it and the fix",
          "[budget][integration]") {
    GcsLedgerFixture f;
    REQUIRE(f.store->client()
                .upload({test::k_ledger_bucket, "ledger/budget/2025-11-24/ops.json"}, "{\"v\":1}",
                        "application/json")
                .ok());
    budget::LeaseBudgetOptions o;
    o.user = "ops";
    o.mode = ledger::RunMode::dry_run;
    o.limit = 1'000'000;
    o.store = f.store.get();
    o.spool_dir = f.dir.file("spool");
    o.renew_thread = false;
    auto b = budget::GcsLeaseBudget::open(o, f.clock);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == util::Code::invalid_input);
    CHECK(b.status().message().find("gs://assetgen-ledger-it/ledger/budget/2025-11-24/ops.json") !=
          std::string::npos);
    CHECK(b.status().message().find("delete it") != std::string::npos);
    o.store = nullptr;
    CHECK(budget::GcsLeaseBudget::open(o, f.clock).status().code() == util::Code::config);
}
