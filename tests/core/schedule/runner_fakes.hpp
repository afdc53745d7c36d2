#pragma once
// The engine's test bench, in the style of ninja's build_test.cc: a scripted model provider (per
// image, a queue of answers: an image with its usage, an error with or without a hint or billed
// usage, a body that is not an image, a request that hangs until released or abandoned), real
// files in a temp folder for the images, the manifest and the ledger, a recording event sink, a
// fake clock whose sleeps advance time, and a harness that runs a Runner over a list of rows and
// keeps what a user would see. No sockets, no sleeps: threads wait on condition variables, each
// guarded by a real-time limit that fails the test instead of hanging it.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "budget/budget_guard.hpp"
#include "budget/prices.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "provider/dry_run.hpp"
#include "provider/image_provider.hpp"
#include "report/events.hpp"
#include "schedule/durable_log.hpp"
#include "schedule/job.hpp"
#include "schedule/runner.hpp"
#include "storage/storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace assetgen::test::engine {

using namespace std::chrono_literals;

// How long a test thread waits for the engine to reach a state before the test fails.
inline constexpr std::chrono::seconds k_patience{10};

// The test model's prices: $0.04 an image (1000 output tokens at $40 per million), nothing for
// input, no thinking or text allowance; so the worst case of a request is its estimate, $0.04.
inline constexpr util::Micros k_image_cost = 40'000;
inline constexpr const char* k_model = "test-image";
inline budget::PriceTable test_prices() {
    auto prices = budget::PriceTable::builtin();
    auto st = prices.load_json(
        R"({"models": {"test-image": {"input_per_mtok": 0, "output_image_per_mtok": 40,
        "output_text_per_mtok": 40, "thinking_per_mtok": 40, "per_image": {"": 0.04}, "image_tokens": {"": 1000},
        "tokens_per_ref_image": 0, "max_thinking_tokens": 0, "text_allowance_tokens": 0}}})",
        "test-prices.json");
    if (!st.ok()) {
        throw std::runtime_error("test prices: " + st.message());
    }
    return prices;
}

// One answer of the scripted provider.
struct Answer {
    enum class Kind { image, error, not_an_image, hang };
    Kind kind = Kind::image;
    util::TokenUsage usage{0, 1000, 0, 1000};  // one $0.04 image
    util::Status status;                       // for error

    static Answer image(std::int64_t output_tokens = 1000) {
        Answer a;
        a.usage = util::TokenUsage{0, output_tokens, 0, output_tokens};
        return a;
    }
    static Answer error(util::Code code, std::string message = "scripted failure") {
        Answer a;
        a.kind = Kind::error;
        a.status = util::Status(code, std::move(message));
        return a;
    }
    // A 429 with a RetryInfo hint.
    static Answer rate_limited(std::chrono::milliseconds hint) {
        Answer a = error(util::Code::rate_limited, "429 RESOURCE_EXHAUSTED");
        a.status.with_retry_after(hint).with_http_status(429);
        return a;
    }
    // A safety block that Google billed (the prompt's tokens and 100 thinking tokens: $0.004).
    static Answer blocked() {
        Answer a = error(util::Code::blocked, "IMAGE_SAFETY");
        a.status.with_usage(util::TokenUsage{0, 0, 100, 0});
        return a;
    }
    // A 200 whose image bytes are not an image, billed as one image.
    static Answer not_an_image() {
        Answer a;
        a.kind = Kind::not_an_image;
        return a;
    }
    // Blocks until the test releases it (then an image) or abandons it (then CANCELLED, as the
    // live transport answers once --grace ran out).
    static Answer hang() {
        Answer a;
        a.kind = Kind::hang;
        return a;
    }
};

// A 2x2 PNG: what every scripted image answer carries.
inline const std::string& tiny_png() {
    static const std::string png = provider::encode_png_rgb(2, 2, std::string(12, '\x7f'));
    return png;
}

class ScriptedProvider final : public provider::ImageProvider {
public:
    struct Call {
        std::string scene_id;
        int variant = 0;
        int attempt = 0;
        util::SteadyTime at;
        std::int64_t max_output_tokens = 0;
    };

    explicit ScriptedProvider(util::Clock& clock) : m_clock(clock) {}

