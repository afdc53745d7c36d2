#include "run_options.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <CLI/CLI.hpp>

#include "budget/amounts.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "context.hpp"
#include "flag_checks.hpp"
#include "provider/dry_run.hpp"
#include "refs/ref_cache.hpp"
#include "run_steps.hpp"
#include "schedule/job.hpp"
#include "schedule/job_files.hpp"
#include "schedule/shard.hpp"
#include "schedule/spend_rate.hpp"
#include "signing/url_refresh.hpp"
#include "storage/gcs_url.hpp"
#include "storage/storage.hpp"
#include "util/atomic_file.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"
#include "util/user_dirs.hpp"
#include "util/utf8.hpp"

namespace assetgen::cli {

util::Result<batch::RefMode> parse_ref_mode(const std::string& text) {
    std::string t = util::to_lower(text);
    for (auto& c : t) {
        if (c == '-') {
            c = '_';
        }
    }
    if (t == "style_only") {
        return batch::RefMode::style_only;
    }
    if (t == "style_and_composition") {
        return batch::RefMode::style_and_composition;
    }
    return util::error(util::Code::usage,
                       "--ref-mode: \"" + text + "\" is not style_only or style_and_composition");
}

namespace {

// A duration flag: "30s", "5m", ...; at least `least`.
util::Result<std::chrono::milliseconds> duration_flag(std::string_view flag,
                                                      const std::string& text,
                                                      std::chrono::milliseconds least) {
    TRY_ASSIGN(auto d, flag_value(flag, util::parse_duration(text)));
    if (d < least) {
        return util::error(util::Code::usage, std::string(flag) + ": \"" + printable(text) +
                                                  "\" must be at least " +
                                                  util::format_duration(least));
    }
    return d;
}

}  // namespace

// Every problem here is a flag's value (exit 2 naming the flag; 78 with file:line when the value
// came from the config file, see Console::fail).
util::Status check_run_options(RunOptions& o, const context::Context& ctx) {
    using std::chrono::milliseconds;
    for (const auto& [flag, value] : {std::pair<const char*, const std::string*>{"--out", &o.out},
                                      {"--ledger", &o.ledger},
                                      {"--results", &o.results},
                                      {"--report", &o.report},
                                      {"--metrics-file", &o.metrics_file},
                                      {"--spool-dir", &o.spool_dir},
                                      {"--ref-cache", &o.ref_cache},
                                      {"--events", &o.events}}) {
        TRY(check_location_flag(flag, *value));
    }
    if (o.input != "-") {
        TRY(check_location_flag("input", o.input));
    }
    for (const auto& [flag, value] : {std::pair<const char*, const std::string*>{"--out", &o.out},
                                      {"--ledger", &o.ledger},
                                      {"--spool-dir", &o.spool_dir},
                                      {"--ref-cache", &o.ref_cache}}) {
        TRY(check_folder_flag(flag, *value));
    }
    TRY_ASSIGN(o.circuit_max_open,
               duration_flag("--circuit-max-open", o.circuit_max_open_text, milliseconds(0)));
    TRY_ASSIGN(o.grace, duration_flag("--grace", o.grace_text, milliseconds(0)));
    TRY_ASSIGN(o.checkpoint_every,
               duration_flag("--checkpoint-every", o.checkpoint_every_text, milliseconds(0)));
    TRY_ASSIGN(o.max_retry_delay,
               duration_flag("--max-retry-delay", o.max_retry_delay_text, milliseconds(0)));
    if (!o.max_spend_rate_text.empty()) {
        TRY_ASSIGN(o.max_spend_rate, schedule::parse_spend_rate(o.max_spend_rate_text));
    }
    if (!o.sign_urls_text.empty()) {
        TRY_ASSIGN(const auto ttl,
                   flag_value("--sign-urls", util::parse_duration(o.sign_urls_text)));
        TRY_ASSIGN(o.sign_ttl_seconds,
                   flag_value("--sign-urls", signing::check_ttl(ttl.count(), "--sign-urls")));
        if (!storage::is_gcs(o.out)) {
            return util::error(
                util::Code::usage,
                "--sign-urls: signed URLs are for images in Cloud Storage; give --out "
                "gs://bucket/prefix (local images are plain paths)");
        }
    }
    {
        const auto tier = budget::parse_tier(o.tier);
        if (!tier || (*tier == budget::Tier::batch && !o.batch_flags)) {
            return util::error(
                util::Code::usage,
                "--tier: \"" + printable(o.tier) + "\" " +
                    (tier ? "is for `assetgen run` (a canary's stages run synchronously); use "
                            "standard, flex or priority"
                          : (o.batch_flags ? "is not standard, flex, priority or batch"
                                           : "is not standard, flex or priority")));
        }
        o.tier_value = *tier;
        TRY(check_batch_options(o));
        if (o.tier_value != budget::Tier::standard && o.tier_value != budget::Tier::batch &&
            o.api == "vertex" && o.mode == Mode::live) {
            return util::error(util::Code::usage,
                               "--tier: \"" + o.tier +
                                   "\" is for the Gemini API (--api gemini); Vertex AI runs "
                                   "at standard or batch");
        }
    }
    // The default follows the tier the requests are sent at (a batch's --retry-tier flex too).
    const auto sent_at = budget::synchronous_tier(o.tier_value, o.retry_failed, o.retry_tier_value);
    TRY_ASSIGN(
        o.request_timeout,
        duration_flag("--request-timeout",
                      o.request_timeout_text.empty()
                          ? std::to_string(budget::default_request_timeout(sent_at).count()) + "m"
                          : o.request_timeout_text,
                      milliseconds(1)));
    TRY(parse_ref_mode(o.ref_mode).status());
    if (o.ref_failure.empty()) {
        // A dry run is a load test: the seed's example URLs, unreachable offline, must not stop it.
        o.ref_failure = o.mode == Mode::live ? "fail" : "skip";
    }
    TRY_ASSIGN(o.ref_timeout, duration_flag("--ref-timeout", o.ref_timeout_text, milliseconds(1)));
    TRY(flag_check("--tz", budget::check_zone(o.tz)));
    TRY_ASSIGN(o.budget_lease_ttl,
               duration_flag("--budget-lease-ttl", o.budget_lease_ttl_text, milliseconds(1000)));
    TRY_ASSIGN(o.job_lock_ttl,
               duration_flag("--job-lock-ttl", o.job_lock_ttl_text, milliseconds(1000)));
    if (o.budget_lease_images < 0) {
        return util::error(util::Code::usage,
                           "--budget-lease-images must be 1 or more (0 = --concurrency)");
    }
    if (!o.job_id.empty()) {
        TRY(flag_check("--job-id", schedule::check_job_id(o.job_id)));
    }
    if (o.mode == Mode::live && !o.simulate.empty()) {
        return util::error(util::Code::usage, "--simulate only applies to --mode dry_run");
    }
    TRY_ASSIGN(o.daily_budget,
               flag_value("--daily-budget-usd",
                          budget::parse_amount(o.daily_budget_text, budget::k_daily_limit,
                                               o.i_mean_it, "--daily-budget-usd")));
    if (!o.price_per_image_text.empty()) {
        TRY_ASSIGN(
            o.price_per_image,
            flag_value("--price-per-image",
                       budget::parse_amount(o.price_per_image_text, budget::k_price_per_image,
                                            o.i_mean_it, "--price-per-image")));
    }
    if (!o.simulate.empty()) {
        TRY(flag_value("--simulate", provider::parse_simulate(o.simulate)).status());
    }
    if (!o.api_base.empty() && !util::starts_with(o.api_base, "https://") &&
        !util::starts_with(o.api_base, "http://")) {
        return util::error(util::Code::usage, "--api-base: \"" + printable(o.api_base) +
                                                  "\" is not an http:// or https:// URL");
    }
    if (storage::is_gcs(o.events)) {
        return util::error(util::Code::usage,
                           "--events: events stream as they happen, to a local file or - (stdout); "
                           "gs:// is not supported");
    }
    // The model catalog (--models, else the built-in one) and the default model it names.
    if (!o.catalog) {
        if (o.models_file.empty()) {
            o.catalog = std::make_shared<const budget::Catalog>(budget::builtin_catalog());
        } else {
            TRY_ASSIGN(auto loaded, budget::load_catalog_file(o.models_file));
            o.catalog = std::make_shared<const budget::Catalog>(std::move(loaded));
        }
    }
    if (o.model.empty()) {
        o.model = o.catalog->default_model;
    }
    {
        std::string_view model = o.model;
        if (util::starts_with(model, "models/")) {
            model.remove_prefix(7);
        }
        const bool plain = !model.empty() && std::all_of(model.begin(), model.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        });
        if (!plain) {
            return util::error(util::Code::usage,
                               "--model: \"" + printable(o.model) +
                                   "\" is not a model id (letters, digits, '.', '_', '-')");
        }
    }
    if (!o.image_size.empty() && o.image_size != "1K" && o.image_size != "2K" &&
        o.image_size != "4K" && o.image_size != "512") {
        return util::error(util::Code::usage, "--image-size: \"" + printable(o.image_size) +
                                                  "\" is not 512, 1K, 2K or 4K");
    }
    // The shard: --shard, else a task runner's environment (CLOUD_RUN_TASK_INDEX, ...).
    const auth::Env& env = ctx.env;
    if (o.merge) {
        if (!o.shard.empty()) {
            return util::error(
                util::Code::usage,
                "--merge combines every shard of the job: give --shards N, not --shard I/N");
        }
        TRY_ASSIGN(o.shards, schedule::resolve_shard_count(o.shards, env));
    } else {
        auto shard = schedule::resolve_shard(o.shard, o.shards, env);
        if (!shard.ok() && !o.shard.empty()) {
            return flag_error("--shard", shard.status());
        }
        TRY(shard.status());
        o.shard = *shard ? (*shard)->text() : "";
        o.shard_attempt = *shard ? (*shard)->attempt : 0;
    }
    // From here on, files are written only below these folders, through no symbolic link.
    // The default spool folder, named without touching the disk (a refused flag creates
    // nothing); it is made, or a fallback chosen with a notice, when the session prepares.
    std::string spool = o.spool_dir;
    if (spool.empty()) {
        spool = !ctx.places.spool_dir.empty()
                    ? ctx.places.spool_dir
                    : util::preferred_user_dir(util::UserDirKind::state, "assetgen/spool",
                                               ctx.places.state_dirs);
    }
    util::confine_writes({o.out, o.ledger, spool, o.no_ref_cache ? std::string() : o.ref_cache},
                         o.follow_symlinks);
    return util::ok_status();
}

