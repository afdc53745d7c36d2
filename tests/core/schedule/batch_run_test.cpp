// The batch tier's engine (schedule/batch_run.hpp) over a scripted BatchService: real files for
// the images, manifest, ledger and keys files, a fake clock; no sockets, no sleeps.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "budget/ledger_budget.hpp"
#include "budget/spend.hpp"
#include "core/schedule/runner_fakes.hpp"
#include "ledger/manifest.hpp"
#include "ledger/reservations.hpp"
#include "provider/gemini_batch_wire.hpp"
#include "schedule/batch_run.hpp"

namespace assetgen::test {
namespace {

using provider::BatchInfo;
using provider::BatchState;
using schedule::BatchRunEnd;
using util::Micros;

// A batch service that keeps its batches in memory: each `get` moves a batch one step along
// its schedule; the results are an image per key ($0.04: the test prices apply to every
// tier), or the error scripted for the key.
class ScriptedBatchService final : public provider::BatchService {
public:
    std::vector<std::string> schedule{"RUNNING", "SUCCEEDED"};
    std::map<std::string, util::Status> errors;  // by key
    int stages = 0;
    int creates = 0;
    int cancels = 0;
    int fail_download_after = -1;              // >= 0: the download fails after this many results
    bool finish_on_cancel = false;             // a cancel comes too late: the batch SUCCEEDED
    std::vector<std::uintmax_t> staged_bytes;  // the size of each request file staged

    struct Batch {
        BatchInfo info;
        std::vector<std::string> keys;
        std::size_t step = 0;
        std::vector<std::string> schedule;
    };
    std::map<std::string, Batch> batches;  // by display name
    std::map<std::string, std::vector<std::string>> files;

    std::string request_line(std::string_view key,
                             const provider::ImageRequest& request) const override {
        return provider::build_batch_line(key, request);
    }
    util::Result<std::string> stage_input(const std::string& path,
                                          const std::string& display_name) override {
        ++stages;
        staged_bytes.push_back(std::filesystem::file_size(path));
        std::ifstream in(path);
        std::vector<std::string> keys;
        for (std::string line; std::getline(in, line);) {
            keys.push_back(nlohmann::json::parse(line).at("key").get<std::string>());
        }
        const std::string name = "files/" + std::to_string(stages) + "-" + display_name;
        files[name] = keys;
        return name;
    }
    util::Result<BatchInfo> create_or_find(const std::string& model, const std::string& display,
                                           const std::string& input) override {
        if (auto it = batches.find(display); it != batches.end()) {
            return it->second.info;
        }
        ++creates;
        Batch b;
        b.info.name = "batches/" + std::to_string(creates);
        b.info.display_name = display;
        b.info.model = "models/" + model;
        b.info.state = BatchState::pending;
        b.keys = files.at(input);
        b.info.stats.requests = static_cast<std::int64_t>(b.keys.size());
        b.schedule = schedule;
        batches[display] = b;
        return b.info;
    }
    util::Result<std::optional<BatchInfo>> find(const std::string& display) override {
        if (auto it = batches.find(display); it != batches.end()) {
            return std::optional<BatchInfo>(it->second.info);
        }
        return std::optional<BatchInfo>();
    }
    util::Result<BatchInfo> get(const std::string& name) override {
        for (auto& [d, b] : batches) {
            if (b.info.name == name) {
                if (!provider::is_terminal(b.info.state) && b.step < b.schedule.size()) {
                    b.info.state = provider::parse_batch_state(b.schedule[b.step++]);
                }
                if (b.info.state == BatchState::succeeded) {
                    b.info.responses_file = "files/out-" + d;
                    b.info.stats.succeeded = b.info.stats.requests;
                }
                return b.info;
            }
        }
        return util::Status(util::Code::not_found, name);
    }
    util::Status cancel(const std::string& name) override {
        ++cancels;
        for (auto& [d, b] : batches) {
            if (b.info.name == name && !provider::is_terminal(b.info.state)) {
                // finish_on_cancel: it ended just before the cancel came, which changes nothing.
                b.info.state = finish_on_cancel ? BatchState::succeeded : BatchState::cancelled;
            }
        }
        return util::ok_status();
    }
    util::Result<provider::DownloadStats> download_results(
        const BatchInfo& info,
        const std::function<util::Status(provider::BatchResult&&)>& on_result) override {
        provider::DownloadStats stats;
        for (const auto& key : batches.at(info.display_name).keys) {
            if (fail_download_after >= 0 && stats.lines >= fail_download_after) {
                fail_download_after = -1;
                return util::Status(util::Code::unavailable, "download cut (scripted)");
            }
            provider::BatchResult r;
            r.key = key;
            if (auto e = errors.find(key); e != errors.end()) {
                r.outcome = e->second;
            } else {
                provider::ImageResult image;
                image.data = engine::tiny_png();
                image.mime_type = "image/png";
                image.usage = util::TokenUsage{0, 1000, 0, 1000};
                r.outcome = image;
            }
            ++stats.lines;
            TRY(on_result(std::move(r)));
        }
        return stats;
    }
    util::Status discard_input(const std::string& input) override {
        files.erase(input);
        return util::ok_status();
    }
};

// The fake clock, giving up (throwing) past a number of sleeps: a budget that waits for money
// this very process holds would otherwise wait for ever.
class BoundedClock final : public util::Clock {
public:
    explicit BoundedClock(FakeClock& inner) : m_inner(inner) {}
    std::int64_t unix_ms() const override { return m_inner.unix_ms(); }
    util::SteadyTime steady() const override { return m_inner.steady(); }
    void sleep_for(std::chrono::nanoseconds d) override {
        if (++m_sleeps > 100'000) {
            throw std::runtime_error("100,000 sleeps: the run waits for what it holds itself");
        }
        m_inner.sleep_for(d);
    }

private:
    FakeClock& m_inner;
    std::uint64_t m_sleeps = 0;
};

// The job's files and one process's view of them; run() is one `assetgen run --tier batch`.
struct Bench {
    TempDir dir;
    FakeClock clock;
    BoundedClock bounded{clock};
    // The in-run budget: in memory, or (ledger_budget) the one every process on this machine
    // shares through the ledger folder, which counts the ledger's open reservations.
    bool ledger_budget = false;
    budget::Budget* budget_now = nullptr;   // the run's budget while it runs
    budget::Budget* budget_kept = nullptr;  // set: the run uses it (it outlives the run)
    std::function<void(const schedule::BatchChunkView&)> on_progress;
    budget::PriceTable prices = engine::test_prices();
    ScriptedBatchService service;
    std::atomic<int> stop{0};
    Micros limit = 10'000'000;
    std::vector<schedule::BatchRow> rows;
    schedule::BatchRunSettings settings;