    // The answers to the requests for one image, in order; after them, the default answer.
    void script(const std::string& scene_id, int variant, std::vector<Answer> answers) {
        std::lock_guard lock(m_mutex);
        auto& q = m_scripts[key(scene_id, variant)];
        q.insert(q.end(), answers.begin(), answers.end());
    }
    void set_default(Answer a) {
        std::lock_guard lock(m_mutex);
        m_default = std::move(a);
    }
    // Every call waits until `target` calls are in flight at once (or `total` calls were made):
    // shows how many the engine lets run together.
    void gather(int target, int total) {
        std::lock_guard lock(m_mutex);
        m_gather_target = target;
        m_gather_total = total;
    }
    // Runs inside each call, after the answer is chosen and before it is returned (a hook for
    // "the process died here").
    void on_answer(std::function<void(const Call&)> f) {
        std::lock_guard lock(m_mutex);
        m_on_answer = std::move(f);
    }

    util::Result<provider::ImageResult> generate(const provider::ImageRequest& req) override {
        std::unique_lock lock(m_mutex);
        Call call{req.scene_id, req.variant, req.attempt, m_clock.steady(), req.max_output_tokens};
        m_calls.push_back(call);
        ++m_in_flight;
        m_max_in_flight = std::max(m_max_in_flight, m_in_flight);
        m_changed.notify_all();
        Answer a = m_default;
        auto it = m_scripts.find(key(req.scene_id, req.variant));
        if (it != m_scripts.end() && !it->second.empty()) {
            a = it->second.front();
            it->second.pop_front();
        }
        if (m_gather_target > 0) {
            const std::uint64_t gen = m_generation;
            if (m_in_flight >= m_gather_target ||
                static_cast<int>(m_calls.size()) >= m_gather_total) {
                ++m_generation;
                m_changed.notify_all();
            } else {
                wait_locked(lock, [&] { return m_generation != gen; });
            }
        }
        bool abandoned = false;
        if (a.kind == Answer::Kind::hang) {
            ++m_hanging;
            m_changed.notify_all();
            wait_locked(lock, [&] { return m_releases > 0 || m_abandon; });
            --m_hanging;
            if (m_releases > 0) {
                --m_releases;
                a = Answer::image();
            } else {
                abandoned = true;
            }
        }
        auto hook = m_on_answer;
        lock.unlock();
        if (hook) {
            hook(call);
        }
        lock.lock();
        --m_in_flight;
        m_changed.notify_all();
        lock.unlock();
        if (abandoned) {
            return util::Status(util::Code::cancelled,
                                "generateContent: abandoned while in flight (stopped)");
        }
        if (a.kind == Answer::Kind::error) {
            return a.status;
        }
        provider::ImageResult r;
        r.data =
            a.kind == Answer::Kind::not_an_image ? std::string("<html>busy</html>") : tiny_png();
        r.mime_type = "image/png";
        r.usage = a.usage;
        return r;
    }

    // Blocks until n calls hang at once.
    bool wait_hanging(int n) {
        std::unique_lock lock(m_mutex);
        return wait_locked(lock, [&] { return m_hanging >= n; });
    }
    // Lets n hanging calls answer with an image.
    void release(int n) {
        std::lock_guard lock(m_mutex);
        m_releases += n;
        m_changed.notify_all();
    }
    // Every hanging call (and every later one) ends CANCELLED.
    void abandon() {
        std::lock_guard lock(m_mutex);
        m_abandon = true;
        m_changed.notify_all();
    }
    // Blocks until m_calls has n entries.
    bool wait_calls(std::size_t n) {
        std::unique_lock lock(m_mutex);
        return wait_locked(lock, [&] { return m_calls.size() >= n; });
    }

    std::vector<Call> calls() const {
        std::lock_guard lock(m_mutex);
        return m_calls;
    }
    std::vector<Call> calls_for(const std::string& scene_id, int variant) const {
        std::vector<Call> out;
        for (const auto& c : calls()) {
            if (c.scene_id == scene_id && c.variant == variant) {
                out.push_back(c);
            }
        }
        return out;
    }
    int max_in_flight() const {
        std::lock_guard lock(m_mutex);
        return m_max_in_flight;
    }

private:
    static std::string key(const std::string& scene_id, int variant) {
        return scene_id + "#" + std::to_string(variant);
    }
    template <class Pred>
    bool wait_locked(std::unique_lock<std::mutex>& lock, Pred pred) {
        return m_changed.wait_for(lock, k_patience, pred);
    }

    util::Clock& m_clock;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, std::deque<Answer>> m_scripts;
    Answer m_default;
    std::vector<Call> m_calls;
    int m_in_flight = 0;
    int m_max_in_flight = 0;
    int m_gather_target = 0;
    int m_gather_total = 0;
    std::uint64_t m_generation = 0;
    int m_hanging = 0;
    int m_releases = 0;
    bool m_abandon = false;
    std::function<void(const Call&)> m_on_answer;
};

