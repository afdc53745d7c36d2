// GcsLedgerWriter against tests/fakes/gcs_fake.py over real HTTP: what lands in the day
// objects, under races, injected faults and lost answers. Pushes happen on flush() only and
// backoff sleeps go to a FakeClock, so nothing here waits for time.

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "ledger/ledger_spool.hpp"
#include "util/text.hpp"

using namespace assetgen;
using ledger::GcsLedgerWriter;
using nlohmann::json;
using test::GcsLedgerFixture;
using test::k_noon_ms;
using test::sample_entry;

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

std::unique_ptr<GcsLedgerWriter> open_writer(GcsLedgerFixture& f,
                                             ledger::GcsLedgerWriterOptions options) {
    auto w = GcsLedgerWriter::open(*f.store, f.clock, std::move(options));
    REQUIRE(w.ok());
    return std::move(w).value();
}

}  // namespace

TEST_CASE("gcs ledger: flushed lines are the day object's bytes, in order, and parts are removed",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    auto options = f.writer_options();
    options.flush_interval = std::chrono::hours(1);  // a thread that never gets to push
    auto w = open_writer(f, options);

    std::string expected;
    for (const char* scene : {"a", "b", "c"}) {
        auto e = sample_entry("job1", scene);
        REQUIRE(w->append(e).ok());
        expected += ledger::to_line(e);
    }
    CHECK(f.day_text("2025-11-24").empty());  // appended is not pushed
    REQUIRE(w->flush().ok());
    CHECK(f.day_text("2025-11-24") == expected);

    for (const char* scene : {"d", "e"}) {
        auto e = sample_entry("job1", scene);
        REQUIRE(w->append(e).ok());
        expected += ledger::to_line(e);
    }
    REQUIRE(w->flush().ok());
    REQUIRE(w->flush().ok());  // nothing pending: no write
    CHECK(f.day_text("2025-11-24") == expected);
    CHECK(f.requests("compose").size() == 2);
    CHECK(f.objects(".parts/").empty());

    auto state = f.store->stat_day("2025-11-24");
    REQUIRE(state.ok());
    CHECK(state->seq == 2);
    CHECK(state->recent.size() == 2);
    CHECK(state->component_count == 2);

    // The spool holds every line, and its state says all of it is committed.
    const std::string spool = ledger::spool_file(options.spool_dir, w->writer_id());
    CHECK(f.dir.read("spool/" + w->writer_id() + ".jsonl") == expected);
    auto committed =
        ledger::read_spool_state(ledger::spool_state_file(options.spool_dir, w->writer_id()));
    REQUIRE(committed.ok());
    CHECK(committed->committed == expected.size());
    CHECK_FALSE(committed->inflight.has_value());
}

TEST_CASE("gcs ledger: lines go to the day object of their UTC day", "[ledger][integration]") {
    GcsLedgerFixture f;
    auto w = open_writer(f, f.writer_options());
    std::string day1;
    std::string day2;
    // Interleaved days (as near midnight): each day object gets its own lines in order.
    for (int i = 0; i < 6; ++i) {
        const bool second = i % 3 == 1;
        auto e =
            sample_entry("job1", "s" + std::to_string(i), 1, k_noon_ms + (second ? k_day_ms : 0));
        REQUIRE(w->append(e).ok());
        (second ? day2 : day1) += ledger::to_line(e);
    }
    REQUIRE(w->flush().ok());
    CHECK(f.day_text("2025-11-24") == day1);
    CHECK(f.day_text("2025-11-25") == day2);
    CHECK(f.objects(".parts/").empty());
}