    Bench(int n_rows, int variants) {
        for (int i = 1; i <= n_rows; ++i) {
            schedule::BatchRow br;
            br.row.number = static_cast<std::size_t>(i);
            br.row.where = "b.csv:" + std::to_string(i + 1);
            br.row.scene_id = "s" + std::to_string(i);
            br.row.safe_id = br.row.scene_id;
            br.row.prompt = "a red fox " + std::to_string(i);
            br.row.variants = variants;
            rows.push_back(br);
        }
        settings.job_id = "job1";
        settings.job_dir = dir.file("out/job1");
        settings.records = settings.job_dir;
        settings.user = "u";
        settings.model = engine::k_model;
        settings.poll_every = std::chrono::milliseconds(1000);
        settings.temp_dir = dir.path();
    }
    std::string manifest() const { return dir.file("out/job1/manifest.jsonl"); }

    util::Result<schedule::BatchRunResult> run() {
        schedule::DoneIndex done;
        TRY(ledger::read_manifest(
            manifest(),
            [&](const ledger::ManifestEntry& m) {
                done[schedule::done_key(m.scene_id, m.variant)] = {m.uri, m.cost, m.content,
                                                                   m.reservation};
            },
            nullptr));
        TRY_ASSIGN(const auto chunks,
                   schedule::read_ledger_chunks(dir.file("ledger"), settings.job_id));
        storage::LocalStorage storage;
        ledger::LocalLedgerWriter writer(dir.file("ledger"));
        TRY_ASSIGN(auto mw, ledger::ManifestWriter::open(manifest()));
        schedule::DurableManifest man(std::move(mw));
        std::unique_ptr<budget::Budget> budget;
        if (budget_kept == nullptr && ledger_budget) {
            budget::LedgerBudgetOptions o;
            o.ledger_folder = dir.file("ledger");
            o.user = settings.user;
            o.mode = settings.mode;
            o.limit = limit;
            o.place = manifest();
            TRY_ASSIGN(budget, budget::LedgerBudget::open(o, bounded));
        } else if (budget_kept == nullptr) {
            budget = std::make_unique<budget::MemoryBudget>(limit, 0);
        }
        budget_now = budget_kept != nullptr ? budget_kept : budget.get();
        schedule::BatchRunDeps deps{bounded, service, storage, writer, man,        *budget_now,
                                    prices,  stop,    nullptr, {},     on_progress};
        auto out = schedule::run_batch(settings, deps, rows, done, chunks);
        budget_now = nullptr;
        return out;
    }
    std::vector<ledger::Entry> ledger_lines() const {
        std::vector<ledger::Entry> out;
        REQUIRE(
            ledger::read_ledger(
                dir.file("ledger"), {}, [&](const ledger::Entry& e) { out.push_back(e); }, nullptr)
                .ok());
        return out;
    }
    std::vector<ledger::ManifestEntry> manifest_lines() const {
        std::vector<ledger::ManifestEntry> out;
        REQUIRE(ledger::read_manifest(
                    manifest(), [&](const ledger::ManifestEntry& m) { out.push_back(m); }, nullptr)
                    .ok());
        return out;
    }
};

int count_kind(const std::vector<ledger::Entry>& lines, const std::string& kind) {
    return static_cast<int>(
        std::count_if(lines.begin(), lines.end(), [&](const auto& e) { return e.kind == kind; }));
}

// The batch ran to its end: its n images are charged at the test price and its reservation
// settled without a reason, nothing left held.
void check_charged_and_settled(const Bench& b, int n) {
    ledger::ReservationBook book;
    Micros paid = 0;
    for (const auto& e : b.ledger_lines()) {
        book.add(e);
        if (e.kind == "settle") {
            CHECK(e.error_code.empty());
        } else if (!ledger::is_reservation_line(e)) {
            paid += e.cost;
        }
    }
    CHECK(paid == n * engine::k_image_cost);
    CHECK(book.outstanding() == 0);
}

}  // namespace

TEST_CASE("batch run: chunks are created, waited for, collected and settled",
          "[batch_run][schedule]") {
    Bench b(5, 2);  // 10 requests
    b.settings.batch_size = 4;
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::finished);
    CHECK(r->chunks_created == 3);  // 4 + 4 + 2
    CHECK(b.service.creates == 3);
    CHECK(b.service.batches.count("assetgen-job1-c1") == 1);
    CHECK(b.service.batches.count("assetgen-job1-c3") == 1);
    CHECK(b.service.batches.at("assetgen-job1-c3").keys ==
          std::vector<std::string>{"job1/s5/1", "job1/s5/2"});
    CHECK(r->summary.images_generated == 10);
    CHECK(r->summary.actual_cost == 10 * engine::k_image_cost);
    CHECK(b.manifest_lines().size() == 10);
    CHECK(std::filesystem::exists(b.dir.file("out/job1/s1/s1_v2.png")));
    const auto lines = b.ledger_lines();
    CHECK(count_kind(lines, "reserve") == 3);
    CHECK(count_kind(lines, "settle") == 3);
    Micros paid = 0;
    for (const auto& e : lines) {
        if (e.kind.empty()) {
            CHECK(e.status == "ok");
            CHECK(e.tier == "batch");
            CHECK(e.lease.empty());
            CHECK(e.reservation.rfind("job1/batch/c", 0) == 0);
            paid += e.cost;
        }
        if (e.kind == "settle" && e.reservation == "job1/batch/c3") {
            CHECK(e.settled == 2 * engine::k_image_cost);
            CHECK(e.error_code.empty());
        }
    }
    CHECK(paid == 10 * engine::k_image_cost);
    // The ledger's book: nothing is held once every chunk settled.
    ledger::ReservationBook book;
    for (const auto& e : lines) {
        book.add(e);
    }
    CHECK(book.outstanding() == 0);
    // The poll backoff used the fake clock: one sleep per look that was not the last.
    CHECK(b.clock.sleeps() > 0);
}