util::Result<std::string> run_user(const RunOptions& o) {
    if (!o.user.empty()) {
        return o.user;  // checked by the option's validator
    }
    std::string user = os_user();
    if (!util::is_utf8(user)) {
        return util::error(util::Code::usage, "USER: \"" + printable(user) +
                                                  "\" is not valid UTF-8; give --user NAME");
    }
    return user;
}

refs::RefsOptions make_refs_options(const RunOptions& o, const std::string& base_dir) {
    refs::RefsOptions r;
    r.concurrency = static_cast<std::size_t>(o.ref_concurrency);
    r.timeout = o.ref_timeout;
    r.retries = o.ref_retries;
    r.max_refs = static_cast<std::size_t>(o.max_refs);
    r.allow_private = o.allow_private_refs;
    r.plan_only = o.mode != Mode::live && !o.fetch_refs;
    r.failure_policy =
        o.ref_failure == "skip" ? refs::RefFailurePolicy::skip : refs::RefFailurePolicy::fail;
    r.cache_dir = o.no_ref_cache ? "" : o.ref_cache;
    r.base_dir = base_dir;
    r.allowed_local_dirs = o.allow_local_refs;
    return r;
}

util::Status load_prices(const RunOptions& o, budget::PriceTable& prices) {
    if (o.catalog && !o.models_file.empty()) {
        prices = budget::PriceTable::from_catalog(*o.catalog);
    } else if (!o.models_file.empty()) {
        TRY_ASSIGN(const auto catalog, budget::load_catalog_file(o.models_file));
        prices = budget::PriceTable::from_catalog(catalog);
    }
    if (!o.prices_file.empty()) {
        TRY_ASSIGN(auto text, util::read_file(o.prices_file));
        TRY(prices.load_json(text, o.prices_file, o.i_mean_it));
    }
    if (o.price_per_image) {
        prices.set_price_per_image(*o.price_per_image);
    }
    return util::ok_status();
}