class RecordingEvents final : public report::EventSink {
public:
    // Called on the emitting thread before each event is recorded (set before the run).
    std::function<void(const std::string&)> on_emit;
    void emit(const std::string& event, const nlohmann::json& fields) override {
        if (on_emit) {
            on_emit(event);
        }
        std::lock_guard lock(m_mutex);
        m_events.emplace_back(event, fields);
    }
    std::vector<nlohmann::json> of(const std::string& event) const {
        std::lock_guard lock(m_mutex);
        std::vector<nlohmann::json> out;
        for (const auto& [e, f] : m_events) {
            if (e == event) {
                out.push_back(f);
            }
        }
        return out;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::pair<std::string, nlohmann::json>> m_events;
};

// Local storage that can fail (the process died, or the disk broke) at a chosen put.
class TestStorage final : public storage::Storage {
public:
    // Called before each put (an error: nothing is written) and after each that succeeded (an
    // error from it is returned), with its location.
    std::function<util::Status(const std::string&)> before_put;
    std::function<util::Status(const std::string&)> after_put;
    util::Status put(const std::string& location, std::string_view data,
                     const std::string& type) override {
        if (before_put) {
            TRY(before_put(location));
        }
        TRY(m_local.put(location, data, type));
        ++m_puts;
        return after_put ? after_put(location) : util::ok_status();
    }
    util::Result<std::string> get(const std::string& location) override {
        return m_local.get(location);
    }
    util::Result<bool> exists(const std::string& location) override {
        return m_local.exists(location);
    }
    util::Result<std::vector<std::string>> list(const std::string& prefix) override {
        return m_local.list(prefix);
    }
    int puts() const { return m_puts.load(); }

private:
    storage::LocalStorage m_local;
    std::atomic<int> m_puts{0};
};

// The local ledger writer with hooks before and after each line, and a flush that can fail.
class TestLedger final : public ledger::LedgerWriter {
public:
    explicit TestLedger(std::string folder) : m_local(std::move(folder)) {}
    std::function<util::Status(const ledger::Entry&)> before_append;
    std::function<util::Status(const ledger::Entry&)> after_append;
    std::function<util::Status()> on_flush;
    util::Status append(const ledger::Entry& e) override {
        if (before_append) {
            TRY(before_append(e));
        }
        TRY(m_local.append(e));
        return after_append ? after_append(e) : util::ok_status();
    }
    util::Status flush() override {
        if (on_flush) {
            TRY(on_flush());
        }
        return m_local.flush();
    }

private:
    ledger::LocalLedgerWriter m_local;
};

// A finished row as the user sees it (RowResult points into the runner's memory).
struct SeenRow {
    std::string scene_id;
    std::string status;
    util::Code first_error = util::Code::ok;
    std::string first_message;
    util::Micros cost = 0;
    std::vector<schedule::VariantOutcome> variants;
};

// Rows "r1", "r2", ... with the given variants each.
inline std::vector<schedule::BatchRow> rows(int n, int variants = 1) {
    std::vector<schedule::BatchRow> out;
    for (int i = 1; i <= n; ++i) {
        schedule::BatchRow b;
        b.row.number = static_cast<std::size_t>(i + 1);
        b.row.where = "batch.csv:" + std::to_string(i + 1);
        b.row.scene_id = "r" + std::to_string(i);
        b.row.safe_id = b.row.scene_id;
        b.row.prompt = "product on clean bg #" + std::to_string(i);
        b.row.variants = variants;
        b.cells = {b.row.scene_id, b.row.prompt, std::to_string(variants)};
        out.push_back(std::move(b));
    }
    return out;
}

// One job's folder and the engine's world around it. Build it, adjust settings or fakes, run.
struct Bench {
    TempDir dir;
    FakeClock clock;
    ScriptedProvider provider{clock};
    TestStorage storage;
    TestLedger ledger{dir.file("ledger")};
    RecordingEvents events;
    budget::PriceTable prices = test_prices();
    std::optional<budget::MemoryBudget> budget_;
    std::atomic<int> stop{0};
    schedule::RunSettings settings;
    std::function<util::Status()> still_held;
    // When set, the run's group commit works on these files (made from the job's manifest
    // writer), paced by nothing; else the manifest alone (DurableManifest(writer)).
    std::function<std::unique_ptr<schedule::GroupFiles>(ledger::ManifestWriter)> group_files;
    // Called with each row before it is recorded, and with each progress snapshot (may be empty).
    std::function<void(const schedule::RowResult&)> on_row;
    std::function<void(const schedule::Progress&)> on_progress;
    std::vector<std::string> warnings;
    std::mutex warn_mutex;