TEST_CASE("batch run: a re-run finds the open chunk and never creates it again",
          "[batch_run][schedule]") {
    Bench b(3, 1);
    b.service.schedule = {"RUNNING", "RUNNING", "SUCCEEDED"};
    b.settings.wait = false;
    auto first = b.run();
    REQUIRE(first.ok());
    CHECK(first->end == BatchRunEnd::pending);
    REQUIRE(first->pending.size() == 1);
    CHECK(schedule::batch_pending_line(first->pending[0]) ==
          "batch: assetgen-job1-c1 PENDING 0/3 done; run the same command again to collect");
    CHECK(b.service.creates == 1);
    CHECK(b.service.stages == 1);
    const auto open = b.ledger_lines();
    REQUIRE(count_kind(open, "reserve") == 1);
    CHECK(count_kind(open, "settle") == 0);
    CHECK(open[0].reserved == 3 * engine::k_image_cost);  // the worst case at the batch price
    CHECK(open[0].batch == "assetgen-job1-c1");

    // The same command, later: found by name, polled, nothing staged or created.
    b.settings.wait = true;
    auto second = b.run();
    REQUIRE(second.ok());
    CHECK(second->end == BatchRunEnd::finished);
    CHECK(second->chunks_created == 0);
    CHECK(b.service.creates == 1);
    CHECK(b.service.stages == 1);
    CHECK(second->summary.images_generated == 3);
    CHECK(count_kind(b.ledger_lines(), "settle") == 1);

    // And once more: the job is done, nothing happens.
    auto third = b.run();
    REQUIRE(third.ok());
    CHECK(third->summary.images_generated == 0);
    CHECK(b.service.creates == 1);
    CHECK(b.ledger_lines().size() == open.size() + 3 + 1);
}

