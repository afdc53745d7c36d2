// How this works: one pass over the steps a job takes before it may write or spend, each a
// function below, in the order plan_job calls them. The budget's pre-flight reads today's spend
// through the ledger backend and leaves its verdict in JobPlan::budget.
#include "schedule/job_plan.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "budget/spend.hpp"
#include "schedule/output_paths.hpp"
#include "schedule/session.hpp"
#include "schedule/storage_error.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

void say(const std::function<void(const std::string&)>& f, const std::string& text) {
    if (f) {
        f(text);
    }
}

constexpr std::size_t k_problems_shown = 50;

// Sends the first k_problems_shown lines to sink, then how many more there are.
template <typename T, typename Text>
void say_first(const std::function<void(const std::string&)>& sink, const std::vector<T>& items,
               const std::string& more, Text text) {
    const std::size_t shown = std::min(items.size(), k_problems_shown);
    for (std::size_t i = 0; i < shown; ++i) {
        say(sink, text(items[i]));
    }
    if (items.size() > shown) {
        say(sink, "... and " + std::to_string(items.size() - shown) + " more " + more);
    }
}

// A gs:// job: done images the bucket lacks are reported, or made again (--remake-missing).
util::Status check_bucket(JobPlan& job, const SessionOptions& o, storage::Storage& storage,
                          const SessionLog& log) {
    auto found = missing_images(job.place, job.history.done, storage);
    TRY(as_storage_error(found.status(), job.place.dir));
    const auto& missing = *found;
    if (missing.empty()) {
        return util::ok_status();
    }
    const std::string count = std::to_string(missing.size());
    if (!o.remake_missing) {
        say(log.warn, job.place.dir + ": " + count +
                          " image(s) the job's manifest lists are not in the bucket (" +
                          missing.front().second + (missing.size() > 1 ? ", …" : "") +
                          "); they still count as done. Give --remake-missing to make them again "
                          "(each costs money)");
        return util::ok_status();
    }
    for (const auto& [key, uri] : missing) {
        job.history.done.erase(key);
        job.remade.insert(key);
    }
    say(log.info, job.place.dir + ": " + count +
                      " image(s) the job's manifest lists are not in the bucket (" +
                      missing.front().second + (missing.size() > 1 ? ", …" : "") +
                      "); --remake-missing: making them again");
    return util::ok_status();
}