    Bench(util::Micros limit = 1'000'000'000) {
        budget_.emplace(limit, 0);
        settings.job_id = "job-test";
        settings.job_dir = dir.file("out/job-test");
        settings.user = "tester";
        settings.mode = ledger::RunMode::live;
        settings.model = k_model;
        settings.concurrency = 1;
        settings.backoff.base = 1000ms;
        settings.backoff.cap = 8000ms;
        settings.jitter_seed = 7;
    }
    budget::MemoryBudget& budget() { return *budget_; }
    std::string manifest_path() const { return dir.file("out/job-test/manifest.jsonl"); }
    std::string ledger_dir() const { return dir.file("ledger"); }

    struct Outcome {
        util::Result<report::Summary> summary = util::Status(util::Code::internal, "not run");
        std::vector<SeenRow> rows;
    };

    // What JobSession::open does before a run: the ledger lines that manifest lines promise but
    // the ledger lacks (a crash between the two writes) are appended. Returns how many.
    std::size_t reconcile() {
        auto n = schedule::reconcile_ledger(manifest_path(), ledger_dir(), ledger, clock.unix_ms());
        if (!n.ok()) {
            throw std::runtime_error("reconcile: " + n.status().message());
        }
        return *n;
    }

    // Runs the rows as the job's next run: what its manifest holds counts as done.
    Outcome run(const std::vector<schedule::BatchRow>& batch) {
        auto history = schedule::load_history(manifest_path());
        if (!history.ok()) {
            throw std::runtime_error("history: " + history.status().message());
        }
        auto writer = ledger::ManifestWriter::open(manifest_path());
        if (!writer.ok()) {
            throw std::runtime_error("manifest: " + writer.status().message());
        }
        std::optional<schedule::DurableManifest> own;
        if (group_files) {
            own.emplace(group_files(std::move(writer).value()), clock, schedule::GroupOptions{});
        } else {
            own.emplace(std::move(writer).value());
        }
        schedule::DurableManifest& manifest = *own;
        schedule::RunDeps deps{clock,  provider, storage, ledger, manifest,
                               events, budget(), prices,  stop};
        deps.still_held = still_held;
        deps.warn = [this](const std::string& w) {
            std::lock_guard lock(warn_mutex);
            warnings.push_back(w);
        };
        std::size_t next = 0;
        std::uint64_t planned = 0;
        for (const auto& b : batch) {
            planned += static_cast<std::uint64_t>(b.row.variants);
        }
        schedule::RowFeed feed = [&]() -> util::Result<std::optional<schedule::BatchRow>> {
            if (next >= batch.size()) {
                return std::optional<schedule::BatchRow>();
            }
            return std::optional<schedule::BatchRow>(batch[next++]);
        };
        Outcome out;
        schedule::Runner runner(settings, deps, history->done);
        out.summary = runner.run(
            feed, planned,
            [&](const schedule::RowResult& r) {
                if (on_row) {
                    on_row(r);
                }
                out.rows.push_back(SeenRow{r.row->row.scene_id,
                                           std::string(schedule::row_status_name(r.status)),
                                           r.first_error, r.first_message, r.cost, r.variants});
            },
            on_progress);
        return out;
    }

    // The ledger's good lines.
    std::vector<ledger::Entry> ledger_lines() const {
        std::vector<ledger::Entry> out;
        std::vector<ledger::ReadIssue> issues;
        auto st = ledger::read_ledger(
            ledger_dir(), {}, [&](const ledger::Entry& e) { out.push_back(e); }, &issues);
        if (!st.ok() || !issues.empty()) {
            throw std::runtime_error("ledger unreadable");
        }
        return out;
    }
    util::Micros ledger_total() const {
        util::Micros sum = 0;
        for (const auto& e : ledger_lines()) {
            sum += e.cost;
        }
        return sum;
    }
    std::vector<ledger::ManifestEntry> manifest_lines() const {
        std::vector<ledger::ManifestEntry> out;
        std::vector<ledger::ReadIssue> issues;
        (void)ledger::read_manifest(
            manifest_path(), [&](const ledger::ManifestEntry& m) { out.push_back(m); }, &issues);
        return out;
    }
    // Image files below the job folder.
    std::vector<std::string> image_files() const {
        std::vector<std::string> out;
        const std::filesystem::path root = settings.job_dir;
        if (!std::filesystem::exists(root)) {
            return out;
        }
        for (const auto& f : std::filesystem::recursive_directory_iterator(root)) {
            if (f.is_regular_file() && f.path().extension() == ".png") {
                out.push_back(std::filesystem::relative(f.path(), root).string());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

}  // namespace assetgen::test::engine