TEST_CASE(
    "batch run: a chunk recorded but never created (killed before the create) is created "
    "once by the re-run",
    "[batch_run][schedule]") {
    Bench b(2, 1);
    // The first process wrote the keys file and the reserve line, then died.
    ledger::Reservation r;
    r.id = "job1/batch/c1";
    r.job_id = "job1";
    r.user_id = "u";
    r.model = engine::k_model;
    r.mode = "live";
    r.batch = "assetgen-job1-c1";
    r.requests = 2;
    r.amount = 40'000;
    r.ts = b.clock.unix_ms();
    storage::LocalStorage storage;
    REQUIRE(schedule::write_chunk_keys(storage, b.dir.file("out/job1/batch/c1.keys"),
                                       {"job1/s1/1", "job1/s2/1"})
                .ok());
    {
        ledger::LocalLedgerWriter w(b.dir.file("ledger"));
        REQUIRE(ledger::write_reservation(w, r).ok());
    }
    auto run = b.run();
    REQUIRE(run.ok());
    CHECK(b.service.creates == 1);
    CHECK(run->chunks_created == 0);  // the recorded chunk, not a new one
    CHECK(b.service.batches.count("assetgen-job1-c1") == 1);
    CHECK(run->summary.images_generated == 2);
    CHECK(count_kind(b.ledger_lines(), "reserve") == 1);
}

TEST_CASE("batch run: a collect killed midway and run again writes and charges nothing twice",
          "[batch_run][schedule]") {
    Bench b(4, 1);
    b.service.fail_download_after = 2;
    auto first = b.run();
    REQUIRE_FALSE(first.ok());  // the download broke after two images were stored
    CHECK(b.manifest_lines().size() == 2);
    auto second = b.run();
    REQUIRE(second.ok());
    CHECK(second->summary.images_generated == 2);  // the other two; the first two skipped
    CHECK(b.service.creates == 1);
    const auto man = b.manifest_lines();
    CHECK(man.size() == 4);
    std::set<std::string> scenes;
    for (const auto& m : man) {
        scenes.insert(m.scene_id);
    }
    CHECK(scenes.size() == 4);
    const auto lines = b.ledger_lines();
    int ok = 0;
    for (const auto& e : lines) {
        ok += e.status == "ok" ? 1 : 0;
        if (e.kind == "settle") {
            // Both processes' paid lines: the earlier one's read back from the ledger.
            CHECK(e.settled == 4 * engine::k_image_cost);
        }
    }
    CHECK(ok == 4);
    CHECK(count_kind(lines, "settle") == 1);
}

TEST_CASE("batch run: a chunk that does not fit the budget is refused before anything remote",
          "[batch_run][schedule]") {
    Bench b(3, 1);
    b.limit = 100'000;  // 3 x $0.04 does not fit in $0.10
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::budget_exceeded);
    CHECK(b.service.creates == 0);
    CHECK(b.service.stages == 0);
    CHECK(b.ledger_lines().empty());
    CHECK(r->summary.errors_by_code["BUDGET_EXCEEDED"] == 3);
}

