#pragma once
// The engine of `run` and `canary`: streams rows, turns each into one request per variant,
// and drives every request through the same gates and the one retry loop: budget reservation,
// circuit breaker, rate limit, then the provider; stores the image, makes its manifest line
// durable, writes its ledger line, and reports rows in input order as they complete.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "batch/row.hpp"
#include "budget/budget_guard.hpp"
#include "budget/prices.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/run_mode.hpp"
#include "provider/image_provider.hpp"
#include "refs/ref_fetcher.hpp"
#include "report/events.hpp"
#include "report/summary.hpp"
#include "schedule/circuit_breaker.hpp"
#include "schedule/durable_log.hpp"
#include "schedule/outcome.hpp"
#include "schedule/policies.hpp"
#include "schedule/spend_rate.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::schedule {

// A validated row plus its input cells in the results file's column order.
struct BatchRow {
    batch::Row row;
    std::vector<std::string> cells;
};

// Yields rows in input order; std::nullopt at the end.
using RowFeed = std::function<util::Result<std::optional<BatchRow>>()>;

// What an earlier run of the same job already made (from its manifest).
struct DoneImage {
    std::string uri;
    util::Micros cost = 0;
    std::string content;  // the manifest line's content key ("" when not recorded)
    // The batch chunk's reservation the manifest line was collected under ("" = none): a
    // collect of that chunk killed between the manifest line and its ledger line finishes it.
    std::string reservation;
};
// Keyed by done_key(scene_id, variant).
using DoneIndex = std::unordered_map<std::string, DoneImage>;
std::string done_key(const std::string& scene_id, int variant);

// Signs a stored image's gs:// location (--sign-urls): the URL and when it expires (ms since
// the epoch), valid from the moment it is called.
using SignUrl =
    std::function<util::Result<std::pair<std::string, std::int64_t>>(const std::string& uri)>;

// With sign_url set and m.uri in gs://: m.signed_url and m.signed_url_expires. A URL that cannot
// be signed does not lose the image: the line keeps its gs:// location (`assetgen refresh` can
// sign it later) and a "sign_failed" event says why (events may be nullptr).
void sign_manifest_entry(const SignUrl& sign_url, ledger::ManifestEntry& m,
                         report::EventSink* events);

struct RunSettings {
    std::string job_id;
    std::string job_dir;  // <out>/<job>: images go below it
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string model;                           // default model; rows may override
    std::string image_size;                      // "" = model default
    budget::Tier tier = budget::Tier::standard;  // --tier: prices, and the ledger's "tier"
    std::string shard;                           // "" or "I/N"
    int concurrency = 4;
    int rpm = 0;  // 0 = unlimited
    RetryPolicy retry;
    BackoffPolicy backoff;
    BreakerSettings breaker;
    std::uint64_t jitter_seed = 0;
    // A server hint (RetryInfo, Retry-After) longer than this ends the request as
    // MODEL_RATE_LIMIT instead of waiting (--max-retry-delay).
    std::chrono::milliseconds max_retry_delay{600'000};
    // --max-spend-rate: at most this much reserved + spent per window (spend_rate.hpp); 0 = none.
    SpendRate max_spend_rate;
    // Reference images for every row, after the row's own: --global-ref flags, then the
    // batch file's "global_refs".
    std::vector<std::string> global_refs;
    // done_keys of images made again (--remake-missing): their ledger ids get a "/remade-<ts>"
    // suffix, so the first charge's id is never reused.
    std::unordered_set<std::string> remade;
};

// The outside world, passed in (tests pass fakes).
struct RunDeps {
    util::Clock& clock;
    provider::ImageProvider& provider;
    storage::Storage& storage;
    ledger::LedgerWriter& ledger;
    DurableManifest& manifest;
    report::EventSink& events;
    budget::Budget& budget;
    const budget::PriceTable& prices;
    // Non-zero (the signal number) once the run must stop dispatching.
    const std::atomic<int>& stop;
    // Fetches rows' reference images; nullptr: rows run without them.
    refs::RefFetcher* refs = nullptr;
    // Signs a stored image's gs:// location (--sign-urls). Empty: no signed URLs.
    SignUrl sign_url;
    // Warnings the operator must see on stderr (a hint over --max-retry-delay). May be empty.
    std::function<void(const std::string&)> warn;
    // Asked before each image is handed out: an error (a gs:// job's lock lost to another run)
    // stops dispatching and ends the run with that status. May be empty.
    std::function<util::Status()> still_held;
};

// How one image (row × variant) ended.
struct VariantOutcome {
    enum class Kind { ok, skipped_done, failed, not_run };
    Kind kind = Kind::not_run;
    std::string uri;
    std::string signed_url;  // with --sign-urls, for a gs:// image
    util::Micros cost = 0;
    std::int64_t latency_ms = 0;
    int attempts = 0;
    util::Code code = util::Code::ok;  // for failed / not_run
    std::string message;
};

// A finished row, reported in input order.
struct RowResult {
    const BatchRow* row = nullptr;
    std::vector<VariantOutcome> variants;
    RowStatus status = RowStatus::failed;  // its name goes into the results file
    util::Code first_error = util::Code::ok;
    std::string first_message;
    util::Micros cost = 0;
};

// A snapshot for progress bars and "progress" events.
struct Progress {
    std::uint64_t images_done = 0;  // generated + skipped + failed
    std::uint64_t images_planned = 0;
    std::uint64_t in_flight = 0;
    util::Micros spent = 0;
};

class Runner {
public:
    Runner(RunSettings settings, RunDeps deps, const DoneIndex& done);

    // Runs every row of the feed. on_row is called in input order, never concurrently, with no
    // runner lock held: a slow one holds up only the thread reporting. Returns the summary; a
    // feed error or a storage failure of the manifest ends the run with that Status.
    util::Result<report::Summary> run(const RowFeed& feed, std::uint64_t images_planned,
                                      const std::function<void(const RowResult&)>& on_row,
                                      const std::function<void(const Progress&)>& on_progress = {});

private:
    struct Impl;
    RunSettings m_settings;
    RunDeps m_deps;
    const DoneIndex& m_done;
};

// How many of the runner's own locks the calling thread holds (0 inside every callback the
// runner makes: on_row, on_progress, the event sink, still_held, warn). For tests.
int runner_locks_held();

// The instruction added to a prompt when reference images go with it (README.md quotes it).
std::string ref_mode_instruction(batch::RefMode mode);

}  // namespace assetgen::schedule