TEST_CASE("gcs ledger: 8 concurrent writers under injected 412s and 503s write every line once",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    // The rates asked for, then a few sure ones so that both kinds fire whatever the draws.
    REQUIRE(f.set_faults(
        json::array({{{"fault", "412"}, {"rate", 0.1}, {"ops", {"compose", "upload"}}},
                     {{"fault", "503"}, {"rate", 0.05}, {"ops", {"compose", "upload"}}},
                     {{"fault", "412"}, {"first_n", 2}, {"ops", {"compose"}}},
                     {{"fault", "503"}, {"first_n", 2}, {"ops", {"compose"}}}})));
    constexpr int k_writers = 8;
    constexpr int k_lines = 30;
    std::vector<std::unique_ptr<GcsLedgerWriter>> writers;
    for (int i = 0; i < k_writers; ++i) {
        writers.push_back(open_writer(f, f.writer_options()));
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < k_writers; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < k_lines; ++n) {
                auto e = sample_entry("w" + std::to_string(i), "s" + std::to_string(n));
                if (!writers[i]->append(e).ok()) {
                    ++failures;
                }
                if (n % 6 == 5 && !writers[i]->flush().ok()) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(failures == 0);

    const auto counts = test::id_counts(f.day_text("2025-11-24"));
    CHECK(counts.size() == static_cast<std::size_t>(k_writers * k_lines));
    for (const auto& [id, n] : counts) {
        INFO(id);
        CHECK(n == 1);
    }
    // The faults did fire, and writers did race each other.
    int injected_412 = 0;
    int injected_503 = 0;
    int lost_races = 0;
    for (const auto& e : f.requests("compose")) {
        injected_412 += e["fault"] == "412" ? 1 : 0;
        injected_503 += e["fault"] == "503" ? 1 : 0;
        lost_races += e["status"] == 412 && e["fault"].is_null() ? 1 : 0;
    }
    CHECK(injected_412 > 0);
    CHECK(injected_503 > 0);
    CHECK(lost_races > 0);
    CHECK(f.objects(".parts/").empty());
}

TEST_CASE("gcs ledger: a compose whose answer is lost is not applied twice",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    auto w = open_writer(f, f.writer_options());
    std::string expected;
    auto add = [&](const std::string& scene) {
        auto e = sample_entry("job1", scene);
        REQUIRE(w->append(e).ok());
        expected += ledger::to_line(e);
    };
    add("a");
    REQUIRE(w->flush().ok());

    SECTION("the client's retry meets 412 and the metadata shows the part applied") {
        REQUIRE(f.set_faults(
            json::array({{{"fault", "lost-response"}, {"first_n", 1}, {"ops", {"compose"}}}})));
        add("b");
        add("c");
        REQUIRE(w->flush().ok());
        auto composes = f.requests("compose");
        REQUIRE(composes.size() == 3);
        CHECK(composes[1]["fault"] == "lost-response");
        CHECK(composes[2]["status"] == 412);
    }
    SECTION("without client retries the flush fails, and the next one finds the part applied") {
        auto options = f.client_options();
        options.retry.retry.max_attempts = 1;
        auto store = f.make_store(options);
        auto one_shot = GcsLedgerWriter::open(*store, f.clock, f.writer_options("spool2"));
        REQUIRE(one_shot.ok());
        w = std::move(one_shot).value();
        REQUIRE(f.set_faults(
            json::array({{{"fault", "lost-response"}, {"first_n", 1}, {"ops", {"compose"}}}})));
        add("b");
        add("c");
        CHECK_FALSE(w->flush().ok());
        CHECK(f.day_text("2025-11-24") == expected);  // applied, though the writer cannot know
        add("d");
        REQUIRE(w->flush().ok());
        CHECK(f.requests("compose").size() == 3);  // a, the lost one, d: b and c not again
    }
    CHECK(f.day_text("2025-11-24") == expected);
    for (const auto& [id, n] : test::id_counts(f.day_text("2025-11-24"))) {
        CHECK(n == 1);
    }
}

TEST_CASE("gcs ledger: a day object past max_components is rewritten to one component",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    auto options = f.writer_options();
    options.max_components = 3;
    auto w = open_writer(f, options);

    // By rewrite, or by uploading the bytes again when rewrite is refused.
    const bool refuse_rewrite = GENERATE(false, true);
    if (refuse_rewrite) {
        REQUIRE(
            f.set_faults(json::array({{{"fault", "403"}, {"rate", 1.0}, {"ops", {"rewrite"}}}})));
    }
    std::string expected;
    for (int i = 0; i < 7; ++i) {
        auto e = sample_entry("job1", "s" + std::to_string(i));
        REQUIRE(w->append(e).ok());
        expected += ledger::to_line(e);
        REQUIRE(w->flush().ok());
        auto objects = f.objects("2025-11-24.jsonl");
        REQUIRE(objects.size() == 1);
        CHECK(objects[0].value("componentCount", 1) <= 3);
    }
    CHECK(f.day_text("2025-11-24") == expected);
    CHECK_FALSE(f.requests("rewrite").empty());
    int reuploads = 0;
    for (const auto& e : f.requests("upload")) {
        reuploads += e["kind"] == "multipart" && e["status"] == 200 ? 1 : 0;
    }
    CHECK((reuploads > 0) == refuse_rewrite);
    auto state = f.store->stat_day("2025-11-24");
    REQUIRE(state.ok());
    CHECK(state->seq == 7);  // metadata survives the reset
    CHECK(state->recent.size() == 7);
}

TEST_CASE("gcs ledger: threads sharing one writer append and flush without losing a line",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    REQUIRE(f.set_faults(
        json::array({{{"fault", "503"}, {"rate", 0.1}, {"ops", {"compose", "upload", "stat"}}}})));
    auto w = open_writer(f, f.writer_options());
    constexpr int k_threads = 4;
    constexpr int k_lines = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < k_lines; ++n) {
                if (!w->append(sample_entry("t" + std::to_string(i), "s" + std::to_string(n)))
                         .ok() ||
                    (n % 5 == 4 && !w->flush().ok())) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(failures == 0);
    REQUIRE(w->flush().ok());
    const auto counts = test::id_counts(f.day_text("2025-11-24"));
    CHECK(counts.size() == static_cast<std::size_t>(k_threads * k_lines));
    for (const auto& [id, n] : counts) {
        INFO(id);
        CHECK(n == 1);
    }
}

TEST_CASE("gcs ledger: 429 on the day object is waited out with backoff", "[ledger][integration]") {
    GcsLedgerFixture f;
    auto w = open_writer(f, f.writer_options());
    REQUIRE(f.set_faults(json::array({{{"fault", "429"}, {"first_n", 3}, {"ops", {"compose"}}}})));
    const auto before = f.clock.unix_ms();
    REQUIRE(w->append(sample_entry("job1", "a")).ok());
    REQUIRE(w->flush().ok());
    CHECK(f.day_text("2025-11-24") == ledger::to_line(sample_entry("job1", "a")));
    int refused = 0;
    for (const auto& e : f.requests("compose")) {
        refused += e["status"] == 429 ? 1 : 0;
    }
    CHECK(refused == 3);
    CHECK(f.clock.unix_ms() > before);  // the waits went to the clock
}