TEST_CASE(
    "batch run: with the ledger's budget each chunk's money counts once, so chunks that fit "
    "the day exactly are all sent",
    "[batch_run][schedule][budget]") {
    Bench b(6, 1);
    b.ledger_budget = true;
    b.settings.batch_size = 2;               // 3 chunks of $0.08 (worst case at the batch price)
    b.limit = 3 * 2 * engine::k_image_cost;  // $0.24: exactly the three
    Micros most = 0;                         // spent + reserved, the most seen while waiting
    b.on_progress = [&](const schedule::BatchChunkView&) {
        most = std::max(most, b.budget_now->spent() + b.budget_now->reserved());
    };
    util::Result<schedule::BatchRunResult> r = util::Status(util::Code::internal, "not run");
    REQUIRE_NOTHROW(r = b.run());
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::finished);
    CHECK(b.service.creates == 3);
    CHECK(r->summary.errors_by_code.count("BUDGET_EXCEEDED") == 0);
    CHECK(r->summary.images_generated == 6);
    // Every chunk reserved and pending: the day holds their worst case once, not twice.
    CHECK(most == b.limit);
    Micros paid = 0;
    for (const auto& e : b.ledger_lines()) {
        paid += ledger::is_reservation_line(e) ? 0 : e.cost;
    }
    CHECK(paid == 6 * engine::k_image_cost);

    // Another run of the same user finds the day spent: the settled chunks count at their cost.
    Bench other(1, 1);
    other.ledger_budget = true;
    other.limit = b.limit;
    other.settings.job_id = "job2";
    std::filesystem::copy(b.dir.file("ledger"), other.dir.file("ledger"),
                          std::filesystem::copy_options::recursive);
    auto refused = other.run();
    INFO(refused.status().message());
    REQUIRE(refused.ok());
    CHECK(refused->end == BatchRunEnd::budget_exceeded);
    CHECK(other.service.creates == 0);
}

TEST_CASE(
    "batch run: a run stopped while its chunks wait holds their money once; the re-run "
    "collects them within the same day's limit",
    "[batch_run][schedule][budget]") {
    Bench b(6, 1);
    b.ledger_budget = true;
    b.settings.batch_size = 2;
    b.limit = 3 * 2 * engine::k_image_cost;
    b.settings.wait = false;
    b.service.schedule = {"RUNNING", "RUNNING", "SUCCEEDED"};
    util::Result<schedule::BatchRunResult> first = util::Status(util::Code::internal, "not run");
    REQUIRE_NOTHROW(first = b.run());
    REQUIRE(first.ok());
    CHECK(first->end == BatchRunEnd::pending);
    CHECK(b.service.creates == 3);
    // What the day holds now, as any process reads it: the three reservations, once.
    budget::SpendQuery q;
    q.user = "u";
    q.mode = ledger::RunMode::live;
    q.now_ms = b.clock.unix_ms();
    auto day = budget::spent_today(b.dir.file("ledger"), q);
    REQUIRE(day.ok());
    CHECK(day->spent == b.limit);
    CHECK(day->reserved_pending == b.limit);

    b.settings.wait = true;
    util::Result<schedule::BatchRunResult> second = util::Status(util::Code::internal, "not run");
    REQUIRE_NOTHROW(second = b.run());
    REQUIRE(second.ok());
    CHECK(second->end == BatchRunEnd::finished);
    CHECK(b.service.creates == 3);
    CHECK(second->summary.images_generated == 6);
    day = budget::spent_today(b.dir.file("ledger"), q);
    REQUIRE(day.ok());
    CHECK(day->spent == 6 * engine::k_image_cost);
    CHECK(day->reserved_pending == 0);
}

TEST_CASE("batch run: chunks are cut by the bytes of their request lines as well as by count",
          "[batch_run][schedule]") {
    Bench one(6, 1);
    REQUIRE(one.run().ok());
    REQUIRE(one.service.staged_bytes.size() == 1);
    const auto line = static_cast<std::int64_t>(one.service.staged_bytes[0] / 6);  // alike

    Bench b(6, 1);
    b.settings.max_input_bytes = 2 * line + line / 2;  // two lines a file
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(b.service.creates == 3);
    CHECK(r->summary.images_generated == 6);
    for (const auto bytes : b.service.staged_bytes) {
        CHECK(static_cast<std::int64_t>(bytes) <= b.settings.max_input_bytes);
    }
    CHECK(schedule::split_chunks(std::vector<std::int64_t>{5, 5, 5, 20, 1}, 10, 10) ==
          std::vector<std::size_t>{2, 1, 1, 1});
    CHECK(schedule::split_chunks(std::vector<std::int64_t>{1, 1, 1}, 2, 100) ==
          std::vector<std::size_t>{2, 1});
}

TEST_CASE("batch run: an expired batch fails its rows and gives the money back",
          "[batch_run][schedule]") {
    Bench b(2, 1);
    b.service.schedule = {"RUNNING", "EXPIRED"};
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->summary.errors_by_code["BATCH_EXPIRED"] == 2);
    CHECK(r->summary.rows_failed == 2);
    CHECK(r->given_back == 2 * engine::k_image_cost);
    bool settled = false;
    for (const auto& e : b.ledger_lines()) {
        if (e.kind == "settle") {
            settled = true;
            CHECK(e.error_code == "BATCH_EXPIRED");
            CHECK(e.settled == 0);
        }
    }
    CHECK(settled);
    // A re-run sends the rows again in a new chunk (the expired batch ran nothing).
    b.service.schedule = {"SUCCEEDED"};
    auto again = b.run();
    REQUIRE(again.ok());
    CHECK(b.service.batches.count("assetgen-job1-c2") == 1);
    CHECK(again->summary.images_generated == 2);
}