void add_run_options(CLI::App& sub, RunOptions& o) {
    sub.add_option("input", o.input,
                   "batch file: CSV, JSON or JSONL export of the sheet (a path or "
                   "gs://bucket/object), or - for stdin")
        ->required();
    sub.add_option(
           "--max-input-bytes", o.max_input_bytes,
           "the largest batch read, e.g. 1GiB, 200MB (more stops the run with exit 65; stdin and "
           "pipes too)")
        ->default_str("1GiB")
        ->transform(CLI::AsSizeValue(true))
        ->check(CLI::Validator(
            [](std::string& v) {
                return v == "0" ? std::string("must be 1 byte or more") : std::string();
            },
            "SIZE"));
    sub.add_option("--format", o.format,
                   "input format when the extension does not tell: csv, json, jsonl")
        ->check(CLI::IsMember({"csv", "json", "jsonl"}));
    std::map<std::string, Mode> modes{
        {"dry_run", Mode::dry_run}, {"dry-run", Mode::dry_run}, {"live", Mode::live}};
    sub.add_option("--mode", o.mode, "dry_run (synthetic images, no money) or live (the model API)")
        ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case))
        ->default_str("dry_run");
    // An empty folder would mean the current folder or the root (`--ledger ''` put the ledger
    // and its budget journal at /): a usage error.
    const CLI::Validator not_empty(
        [](std::string& v) {
            return v.empty() ? std::string("is empty; give a folder (or gs://bucket/prefix)")
                             : std::string();
        },
        "DIR");
    sub.add_option("--out", o.out,
                   "folder (or gs://bucket/prefix) for images, manifests and summaries")
        ->capture_default_str()
        ->check(not_empty);
    sub.add_option("--ledger", o.ledger,
                   "folder (or gs://bucket/prefix) of the append-only cost ledger")
        ->capture_default_str()
        ->check(not_empty);
    sub.add_option("--job-id", o.job_id,
                   "job id (default: a hash of the input and the settings, so a re-run resumes)");
    sub.add_option("--results", o.results,
                   "write the rows with status, images, cost and error as CSV");
    sub.add_option("--events", o.events, "append JSON-line events to this file (- for stdout)");
    sub.add_flag("--json", o.json, "print the summary as JSON on stdout");
    sub.add_option(
        "--sign-urls", o.sign_urls_text,
        "with a gs:// --out: a V4 signed URL (valid this long, at most 7d) for each image in the "
        "manifest, the results and the report");
    sub.add_option("--metrics-file", o.metrics_file,
                   "write Prometheus metrics here at the end (atomically, for node_exporter's "
                   "textfile collector)");
    sub.add_option("--report", o.report,
                   "write a self-contained HTML contact sheet here (a path or gs://)");
    sub.add_option(
           "--spool-dir", o.spool_dir,
           "local folder for what waits to reach gs:// (job manifests, ledger lines); default "
           "$ASSETGEN_SPOOL_DIR, $XDG_STATE_HOME/assetgen/spool or ~/.local/state/assetgen/spool "
           "when "
           "writable, else $TMPDIR/assetgen-<uid>/state/assetgen/spool")
        ->check(not_empty);
    sub.add_option("--checkpoint-every", o.checkpoint_every_text,
                   "how often to write state snapshots (and publish a gs:// job's manifest); 0 = "
                   "start and end only")
        ->capture_default_str();
    sub.add_flag("-q,--quiet", o.quiet, "only warnings and errors on stderr");
    sub.add_option("--shard", o.shard,
                   "run only shard I of N (I/N, 0 <= I < N): the rows whose scene_id hashes to I "
                   "mod N; default "
                   "from CLOUD_RUN_TASK_INDEX/COUNT, BATCH_TASK_INDEX/COUNT or "
                   "JOB_COMPLETION_INDEX with --shards");
    sub.add_option("--shards", o.shards,
                   "number of shards (with JOB_COMPLETION_INDEX, or with --merge)")
        ->check(whole_number(1, 1'000'000));

    sub.add_option("--concurrency", o.concurrency, "requests in flight at most")
        ->capture_default_str()
        ->check(whole_number(1, 1024));
    sub.add_option("--rpm", o.rpm, "request starts per minute at most (0: unlimited)")
        ->capture_default_str()
        ->check(whole_number(0, 1'000'000));
    sub.add_option("--max-attempts", o.max_attempts, "attempts per image for transient errors")
        ->capture_default_str()
        ->check(whole_number(1, 20));
    sub.add_option("--circuit-max-open", o.circuit_max_open_text,
                   "give up on rows not started when the circuit was open this long in total")
        ->capture_default_str();
    sub.add_option("--grace", o.grace_text,
                   "after SIGINT/SIGTERM, how long in-flight requests may finish")
        ->capture_default_str();
    sub.add_option(
           "--max-retry-delay", o.max_retry_delay_text,
           "live: a server asking to wait longer than this before a retry (RetryInfo, Retry-After) "
           "ends those requests as MODEL_RATE_LIMIT instead")
        ->capture_default_str();
    sub.add_option(
        "--max-spend-rate", o.max_spend_rate_text,
        "keep the spend under USD per window, e.g. 0.50/10m (10m when no window is given): "
        "a request waits until its worst case fits the sliding window");

    sub.add_option("--max-variants", o.max_variants, "largest allowed value of the variants column")
        ->capture_default_str()
        ->check(whole_number(1, 16));
    sub.add_option("--ref-mode", o.ref_mode,
                   "default ref_mode: style_only or style_and_composition")
        ->capture_default_str();
    sub.add_option("--global-ref", o.global_refs, "a reference image for every row (repeatable)");
    sub.add_option("--ref-concurrency", o.ref_concurrency,
                   "reference fetches in flight for the whole batch")
        ->capture_default_str()
        ->check(whole_number(1, 256));
    sub.add_option("--ref-timeout", o.ref_timeout_text,
                   "time limit of one reference fetch (each redirect hop)")
        ->capture_default_str();
    sub.add_option("--ref-retries", o.ref_retries, "extra attempts after a transient fetch failure")
        ->capture_default_str()
        ->check(whole_number(0, 10));
    sub.add_option("--max-refs", o.max_refs,
                   "reference images kept per row (row refs first, then global)")
        ->capture_default_str()
        ->check(whole_number(0, 64));
    sub.add_option("--ref-failure", o.ref_failure,
                   "fail: a row whose ref cannot be fetched fails with REF_FETCH_FAILED; skip: it "
                   "runs without that ref "
                   "(default: fail live, skip in a dry run)")
        ->check(CLI::IsMember({"fail", "skip"}));
    sub.add_flag(
        "--fetch-refs", o.fetch_refs,
        "dry run: fetch the reference images too (default: planned by address, no network)");
    sub.add_flag("--allow-private-refs", o.allow_private_refs,
                 "allow refs on loopback, private and link-local addresses (never the default)");
    o.ref_cache = refs::default_cache_dir(process_places().cache_dirs);
    sub.add_option("--ref-cache", o.ref_cache, "folder of the reference cache shared by runs")
        ->capture_default_str();
    sub.add_flag("--no-ref-cache", o.no_ref_cache, "fetch refs without the disk cache");
    sub.add_option(
        "--allow-local-refs", o.allow_local_refs,
        "a folder local refs may be read from besides the batch file's own (repeatable); "
        "other local refs are refused before anything runs");
    sub.add_flag("--follow-symlinks", o.follow_symlinks,
                 "write through symbolic links below --out, --ledger and the spool folder (refused "
                 "by default)");
    sub.add_option("--model", o.model,
                   "default model (a row's model column overrides it; default: the model catalog's "
                   "default_model, " +
                       budget::builtin_catalog().default_model + ")");
    sub.add_flag("--allow-retired-model", o.allow_retired_model,
                 "send requests for a model the catalog marks shut down (refused with exit 78 "
                 "otherwise)");
    sub.add_option("--image-size", o.image_size,
                   "imageConfig.imageSize: 512, 1K, 2K or 4K (models that support it)");
    sub.add_option("--simulate", o.simulate,
                   "dry run only: latency=100ms,jitter=20ms,error_rate=0.02,seed=7,size=64x64");

    sub.add_option("--api", o.api,
                   "live: gemini (Gemini API, GEMINI_API_KEY) or vertex (Vertex AI, Google Cloud "
                   "credentials)")
        ->capture_default_str()
        ->check(CLI::IsMember({"gemini", "vertex"}));
    sub.add_option("--api-base", o.api_base,
                   "live: send requests to this endpoint instead of Google's");
    sub.add_option(
        "--project", o.project,
        "vertex: Google Cloud project (default: GOOGLE_CLOUD_PROJECT or the key file's)");
    sub.add_option("--location", o.location, "vertex: location, e.g. global or us-central1")
        ->capture_default_str();
    sub.add_option(
        "--request-timeout", o.request_timeout_text,
        "live: time limit of one request (default 5m; 30m for requests sent at flex: --tier flex, "
        "or --retry-tier flex)");
    sub.add_option(
           "--tier", o.tier,
           "inference tier, priced from the model catalog: standard, flex (half price, minutes of "
           "latency, may be shed) or priority (dearer, never shed); sent as service_tier (Gemini "
           "API)")
        ->capture_default_str();

    sub.add_option(
           "--daily-budget-usd", o.daily_budget_text,
           "daily spend limit per user and mode, in dollars (at most 1000000 without --i-mean-it)")
        ->capture_default_str();
    sub.add_option("--budget-policy", o.budget_policy,
                   "refuse: run nothing if the estimate does not fit; partial: run images in order "
                   "while they fit")
        ->capture_default_str()
        ->check(CLI::IsMember({"refuse", "partial"}));
    sub.add_option(
           "--budget-lease-ttl", o.budget_lease_ttl_text,
           "gs:// ledger: a budget lease not renewed for this long (plus a quarter for clock "
           "skew) is taken back from its holder")
        ->capture_default_str();
    sub.add_option(
        "--budget-lease-images", o.budget_lease_images,
        "gs:// ledger: a lease is a slice of the budget for this many requests' worst case "
        "(default: --concurrency)");
    sub.add_option(
           "--job-lock-ttl", o.job_lock_ttl_text,
           "gs:// --out: the job's lock in the bucket not renewed for this long (plus a quarter "
           "for clock skew) is taken over by the next run")
        ->capture_default_str();
    sub.add_flag(
        "--remake-missing", o.remake_missing,
        "gs:// --out: make again the images the job's manifest lists but the bucket lacks (they "
        "cost money; without it they are only reported)");
    sub.add_option("--user", o.user, "whose budget this is (default: the OS user)");
    sub.add_option("--tz", o.tz, "time zone whose midnight starts a budget day (IANA name)")
        ->capture_default_str();
    sub.add_option(
        "--price-per-image", o.price_per_image_text,
        "override the output price of one image, in dollars (at most 10 without --i-mean-it)");
    sub.add_flag("--i-mean-it", o.i_mean_it,
                 "accept a price per image above $10, a price per million tokens above $1000 or a "
                 "daily limit "
                 "above $1000000 (README.md, Prices)");
    sub.add_option("--prices", o.prices_file, "pricing JSON file (see README.md, Prices)")
        ->check(CLI::ExistingFile);
    sub.add_option(
           "--models", o.models_file,
           "a model catalog replacing the built-in one (ids, lifecycle, sizes, prices per tier; "
           "README.md, The model catalog)")
        ->check(CLI::ExistingFile);
}

