#pragma once
// The options of `run` (and later `canary`, which shares them), their checks, and small
// helpers for the steps in run.cpp.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/row.hpp"
#include "budget/prices.hpp"
#include "commands.hpp"
#include "ledger/run_mode.hpp"
#include "refs/ref_fetcher.hpp"
#include "schedule/plan.hpp"
#include "schedule/session.hpp"
#include "schedule/spend_rate.hpp"
#include "support.hpp"
#include "util/status.hpp"

// Ends the subcommand with the Status's exit code when expr fails.
#define TRY_EXIT(console, expr)                      \
    do {                                             \
        auto try_exit_status_ = (expr);              \
        if (!try_exit_status_.ok()) {                \
            return (console).fail(try_exit_status_); \
        }                                            \
    } while (false)

#define TRY_ASSIGN_EXIT(console, lhs, expr) \
    TRY_ASSIGN_EXIT_IMPL(console, ASSETGEN_CONCAT(try_exit_result_, __LINE__), lhs, expr)
#define TRY_ASSIGN_EXIT_IMPL(console, tmp, lhs, expr) \
    auto tmp = (expr);                                \
    if (!tmp.ok()) {                                  \
        return (console).fail(tmp.status());          \
    }                                                 \
    lhs = std::move(tmp).value()

namespace assetgen::cli {

using Mode = ledger::RunMode;  // --mode

struct RunOptions {
    std::string input;
    std::string format;  // "" = from the extension
    Mode mode = Mode::dry_run;
    std::string out = "out";
    std::string ledger = "ledger";
    std::string job_id;
    std::string results;
    std::string events;
    std::string spool_dir;       // "" = schedule::default_spool_dir()
    std::string sign_urls_text;  // "" = no signed URLs
    std::int64_t sign_ttl_seconds = 0;
    std::string metrics_file;
    std::string report;
    std::string checkpoint_every_text = "30s";
    std::chrono::milliseconds checkpoint_every{30'000};
    std::string budget_lease_ttl_text = "5m";  // gs:// ledgers: budget leases
    std::chrono::milliseconds budget_lease_ttl{300'000};
    int budget_lease_images = 0;           // 0 = --concurrency
    std::string job_lock_ttl_text = "5m";  // gs:// --out: the job lock in the bucket
    std::chrono::milliseconds job_lock_ttl{300'000};
    bool remake_missing = false;  // gs:// --out: make images the bucket lost again
    bool json = false;
    bool quiet = false;
    std::string shard;      // --shard I/N; after check_run_options: the resolved shard, "" = none
    int shards = 0;         // --shards N (0 = not given)
    int shard_attempt = 0;  // CLOUD_RUN_TASK_ATTEMPT
    bool merge = false;     // --merge: combine the shards' records

    int concurrency = 4;
    int rpm = 0;
    int max_attempts = 4;
    std::string circuit_max_open_text = "5m";
    std::chrono::milliseconds circuit_max_open{300'000};
    std::string grace_text = "30s";
    std::chrono::milliseconds grace{30'000};
    std::string max_retry_delay_text = "10m";
    std::chrono::milliseconds max_retry_delay{600'000};
    std::string max_spend_rate_text;  // "" = no limit
    schedule::SpendRate max_spend_rate;

    int max_variants = 3;
    std::string ref_mode = "style_only";
    std::vector<std::string> global_refs;
    int ref_concurrency = 4;
    std::string ref_timeout_text = "10s";
    std::chrono::milliseconds ref_timeout{10'000};
    int ref_retries = 2;
    int max_refs = 6;
    std::string ref_failure;  // "" = fail in live mode, skip in a dry run
    bool allow_private_refs = false;
    std::uint64_t max_input_bytes = schedule::k_default_max_input_bytes;  // --max-input-bytes
    bool fetch_refs = false;  // a dry run fetches refs only when asked (no network otherwise)
    std::vector<std::string> allow_local_refs;  // folders local refs may be in, besides the batch's
    bool follow_symlinks = false;  // write through symbolic links below --out, --ledger, the spool
    std::string ref_cache;         // set to refs::default_cache_dir() when the options are added
    bool no_ref_cache = false;
    std::string model;  // "" = the model catalog's default_model (after check_run_options: set)
    bool allow_retired_model = false;  // send requests for a model the catalog marks shut down
    std::string image_size;
    std::string simulate;

    std::string api = "gemini";
    std::string api_base;
    std::string project;
    std::string location = "global";
    std::string request_timeout_text;  // "" = 5m, or 30m at --tier flex
    std::chrono::milliseconds request_timeout{300'000};
    std::string tier = "standard";                     // --tier as given
    budget::Tier tier_value = budget::Tier::standard;  // after check_run_options

    std::string daily_budget_text = "10";    // --daily-budget-usd as given
    util::Micros daily_budget = 10'000'000;  // after check_run_options
    std::string budget_policy = "refuse";
    std::string user;
    std::string tz = "UTC";
    std::string price_per_image_text;             // --price-per-image as given, "" = none
    std::optional<util::Micros> price_per_image;  // after check_run_options
    std::string prices_file;
    std::string models_file;  // --models: a model catalog replacing the built-in one
    // The model catalog (built in, or --models), after check_run_options.
    std::shared_ptr<const budget::Catalog> catalog;
    // `run --tier batch` (cli/run_batch.cpp); only `run` has these flags (not canary).
    bool batch_flags = false;
    std::string poll_every_text = "30s";
    std::chrono::milliseconds poll_every{30'000};
    bool no_wait = false;
    bool cancel_batches = false;
    bool retry_failed = false;
    std::string retry_tier;  // --retry-tier as given ("" = batch)
    budget::Tier retry_tier_value = budget::Tier::batch;
    int batch_size = 0;  // 0 = from the image size
    // --api vertex --tier batch: --batch-staging as given; after check_run_options, the resolved
    // gs:// prefix (provider::resolve_vertex_batch_staging).
    std::string batch_staging;
    bool i_mean_it = false;  // amounts above the sane ceilings are meant (budget/amounts.hpp)
};

util::Result<batch::RefMode> parse_ref_mode(const std::string& text);
// Cross-checks options and parses the duration texts. USAGE_ERROR naming the flag; CONFIG_ERROR
// for a task runner's shard variables.
// ctx: the task runner's variables (the shard) and the default spool folder.
util::Status check_run_options(RunOptions& o, const context::Context& ctx);
// The fetcher's options from the --ref-* flags; relative local refs start in base_dir.
refs::RefsOptions make_refs_options(const RunOptions& o, const std::string& base_dir);
// --user, else the OS user ($USER); USAGE_ERROR when it is not valid UTF-8.
util::Result<std::string> run_user(const RunOptions& o);
// Applies --prices and --price-per-image to the table.
util::Status load_prices(const RunOptions& o, budget::PriceTable& prices);
// Adds the options shared by run and canary to a subcommand.
void add_run_options(CLI::App& sub, RunOptions& o);
// `run`'s batch tier flags (cli/run_batch.cpp), and their checks once --tier is known.
void add_batch_options(CLI::App& sub, RunOptions& o);
util::Status check_batch_options(RunOptions& o);
// `run --tier batch --mode live`: the prepared session through the Batch API.
ExitCode run_batch_tier(const RunOptions& o, schedule::JobSession& session, Console& console);

ExitCode run_run(RunOptions& o, Console& console, const context::Context& ctx);

}  // namespace assetgen::cli
