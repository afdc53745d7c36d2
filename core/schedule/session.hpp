#pragma once
// One job from the batch file to its records, for `run` and `canary`:
//   prepare()  input (file, stdin or gs://) → job id → history → plan → budget pre-flight;
//              nothing is written yet, so a refusal costs nothing and leaves no trace
//   open()     the job lock, ledger reconciliation, the manifest, ledger, budget, events,
//              provider and reference fetcher, the first checkpoint
//   execute()  runs the rows a filter accepts (all, or a canary stage); may be called again
//   finish()   summary.json, the results file, the last checkpoint, the "done" event
// Messages for the operator go to the Log; core never prints.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "budget/budget_guard.hpp"
#include "budget/budget_policy.hpp"
#include "budget/prices.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/run_mode.hpp"
#include "provider/factory.hpp"
#include "refs/ref_service.hpp"
#include "report/events.hpp"
#include "report/html_report.hpp"
#include "report/results_csv.hpp"
#include "schedule/job_files.hpp"
#include "schedule/job_plan.hpp"
#include "schedule/ledger_backend.hpp"
#include "schedule/plan.hpp"
#include "schedule/runner.hpp"
#include "schedule/shard.hpp"
#include "storage/any_storage.hpp"

namespace assetgen::context {
struct Context;
}