void register_run(CLI::App& app, Action& action) {
    auto o = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand("run", "turn a batch of rows into images, within the budget");
    add_run_options(*sub, *o);
    add_batch_options(*sub, *o);
    sub->add_flag(
        "--merge", o->merge,
        "combine the records of a sharded job (same options as the shards, with --shards N): the "
        "job's manifest.jsonl, summary.json and --results of every row; exit 1 when rows are "
        "missing");
    sub->footer(
        "Examples:\n"
        "  assetgen run samples/batch-100.csv                  # dry run into ./out and ./ledger\n"
        "  assetgen seed | assetgen run - --json               # from stdin, summary as JSON\n"
        "  assetgen run big.csv --simulate latency=100ms,error_rate=0.02 --concurrency 64\n"
        "  assetgen run batch.csv --results results.csv --events events.jsonl\n"
        "  ASSETGEN_DAILY_BUDGET_USD=5 assetgen run batch.csv --budget-policy partial\n"
        "  assetgen run batch.csv --shard 0/4 ... assetgen run batch.csv --shard 3/4   # four "
        "processes\n"
        "  assetgen run batch.csv --merge --shards 4 --results results.csv           # then "
        "combine\n"
        "Running the same command again resumes the job: images already made are skipped and not "
        "paid again.");
    sub->callback([o, &action] {
        action = [o](Console& c, const context::Context& ctx) { return run_run(*o, c, ctx); };
    });
}

}  // namespace assetgen::cli