// The shard's rows, its records' place and what its history says.
util::Status open_history(JobPlan& job, SessionOptions& o, storage::Storage& storage,
                          const SessionLog& log) {
    const std::string& job_id = job.place.job_id;
    if (job.shard) {
        say(log.info, "shard " + o.shard + ": the rows whose scene_id hashes to " +
                          std::to_string(job.shard->index) + " mod " +
                          std::to_string(job.shard->count) + "; records in " + job.place.records);
        if (o.shard_attempt > 0) {
            say(log.info, "shard " + o.shard + ": retried task (attempt " +
                              std::to_string(o.shard_attempt) +
                              "): resuming this shard's manifest; only its missing rows run");
        }
    }
    TRY_ASSIGN(job.history, open_job_history(job.place, storage));
    if (job.history.images_elsewhere > 0) {
        say(log.info, "job " + job_id + ": " + std::to_string(job.history.images_elsewhere) +
                          " image(s) made by the job's " +
                          (job.shard ? "other runs (unsharded or other shards)" : "shards") +
                          " count as done");
    }
    for (const auto& issue : job.history.issues) {
        say(log.warn, issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }
    return check_bucket(job, o, storage, log);
}

// The budget's pre-flight: today's spend, the JSON summary.json and --json show, the verdict.
util::Status preflight_in(JobPlan& job, const SessionOptions& o, storage::AnyStorage& storage,
                          util::Clock& clock, const SessionLog& log) {
    TRY_ASSIGN(job.ledger, open_ledger_backend(o, storage, clock, log));
    TRY_ASSIGN(const PreflightSpend today, job.ledger->spent_today());
    for (const auto& issue : today.spend.issues) {
        say(log.warn, issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }
    Preflight& p = job.spend;
    p.spent_before = today.spend.spent;
    p.held = today.held;
    p.limit = o.daily_limit;
    p.day = today.spend.day;
    p.ledger_day = storage::join(o.ledger, util::utc_date(clock.unix_ms()) + ".jsonl");
    const util::Micros held = p.held;
    const util::Micros remaining = std::max<util::Micros>(0, p.limit - p.spent_before - held);
    // Of the spend, what pending batch jobs hold (ledger reservations) until they settle.
    const std::string pending = today.spend.reserved_pending > 0
                                    ? " (" + util::format_usd(today.spend.reserved_pending) +
                                          " of it held by pending batch jobs)"
                                    : std::string();
    // A refusal names the pending batches that hold part of the day, and what to do.
    const std::string advice = budget::pending_batches_advice(today.spend);
    const Plan& plan = job.plan;
    *job.preflight = {{"day", p.day},
                      {"tz", o.tz},
                      {"user", o.user},
                      {"mode", ledger::run_mode_name(o.mode)},
                      {"images", plan.images_to_run},
                      {"estimateUsd", util::to_dollars(plan.estimate)},
                      {"spentTodayUsd", util::to_dollars(p.spent_before)},
                      {"heldByLeasesUsd", util::to_dollars(held)},
                      {"reservedPendingUsd", util::to_dollars(today.spend.reserved_pending)},
                      {"limitUsd", util::to_dollars(p.limit)},
                      {"remainingUsd", util::to_dollars(remaining)},
                      {"policy", budget::budget_policy_name(o.budget_policy)}};
    say(log.info,
        "budget: " + std::to_string(plan.images_to_run) + " images, estimate " +
            util::format_usd(plan.estimate) + "; spent today (" + p.day + " " + o.tz + ", " +
            o.user + ", " + std::string(ledger::run_mode_name(o.mode)) + ") " +
            util::format_usd(p.spent_before) + pending + " of " + util::format_usd(p.limit) +
            (held > 0 ? ", " + util::format_usd(held) + " held by other processes' leases" : "") +
            ", " + util::format_usd(remaining) + " left");
    if (plan.images_to_run > 0 && p.spent_before > 0 && p.spent_before >= p.limit) {
        // Whatever the policy: a day whose ledger is at or over its limit (a server that billed
        // past the cap, another process, a hand-edited ledger) starts nothing until the next
        // day. What live leases hold is not spent: it may come back, so the policies decide.
        const util::Micros over = p.spent_before - p.limit;
        job.budget = util::error(
            util::Code::budget_exceeded,
            "budget: " + util::format_usd(p.spent_before) + pending + " is already spent today (" +
                p.day + " " + o.tz + ") against the " + util::format_usd(p.limit) + " daily limit" +
                (over > 0 ? ", over it by " + util::format_usd(over) : std::string()) +
                ". Nothing was run." +
                (advice.empty() ? " Wait for the next day or raise --daily-budget-usd;"
                                : advice + " Or raise --daily-budget-usd;") +
                " `assetgen ledger verify` checks the day's lines.");
        return util::ok_status();
    }
    if (util::add_sat(util::add_sat(p.spent_before, held), plan.estimate) > p.limit) {
        const util::Micros missing = p.spent_before + held + plan.estimate - p.limit;
        if (o.budget_policy == budget::BudgetPolicy::refuse) {
            job.budget = util::error(
                util::Code::budget_exceeded,
                "budget: this run needs " + util::format_usd(plan.estimate) + " but only " +
                    util::format_usd(remaining) + " of the " + util::format_usd(p.limit) +
                    " daily limit is left; " + util::format_usd(missing) +
                    " missing. Nothing was run." + advice +
                    " Raise --daily-budget-usd, run fewer rows, or use --budget-policy partial "
                    "to run what fits.");
            return util::ok_status();
        }
        say(log.warn, "budget: " + util::format_usd(missing) +
                          " short; --budget-policy partial runs images in order while they fit");
    }
    return util::ok_status();
}

}  // namespace

JobPlan::JobPlan() : preflight(std::make_unique<nlohmann::json>()) {}
JobPlan::~JobPlan() = default;
JobPlan::JobPlan(JobPlan&&) noexcept = default;
JobPlan& JobPlan::operator=(JobPlan&&) noexcept = default;

util::Result<JobPlan> plan_job(SessionOptions& o, storage::AnyStorage& storage, util::Clock& clock,
                               const SessionLog& log, const JobPlanRequest& request) {
    const bool run = request.purpose == PlanPurpose::run;
    JobPlan job;
    TRY_ASSIGN(job.input,
               BatchInput::open(o.input, o.format, &storage, o.max_input_bytes, request.temp_dir));

    // The job: its id depends on the input bytes and the settings that change the output.
    const std::string job_id = session_job_id(o, *job.input);
    if (run && !o.shard.empty()) {
        TRY_ASSIGN(job.shard, parse_shard(o.shard, "shard"));
        const Shard shard = *job.shard;
        o.plan.accept = [shard](const batch::Row& row) {
            return shard_of(row.scene_id, shard.count) == shard.index;
        };
    }
    job.place = job_place(o.out, job_id, o.spool_dir, job.shard ? job.shard->dir_name() : "");
    TRY(check_job_folder(o.ledger, job.place));
    if (request.check_place) {
        TRY(request.check_place(o, job.place));
    }
    if (run) {
        TRY(open_history(job, o, storage, log));
    }

    PlanOptions plan_options = o.plan;
    if (run) {
        o.plan.content = ContentSettings{o.mode, o.plan.model, o.plan.image_size};
        // whose date the catalog's lifecycle is read at
        o.plan.today = util::utc_date(clock.unix_ms());
        plan_options = o.plan;
    } else {
        plan_options.catalog = nullptr;  // merging sends nothing: no model's lifecycle matters
    }
    TRY_ASSIGN(job.plan, plan_batch(*job.input, plan_options, o.prices, job.history.done));
    for (const auto& w : job.plan.warnings) {
        say(log.warn, w);
    }
    if (!job.plan.problems.empty()) {
        say_first(log.error, job.plan.problems, "problems",
                  [](const batch::Problem& p) { return p.text(); });
        return refuse_problems(*job.input, job.plan);
    }
    if (!run) {
        return job;
    }
    if (!job.plan.changed.empty()) {
        say_first(log.error, job.plan.changed, "changed rows", [&](const ChangedRow& c) {
            return c.where + ": scene_id \"" + c.scene_id + "\": changed since job " + job_id +
                   " made its image(s)";
        });
        return refuse_changed(*job.input, job.plan, job_id);
    }
    if (const SpendRate& rate = o.run.max_spend_rate;
        rate.limit > 0 && job.plan.max_worst_case > rate.limit) {
        return util::error(util::Code::usage,
                           "--max-spend-rate: one request of this batch may cost up to " +
                               util::format_usd(job.plan.max_worst_case) +
                               " (its worst case), more than " + format_spend_rate(rate) +
                               " allows; nothing was sent (raise the limit)");
    }
    const Plan& plan = job.plan;
    say(log.info, "job " + job_id + ": " + std::to_string(plan.rows) + " rows, " +
                      std::to_string(plan.images) + " images (" +
                      std::to_string(plan.images - plan.images_to_run) + " already done), mode " +
                      std::string(ledger::run_mode_name(o.mode)) + ", model " + o.plan.model);
    TRY(preflight_in(job, o, storage, clock, log));
    return job;
}

util::Result<std::unique_ptr<LedgerBackend>> open_ledger_backend(const SessionOptions& o,
                                                                 storage::AnyStorage& storage,
                                                                 util::Clock& clock,
                                                                 const SessionLog& log) {
    LedgerBackendOptions lo;
    lo.location = o.ledger;
    lo.spool_dir = o.spool_dir;
    lo.user = o.user;
    lo.mode = o.mode;
    lo.tz = o.tz;
    lo.lease_ttl = o.budget_lease_ttl;
    lo.info = log.info;
    lo.warn = log.warn;
    return LedgerBackend::open(std::move(lo), storage, clock);
}

util::Status budget_preflight(JobPlan& job, const SessionOptions& options,
                              storage::AnyStorage& storage, util::Clock& clock,
                              const SessionLog& log) {
    return preflight_in(job, options, storage, clock, log);
}

}  // namespace assetgen::schedule