namespace assetgen::schedule {

class JobResources;
struct BatchRunSettings;  // batch_run.hpp
struct BatchRunResult;
struct BatchChunkView;

struct SessionOptions {
    std::string input;                                          // path, "-" or gs://
    std::string format;                                         // "" = from the extension
    std::uint64_t max_input_bytes = k_default_max_input_bytes;  // --max-input-bytes
    std::string out = "out";
    std::string ledger = "ledger";
    std::string job_id;     // "" = derived from the input and the settings
    std::string spool_dir;  // "" = default_spool_dir()
    std::string results;    // "" = none
    std::string events;     // "" = none, "-" = stdout
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string tz = "UTC";
    budget::BudgetPolicy budget_policy = budget::BudgetPolicy::refuse;
    util::Micros daily_limit = 0;
    budget::PriceTable prices = budget::PriceTable::builtin();
    std::string shard;      // "" or "I/N": run only that shard's rows, with its own records
    int shard_attempt = 0;  // CLOUD_RUN_TASK_ATTEMPT: > 0 is a retried task (said in the log)
    PlanOptions plan;
    std::string default_ref_mode = "style_only";  // for the job id
    RunSettings run;  // concurrency, rpm, retry, breaker; the rest is filled in
    provider::ProviderConfig provider;
    refs::RefsOptions refs;  // base_dir is filled in from the input
    std::chrono::milliseconds checkpoint_every{30'000};
    std::int64_t sign_ttl_seconds = 0;  // --sign-urls: V4 URLs for gs:// images; 0 = none
    std::string metrics_file;           // --metrics-file: "" = none (local or gs://)
    std::string report;                 // --report: "" = none (local or gs://)
    // gs:// ledgers: the budget's leases (budget/gcs_lease_budget.hpp). lease_images 0 = the
    // concurrency.
    std::chrono::milliseconds budget_lease_ttl{300'000};
    int budget_lease_images = 0;
    // A gs:// job whose manifest lists images the bucket no longer has: make them again (they
    // cost money) instead of only reporting them.
    bool remake_missing = false;
    // A gs:// --out: the job lock in the bucket (<job>/lock.json) not renewed for this long
    // (+ a quarter for clock skew) is taken over by the next run.
    std::chrono::milliseconds job_lock_ttl{300'000};
};

// Where the operator hears about it. Any may be empty.
struct SessionLog {
    std::function<void(const std::string&)> info;
    std::function<void(const std::string&)> warn;
    std::function<void(const std::string&)> error;
};

// The job id the options give for this input: options.job_id when set, else the hash of the
// identity (the shard is not part of it: all shards are one job).
std::string session_job_id(const SessionOptions& options, const BatchInput& input);

// The outputs of a run (--results, --report, --metrics-file, --events) checked against its
// input, ledger folder, job folder and spool folder (output_paths.hpp). CONFIG_ERROR; the
// command line calls it after prepare() (before open(), so before anything is written or spent)
// and reports a refusal as a usage error.
util::Status check_session_outputs(const SessionOptions& options, const JobPlace& place);

class JobSession {
public:
    // Reads and checks everything; writes nothing. Row problems are sent to log.error (the
    // first 50) and end in INVALID_INPUT; a budget that cannot cover the plan under the
    // "refuse" policy ends in BUDGET_EXCEEDED (preflight() is then still filled in). ctx
    // (clock, transport, environment, factories) must outlive the session.
    static util::Result<std::unique_ptr<JobSession>> prepare(
        SessionOptions options, const context::Context& ctx, const std::atomic<int>& stop,
        SessionLog log, nlohmann::json* preflight_out = nullptr);
    ~JobSession();

    const std::string& job_id() const { return m_job.place.job_id; }
    const SessionOptions& options() const { return m_options; }
    const JobPlace& place() const { return m_job.place; }
    const Plan& plan() const { return m_job.plan; }
    const nlohmann::json& preflight() const { return *m_job.preflight; }
    util::Micros budget_limit() const { return m_job.spend.limit; }
    const std::string& budget_day() const { return m_job.spend.day; }
    const std::string& ledger_day_location() const { return m_job.spend.ledger_day; }
    storage::AnyStorage& storage() { return *m_storage; }
    // Emits an event to --events (nothing before open() or without --events).
    void emit(const std::string& event, const nlohmann::json& fields);

    // Opens every writer. Call once, after prepare.
    util::Status open();

    // Runs the rows filter accepts (every row when filter is empty) that are not done yet.
    // on_row: as Runner::run (input order, never concurrently); results rows are recorded too.
    util::Result<report::Summary> execute(const std::function<bool(const batch::Row&)>& filter,
                                          const std::function<void(const RowResult&)>& on_row,
                                          const std::function<void(const Progress&)>& on_progress);

    // CONFIG_ERROR naming them when batch chunks of this job (of this shard, or overlapping
    // it) are still pending: a live run would make their images again, billed twice. With
    // batch_tier the run's own chunks (same shard) do not count: it collects them. execute()
    // and execute_batch() (unless --cancel) call it first.
    util::Status refuse_pending_batches(bool batch_tier) const;

    // `run --tier batch` (batch_run.hpp): the plan's rows through the batch service in chunks,
    // from the job's chunks in the ledger. batch's job, places, user, mode, model and size are
    // filled in from the session. Call after open(), then finish() with the result's summary.
    util::Result<BatchRunResult> execute_batch(
        BatchRunSettings batch, const std::function<void(const BatchChunkView&)>& on_progress);

    // Writes the records of a finished (or stopped) run: summary.json (the summary plus
    // "preflight"), the results file, the last checkpoint, the "done" event. Returns the JSON
    // written as summary.json. A results, metrics or report file that cannot be written, or
    // events that were lost, do not stop the others: see write_failures().
    util::Result<nlohmann::json> finish(report::Summary summary);
    // What finish() (and the events stream during the run) could not write, one message each;
    // empty when every record was written. The run must then not end with exit 0.
    const std::vector<std::string>& write_failures() const { return m_write_failures; }

    // Writes a checkpoint now (a background thread also does, every checkpoint_every).
    util::Status checkpoint(const std::string& phase);

private:
    JobSession() = default;
    // A gs:// job: the lock across machines (gcs_job_lock.hpp), after the local one.
    util::Status take_bucket_lock();
    // Lowers --concurrency to what the open-file limit allows (and says so).
    void fit_concurrency();
    // After the job's locks are taken: what other runs of the job made since the plan read its
    // manifests counts as done (session_open.cpp).
    util::Status catch_up_history();
    // Adopts the images a killed run paid for and stored without their manifest line, or makes
    // them again under a new ledger id (adopt_paid.hpp); replans when it finds any.
    util::Status adopt_paid(const std::vector<std::string>& shard_manifests);
    // Before a budget refusal: the ledger lines its place's manifest promises are written back
    // (session_open.cpp), and the pre-flight is read again when there were any.
    void restore_before_refusal();
    void start_checkpoints();
    void stop_checkpoints();

    // The batch tier after its engine (session_batch_rows.cpp): --retry-tier's synchronous
    // retry of result.retry, and every row of the job into --results and --report.
    util::Status retry_batch_failures(budget::Tier tier, const std::vector<BatchRow>& rows,
                                      BatchRunResult& result);
    void record_batch_rows(const std::vector<BatchRow>& rows, BatchRunResult& result);

    // --sign-urls: signs an image's gs:// location with the session's signer, valid from now
    // (the moment the image is recorded, also for a batch collected long after it was sent).
    // Empty without --sign-urls.
    SignUrl url_signer();
    // The runner's settings for this job's rows at `tier` (the plan's, or --retry-tier's).
    RunSettings run_settings(budget::Tier tier) const;

    // True for the rows of this session's shard (every row when it is not a shard).
    bool in_shard(const batch::Row& row) const;

    SessionOptions m_options;
    const context::Context* m_context = nullptr;
    util::Clock* m_clock = nullptr;
    const std::atomic<int>* m_stop = nullptr;
    SessionLog m_log;
    std::vector<std::string> m_write_failures;
    std::unique_ptr<storage::AnyStorage> m_storage;
    // input → job id → history → plan → pre-flight (job_plan.hpp); its ledger backend's writer
    // and budget are opened by open().
    JobPlan m_job;

    std::unique_ptr<JobResources> m_open;  // what open() creates (job_resources.hpp)
};

}  // namespace assetgen::schedule