TEST_CASE(
    "batch run: a request that failed inside the batch fails its row with its code; "
    "--retry-failed sends it again",
    "[batch_run][schedule]") {
    Bench b(3, 1);
    b.service.errors["job1/s2/1"] = util::Status(util::Code::model_error, "400 INVALID_ARGUMENT");
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->summary.images_generated == 2);
    CHECK(r->summary.errors_by_code["MODEL_ERROR"] == 1);
    REQUIRE(r->failures.size() == 1);
    CHECK(r->failures[0].where == "b.csv:3");
    // A plain re-run leaves it failed (the batch ran to its end) ...
    b.service.errors.clear();
    auto plain = b.run();
    REQUIRE(plain.ok());
    CHECK(b.service.creates == 1);
    CHECK(plain->summary.errors_by_code["BATCH_REQUEST_FAILED"] == 1);
    CHECK(plain->summary.rows_failed == 1);
    // ... --retry-failed sends it in a new chunk.
    b.settings.retry_failed = true;
    auto retried = b.run();
    REQUIRE(retried.ok());
    CHECK(b.service.creates == 2);
    CHECK(b.service.batches.at("assetgen-job1-c2").keys == std::vector<std::string>{"job1/s2/1"});
    CHECK(retried->summary.images_generated == 1);
}

TEST_CASE("batch run: --cancel cancels the open batch and settles it as BATCH_CANCELLED",
          "[batch_run][schedule]") {
    Bench b(2, 1);
    b.service.schedule = {"RUNNING", "RUNNING", "RUNNING"};
    b.settings.wait = false;
    REQUIRE(b.run().ok());
    b.settings.cancel = true;
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::cancelled);
    CHECK(b.service.cancels == 1);
    CHECK(r->given_back == 2 * engine::k_image_cost);
    ledger::ReservationBook book;
    for (const auto& e : b.ledger_lines()) {
        book.add(e);
        if (e.kind == "settle") {
            CHECK(e.error_code == "BATCH_CANCELLED");
        }
    }
    CHECK(book.outstanding() == 0);
}

TEST_CASE("batch run: a billed refusal recorded before the collect broke is not charged again",
          "[batch_run][schedule]") {
    Bench b(3, 1);
    // s2 is refused, and billed (its usage came back); the download breaks after it.
    util::Status refused(util::Code::blocked, "blocked (scripted)");
    refused.with_usage(util::TokenUsage{0, 500, 0, 500});
    b.service.errors["job1/s2/1"] = refused;
    b.service.fail_download_after = 2;
    REQUIRE_FALSE(b.run().ok());
    auto second = b.run();
    REQUIRE(second.ok());
    CHECK(second->summary.images_generated == 1);  // s3; s1 stored and s2 recorded before
    Micros paid = 0;
    int s2_lines = 0;
    Micros settled = -1;
    for (const auto& e : b.ledger_lines()) {
        if (e.kind == "settle") {
            settled = e.settled;
        } else if (!ledger::is_reservation_line(e)) {
            paid += e.cost;
            s2_lines += e.scene_id == "s2" ? 1 : 0;
        }
    }
    CHECK(s2_lines == 1);
    CHECK(settled == paid);
    CHECK(second->summary.rows_failed == 1);  // s2 is still reported failed
}

TEST_CASE(
    "batch run: --cancel with --retry-failed --retry-tier standard hands nothing back to send",
    "[batch_run][schedule]") {
    Bench b(3, 1);
    b.service.errors["job1/s2/1"] = util::Status(util::Code::model_error, "400 INVALID_ARGUMENT");
    REQUIRE(b.run().ok());
    b.settings.cancel = true;
    b.settings.retry_failed = true;
    b.settings.retry_tier = budget::Tier::standard;
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::cancelled);
    CHECK(r->retry.empty());  // the session would send these synchronously, at full price
}

TEST_CASE("batch run: --cancel after the batch SUCCEEDED collects it and gives nothing back",
          "[batch_run][schedule]") {
    Bench b(2, 1);
    b.service.schedule = {"SUCCEEDED"};
    b.settings.wait = false;
    REQUIRE(b.run().ok());
    // The batch ends while nobody watches: it ran, and its requests are billed.
    REQUIRE(b.service.get("batches/1")->state == BatchState::succeeded);
    b.settings.cancel = true;
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(b.service.cancels == 0);
    CHECK(r->end == BatchRunEnd::finished);
    CHECK(r->summary.images_generated == 2);
    check_charged_and_settled(b, 2);
}

