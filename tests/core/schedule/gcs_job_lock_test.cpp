// The job lock of a gs:// job (<job>/lock.json): the rules of decide_job_lock, and GcsJobLock
// against the loopback GCS fake with a fake clock: two "machines" (different hosts and pids)
// exclude each other as the local locks do, a dead holder is taken over only after its expiry
// and grace, the last release deletes the document, and racing takers never both win.

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "schedule/gcs_job_lock.hpp"

using namespace assetgen;
using namespace assetgen::schedule;
using test::GcsLedgerFixture;

namespace {

JobLockHolder holder(const std::string& shard, std::int64_t expires, std::int64_t pid = 7) {
    return JobLockHolder{shard, "host-a", pid, 1'000, expires, "/spool/jobs/x-j"};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("job lock doc: unsharded excludes shards, one count shares, another count is refused",
          "[schedule][job_lock]") {
    const std::string where = "gs://b/out/j/lock.json";
    JobLockDoc doc{"j", 0, {}};
    REQUIRE(decide_job_lock(doc, "whole", holder("", 60'000), 10'000, 1'000, where).granted);
    JobLockDoc before = doc;
    auto shard = decide_job_lock(doc, "s0", holder("0-of-2", 60'000, 8), 10'000, 1'000, where);
    REQUIRE_FALSE(shard.granted);
    CHECK(doc == before);  // a refusal changes nothing
    CHECK(has(shard.refusal,
              "job j is being run unsharded by another process right now, so shard 0/2 "
              "cannot run beside it: pid 7 on host-a (unsharded), started 1970-01-01T00:00:01Z"));
    CHECK(has(shard.refusal, "its lock gs://b/out/j/lock.json expires at 1970-01-01T00:01:01Z"));
    auto again = decide_job_lock(doc, "whole2", holder("", 60'000, 9), 10'000, 1'000, where);
    REQUIRE_FALSE(again.granted);
    CHECK(has(again.refusal,
              "job j is being run by another process right now (unsharded or a shard of it)"));
    // The holder itself renews.
    CHECK(decide_job_lock(doc, "whole", holder("", 70'000), 20'000, 1'000, where).granted);
    CHECK(doc.holders.at("whole").expires_ms == 70'000);

    JobLockDoc shards{"j", 0, {}};
    REQUIRE(decide_job_lock(shards, "s0", holder("0-of-2", 60'000), 10'000, 1'000, where).granted);
    CHECK(decide_job_lock(shards, "s1", holder("1-of-2", 60'000), 10'000, 1'000, where).granted);
    CHECK(shards.holders.size() == 2);
    auto same = decide_job_lock(shards, "s0b", holder("0-of-2", 60'000), 10'000, 1'000, where);
    CHECK(has(same.refusal, "shard 0/2 of job j is being run by another process right now"));
    auto count = decide_job_lock(shards, "t0", holder("0-of-3", 60'000), 10'000, 1'000, where);
    CHECK(has(count.refusal,
              "job j is being run by shards of another count (2) right now, so shard 0/3"));
    auto whole = decide_job_lock(shards, "w", holder("", 60'000), 10'000, 1'000, where);
    CHECK(has(whole.refusal, "(unsharded or a shard of it)"));
}

TEST_CASE("job lock doc: an expired holder is taken over only after its grace",
          "[schedule][job_lock]") {
    JobLockDoc doc{"j", 0, {}};
    doc.holders["dead"] = holder("", 9'000);
    CHECK_FALSE(decide_job_lock(doc, "me", holder("1-of-4", 20'000), 10'000, 1'000, "x").granted);
    auto taken = decide_job_lock(doc, "me", holder("1-of-4", 20'000), 10'001, 1'000, "x");
    REQUIRE(taken.granted);
    REQUIRE(taken.taken_over.size() == 1);
    CHECK(taken.taken_over[0].first == "dead");
    CHECK(doc.holders.count("dead") == 0);
    CHECK(doc.holders.at("me").shard == "1-of-4");

    auto parsed = parse_job_lock_doc(to_json(doc));
    REQUIRE(parsed.ok());
    CHECK(*parsed == doc);
    auto bad = parse_job_lock_doc(
        R"({"v":1,"job":"j","updated_ms":1,"holders":{"a":{"shard":"","host":"h",)"
        R"("pid":"7","started_ms":1,"expires_ms":2}}})");
    REQUIRE_FALSE(bad.ok());
    CHECK(has(bad.status().message(), "holders.a.pid must be an integer"));
}

TEST_CASE("job lock doc: a holder gone from this host is taken over at once, a live one never",
          "[schedule][job_lock]") {
    const pid_t child = ::fork();
    if (child == 0) {
        ::_exit(0);
    }
    REQUIRE(child > 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);  // reaped: its pid names no process now
    JobLockHolder dead = holder("", 60'000, child);
    CHECK(gone_from_this_host(dead, "host-a", "/spool/jobs/x-j"));
    CHECK_FALSE(gone_from_this_host(dead, "host-b", "/spool/jobs/x-j"));        // another machine
    CHECK_FALSE(gone_from_this_host(dead, "host-a", "/other-spool/jobs/x-j"));  // another folder
    JobLockHolder live = holder("", 60'000, ::getppid());
    CHECK_FALSE(gone_from_this_host(live, "host-a", "/spool/jobs/x-j"));

    JobLockDoc doc{"j", 0, {}};
    doc.holders["dead"] = dead;
    doc.holders["live"] = holder("1-of-2", 60'000, ::getppid());
    auto is_dead = [](const JobLockHolder& h) {
        return gone_from_this_host(h, "host-a", "/spool/jobs/x-j");
    };
    auto d = decide_job_lock(doc, "me", holder("0-of-2", 60'000), 10'000, 1'000, "x", is_dead);
    REQUIRE(d.granted);
    REQUIRE(d.taken_over.size() == 1);
    CHECK(d.taken_over[0].first == "dead");
    CHECK(doc.holders.count("live") == 1);
    CHECK_FALSE(
        decide_job_lock(doc, "me2", holder("", 60'000), 10'000, 1'000, "x", is_dead).granted);
}

namespace {

const storage::GcsUrl k_doc{test::k_ledger_bucket, "out/j/lock.json"};

GcsJobLockOptions machine(GcsLedgerFixture& f, const std::string& host, std::int64_t pid,
                          const std::string& shard, std::vector<std::string>* log = nullptr) {
    GcsJobLockOptions o;
    o.client = &f.store->client();
    o.document = k_doc;
    o.job_id = "j";
    o.shard = shard;
    o.ttl = std::chrono::seconds(4);
    o.host = host;
    o.pid = pid;
    o.renew_thread = false;
    if (log) {
        o.log = [log](const std::string& line) { log->push_back(line); };
    }
    return o;
}

// The lock document as the fake holds it ("" when there is none), not read through the code.
std::string doc_text(GcsLedgerFixture& f) {
    const nlohmann::json dumped =
        f.fake.dump(f.transport, test::k_ledger_bucket, "out/j/lock.json");
    for (const auto& o : dumped["objects"]) {
        return o.value("text", "");
    }
    return "";
}

}  // namespace

TEST_CASE(
    "gcs job lock: a second machine is refused naming the holder; release deletes the document",
    "[schedule][job_lock][gcs]") {
    GcsLedgerFixture f;
    auto a = GcsJobLock::acquire(machine(f, "host-a", 41, ""), f.clock);
    REQUIRE(a.ok());
    CHECK(has(doc_text(f), "\"host\": \"host-a\""));
    auto b = GcsJobLock::acquire(machine(f, "host-b", 42, ""), f.clock);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == util::Code::config);
    CHECK(has(b.status().message(),
              "job j is being run by another process right now (unsharded or a shard of it): "
              "pid 41 on host-a (unsharded)"));
    CHECK(
        has(b.status().message(), "gs://" + test::k_ledger_bucket + "/out/j/lock.json expires at " +
                                      util::utc_timestamp(test::k_noon_ms + 5'000).substr(0, 19)));
    CHECK_FALSE(GcsJobLock::acquire(machine(f, "host-b", 42, "0-of-2"), f.clock).ok());

    // Renewed, A's entry outlives its first expiry.
    f.clock.advance(std::chrono::seconds(3));
    CHECK((*a)->still_held().ok());
    REQUIRE((*a)->renew().ok());
    f.clock.advance(std::chrono::seconds(3));
    CHECK((*a)->still_held().ok());  // renewed at 3 s: it holds until 7 s
    CHECK_FALSE(GcsJobLock::acquire(machine(f, "host-b", 42, ""), f.clock).ok());

    REQUIRE((*a)->release().ok());
    CHECK(doc_text(f).empty());
    CHECK(f.requests("delete").size() == 1);
    auto after = GcsJobLock::acquire(machine(f, "host-b", 42, ""), f.clock);
    CHECK(after.ok());
}

TEST_CASE("gcs job lock: shards of one count share the document; the last one out deletes it",
          "[schedule][job_lock][gcs]") {
    GcsLedgerFixture f;
    auto s0 = GcsJobLock::acquire(machine(f, "host-a", 1, "0-of-2"), f.clock);
    auto s1 = GcsJobLock::acquire(machine(f, "host-b", 2, "1-of-2"), f.clock);
    REQUIRE(s0.ok());
    REQUIRE(s1.ok());
    auto other = GcsJobLock::acquire(machine(f, "host-c", 3, "0-of-3"), f.clock);
    REQUIRE_FALSE(other.ok());
    CHECK(has(other.status().message(), "shards of another count (2)"));
    REQUIRE((*s0)->release().ok());
    CHECK(has(doc_text(f), "\"host\": \"host-b\""));
    CHECK_FALSE(has(doc_text(f), "\"host\": \"host-a\""));
    REQUIRE((*s1)->release().ok());
    CHECK(doc_text(f).empty());
}

TEST_CASE("gcs job lock: a dead holder is taken over after its expiry and grace, and says so",
          "[schedule][job_lock][gcs]") {
    GcsLedgerFixture f;
    std::vector<std::string> log_a;
    std::vector<std::string> log_b;
    auto dead = GcsJobLock::acquire(machine(f, "host-a", 41, "", &log_a), f.clock);
    REQUIRE(dead.ok());
    // ttl 4 s + grace 1 s: at 5 s it still holds, after that it is taken over.
    f.clock.advance(std::chrono::milliseconds(5'000));
    CHECK_FALSE(GcsJobLock::acquire(machine(f, "host-b", 42, "", &log_b), f.clock).ok());
    f.clock.advance(std::chrono::milliseconds(1));
    auto b = GcsJobLock::acquire(machine(f, "host-b", 42, "", &log_b), f.clock);
    REQUIRE(b.ok());
    REQUIRE(log_b.size() == 1);
    CHECK(has(log_b[0], "job lock: took over job j from pid 41 on host-a (unsharded)"));
    CHECK(has(log_b[0], "expired at " + util::utc_timestamp(test::k_noon_ms + 4'000).substr(0, 19) +
                            "Z unrenewed"));
    // The old holder (not dead after all) stopped starting requests once its entry expired,
    // before anyone could take the job over...
    CHECK((*dead)->still_held().code() == util::Code::config);
    CHECK(has((*dead)->still_held().message(), "without a renewal"));
    // ...and its next renewal learns it lost the job: it does not take it back, even though
    // the job looks free again once B is gone.
    REQUIRE((*b)->release().ok());
    auto renewed = (*dead)->renew();
    CHECK_FALSE(renewed.ok());
    CHECK(has(renewed.message(), "another run took job j over; this run starts no new request"));
    CHECK(has((*dead)->still_held().message(), "another run took job j over"));
    REQUIRE_FALSE(log_a.empty());
    CHECK(has(log_a[0], "expired unrenewed and another run took job j over"));
    CHECK(doc_text(f).empty());
    b = GcsJobLock::acquire(machine(f, "host-b", 42, "", &log_b), f.clock);
    REQUIRE(b.ok());
    CHECK((*b)->still_held().ok());
    // Its release leaves the new holder's entry alone.
    REQUIRE((*dead)->release().ok());
    CHECK(has(doc_text(f), "\"host\": \"host-b\""));
}

TEST_CASE("gcs job lock: machines racing for the job never both get it",
          "[schedule][job_lock][gcs]") {
    GcsLedgerFixture f;
    for (int round = 0; round < 5; ++round) {
        std::atomic<int> won{0};
        std::atomic<int> refused{0};
        std::vector<std::unique_ptr<GcsJobLock>> held(4);
        std::vector<std::thread> threads;
        for (int m = 0; m < 4; ++m) {
            threads.emplace_back([&, m] {
                // Machine 0 runs unsharded, the others as shards of 3: one side only can win.
                auto got =
                    GcsJobLock::acquire(machine(f, "host-" + std::to_string(m), 100 + m,
                                                m == 0 ? "" : std::to_string(m - 1) + "-of-3"),
                                        f.clock);
                if (got.ok()) {
                    ++won;
                    held[m] = std::move(got).value();
                } else if (got.status().code() == util::Code::config) {
                    ++refused;
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        CHECK(won + refused == 4);
        CHECK(((held[0] && won == 1) || (!held[0] && won == 3)));
        held.clear();  // released
        CHECK(doc_text(f).empty());
    }
    CHECK_FALSE(f.requests("upload").empty());
}