// The batch ends between --cancel's look (RUNNING) and its cancel: Google ran and billed every
// request, so the results are collected and charged; settling it BATCH_CANCELLED would give the
// money back to the budget and leave the paid images out of the ledger.
TEST_CASE("batch run: --cancel that comes just after the batch SUCCEEDED still charges it",
          "[batch_run][schedule]") {
    Bench b(2, 1);
    b.service.schedule = {"RUNNING", "RUNNING", "RUNNING"};
    b.settings.wait = false;
    REQUIRE(b.run().ok());
    b.service.finish_on_cancel = true;
    b.settings.cancel = true;
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(b.service.cancels == 1);
    CHECK(r->end == BatchRunEnd::finished);
    CHECK(r->summary.images_generated == 2);
    check_charged_and_settled(b, 2);
}

// The image of s1 is in the manifest when the pending chunk is collected: made by another run
// (no reservation), or by a collect of this very chunk killed before its ledger line. Google
// billed the batch's result for it either way: the settle must count it.
ledger::ManifestEntry stored_before(Bench& b, const std::string& reservation) {
    ledger::ManifestEntry m;
    m.ts = b.clock.unix_ms();
    m.job_id = "job1";
    m.scene_id = "s1";
    m.variant = 1;
    m.uri = b.dir.file("out/job1/s1/s1_v1.png");
    m.sha256 = "x";
    m.bytes = 5;
    m.mime = "image/png";
    m.cost = engine::k_image_cost;
    m.model = engine::k_model;
    m.mode = "live";
    m.ledger_id = "job1/s1/v1";
    m.tier = reservation.empty() ? "standard" : "batch";
    m.reservation = reservation;
    std::filesystem::create_directories(b.dir.file("out/job1/s1"));
    std::ofstream(m.uri) << "other";
    auto w = ledger::ManifestWriter::open(b.manifest());
    REQUIRE(w.ok());
    REQUIRE(w->append(m).ok());
    return m;
}

// The batch is sent and left pending (--no-wait), meanwhile() happens, then it is collected.
util::Result<schedule::BatchRunResult> collected_after(Bench& b,
                                                       const std::function<void()>& meanwhile) {
    b.service.schedule = {"RUNNING", "SUCCEEDED"};
    b.settings.wait = false;
    auto sent = b.run();
    REQUIRE(sent.ok());
    REQUIRE(sent->end == BatchRunEnd::pending);
    meanwhile();
    b.settings.wait = true;
    return b.run();
}

Micros bound_paid(const Bench& b, Micros* settled) {
    Micros paid = 0;
    for (const auto& e : b.ledger_lines()) {
        if (e.kind == "settle") {
            *settled = e.settled;
        } else if (!ledger::is_reservation_line(e) && e.reservation == "job1/batch/c1") {
            paid += e.cost;
        }
    }
    return paid;
}

TEST_CASE("batch run: a billed result for an image another run stored is charged, not stored again",
          "[batch_run][schedule][budget]") {
    Bench b(3, 1);
    // A standard run made s1 while the batch ran.
    auto r = collected_after(b, [&] { stored_before(b, ""); });
    REQUIRE(r.ok());
    CHECK(r->summary.images_generated == 2);
    Micros settled = -1;
    CHECK(bound_paid(b, &settled) == 3 * engine::k_image_cost);
    CHECK(settled == 3 * engine::k_image_cost);
    CHECK(r->summary.actual_cost == 3 * engine::k_image_cost);
    int unused = 0;
    for (const auto& e : b.ledger_lines()) {
        if (e.status == "ALREADY_STORED") {
            ++unused;
            CHECK(e.images == 0);
            CHECK(e.scene_id == "s1");
            CHECK(e.has_tokens);
        }
    }
    CHECK(unused == 1);
    // The other run's image is kept, and listed once.
    std::ifstream in(b.dir.file("out/job1/s1/s1_v1.png"));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(bytes == "other");
    CHECK(b.manifest_lines().size() == 3);
    // Collected again: nothing more is charged.
    auto again = b.run();
    REQUIRE(again.ok());
    CHECK(bound_paid(b, &settled) == 3 * engine::k_image_cost);
}

TEST_CASE(
    "batch run: a collect killed between an image's manifest line and its ledger line charges "
    "it on the re-run, under the manifest's ledger_id",
    "[batch_run][schedule][budget]") {
    Bench b(2, 1);
    auto r = collected_after(b, [&] { stored_before(b, "job1/batch/c1"); });
    REQUIRE(r.ok());
    Micros settled = -1;
    CHECK(bound_paid(b, &settled) == 2 * engine::k_image_cost);
    CHECK(settled == 2 * engine::k_image_cost);
    int ok_lines = 0;
    for (const auto& e : b.ledger_lines()) {
        if (e.id == "job1/s1/v1") {
            ++ok_lines;
            CHECK(e.status == "ok");
            CHECK(e.images == 1);
        }
    }
    CHECK(ok_lines == 1);
}

TEST_CASE(
    "batch run: a billed result for a row taken out of the input while its batch ran is "
    "charged, not stored",
    "[batch_run][schedule][budget]") {
    Bench b(3, 1);
    auto r = collected_after(b, [&] { b.rows.pop_back(); });  // s3 deleted from the sheet
    REQUIRE(r.ok());
    CHECK(r->summary.images_generated == 2);
    Micros settled = -1;
    CHECK(bound_paid(b, &settled) == 3 * engine::k_image_cost);
    CHECK(settled == 3 * engine::k_image_cost);
    int removed = 0;
    for (const auto& e : b.ledger_lines()) {
        if (e.status == "ROW_REMOVED") {
            ++removed;
            CHECK(e.scene_id == "s3");
            CHECK(e.variant == 1);
            CHECK(e.images == 0);
            CHECK(e.cost == engine::k_image_cost);
        }
    }
    CHECK(removed == 1);
    CHECK(b.manifest_lines().size() == 2);
    CHECK_FALSE(std::filesystem::exists(b.dir.file("out/job1/s3/s3_v1.png")));
}

TEST_CASE("batch run: a chunk whose keys file cannot be written holds no budget afterwards",
          "[batch_run][schedule][budget]") {
    Bench b(2, 1);
    budget::MemoryBudget kept(b.limit, 0);
    b.budget_kept = &kept;
    // The records folder's batch/ is a file: the keys file cannot be written.
    b.settings.records = b.dir.file("records");
    std::filesystem::create_directories(b.settings.records);
    std::ofstream(b.dir.file("records/batch")) << "in the way";
    auto r = b.run();
    REQUIRE_FALSE(r.ok());
    CHECK(b.service.creates == 0);
    CHECK(kept.reserved() == 0);
    CHECK(kept.spent() == 0);
    CHECK(kept.remaining() == b.limit);
}

TEST_CASE("batch run: a stop signal while waiting detaches without cancelling",
          "[batch_run][schedule]") {
    Bench b(2, 1);
    b.service.schedule = {"RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"};
    b.stop = 2;  // SIGINT before the first wait
    auto r = b.run();
    REQUIRE(r.ok());
    CHECK(r->end == BatchRunEnd::pending);
    CHECK(b.service.cancels == 0);
    CHECK(count_kind(b.ledger_lines(), "settle") == 0);
}

TEST_CASE("batch chunks: names, ids and sizes", "[batch_run][schedule]") {
    CHECK(schedule::batch_chunk_display_name("j", 3) == "assetgen-j-c3");
    CHECK(schedule::batch_chunk_of("j", "j/batch/c12") == 12);
    CHECK_FALSE(schedule::batch_chunk_of("j", "k/batch/c1").has_value());
    CHECK_FALSE(schedule::batch_chunk_of("j", "j/batch/c0").has_value());
    CHECK_FALSE(schedule::batch_chunk_of("j", "j/batch/cx").has_value());
    // A shard's own: never another shard's, nor the unsharded run's, nor another job's.
    CHECK(schedule::batch_chunk_display_name("j", 3, "1/2") == "assetgen-j-c3-s1of2");
    CHECK(schedule::batch_chunk_reservation_id("j", 3, "1/2") == "j/batch/c3/s1of2");
    CHECK(schedule::batch_chunk_of("j", "j/batch/c3/s1of2", "1/2") == 3);
    CHECK_FALSE(schedule::batch_chunk_of("j", "j/batch/c3/s1of2").has_value());
    CHECK_FALSE(schedule::batch_chunk_of("j", "j/batch/c3", "1/2").has_value());
    CHECK_FALSE(schedule::batch_chunk_of("j", "j/batch/c3/s0of2", "1/2").has_value());
    CHECK(schedule::batch_chunk_display_name("j-c3-s1of2", 1) == "assetgen-j-c3-s1of2-c1");
    CHECK(schedule::split_chunks(10, 4) == std::vector<std::size_t>{4, 4, 2});
    CHECK(schedule::split_chunks(0, 4).empty());
    CHECK(schedule::default_batch_size("4K") == 32);
    CHECK(schedule::default_batch_size("") == 500);
}

}  // namespace assetgen::test
