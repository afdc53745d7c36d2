#pragma once
// One job's plan, made before anything is written: input → job id → history → plan → the
// budget's pre-flight decision. It reads the input, the records it must read (the job's
// manifests, a gs:// job's object list, today's ledger lines) and nothing else; it writes no
// file (a gs:// job's history merges the published manifest into the local spool copy, as
// open_job_history says). `JobSession::prepare` and `merge_shards` both start with it.
//
// The pre-flight decision is a value of the plan (JobPlan::budget), not an error of the step:
// a caller that refuses the run still has the pre-flight's numbers to show.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include <nlohmann/json_fwd.hpp>

#include "schedule/job_files.hpp"
#include "schedule/ledger_backend.hpp"
#include "schedule/plan.hpp"
#include "schedule/shard.hpp"
#include "storage/any_storage.hpp"
#include "util/clock.hpp"
#include "util/money.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct SessionOptions;  // session.hpp
struct SessionLog;

// The budget's pre-flight: today's spend against the daily limit.
struct Preflight {
    util::Micros limit = 0;         // the daily limit
    util::Micros spent_before = 0;  // today's spend before the run (the ledger's lines)
    util::Micros held = 0;          // by other processes' budget leases (gs:// ledgers)
    std::string day;                // today in the options' zone, "YYYY-MM-DD"
    std::string ledger_day;         // today's (UTC) day file or object of the ledger
};

struct JobPlan {
    JobPlan();
    ~JobPlan();
    JobPlan(JobPlan&&) noexcept;
    JobPlan& operator=(JobPlan&&) noexcept;

    std::unique_ptr<BatchInput> input;
    std::optional<Shard> shard;  // set when the options name one
    JobPlace place;
    JobHistory history;
    std::unordered_set<std::string> remade;  // done_keys to make again (--remake-missing)
    Plan plan;
    // What the run is checked against. The ledger is open for reading (the pre-flight); its
    // writer and budget are opened by JobSession::open. Null for a merge.
    std::unique_ptr<LedgerBackend> ledger;
    Preflight spend;
    // The pre-flight as summary.json and `--json` show it ({} for a merge).
    std::unique_ptr<nlohmann::json> preflight;
    // The pre-flight decision: ok, or BUDGET_EXCEEDED (the day is already over its limit, or
    // the plan does not fit under the "refuse" policy).
    util::Status budget;
};

// What plan_job does besides the plan itself.
enum class PlanPurpose {
    run,    // a run: the shard, the job's history, a gs:// job's missing images, the checks
            // before money is spent (changed rows, --max-spend-rate) and the budget pre-flight
    merge,  // `run --merge`: the unsharded job's place and a valid batch; nothing else is read
};

struct JobPlanRequest {
    PlanPurpose purpose = PlanPurpose::run;
    // Called once the job's place is known, before its records are read (merge checks the
    // outputs against it); its error ends the step.
    std::function<util::Status(const SessionOptions&, const JobPlace&)> check_place;
    // Where the batch's private copy goes (the Context's temp folder, $TMPDIR).
    std::string temp_dir = "/tmp";
};

// Plans the job the options describe. Fills in options.plan's shard filter, content settings
// and date as the run uses them. Row problems go to log.error (the first 50) and end in
// INVALID_INPUT; changed rows and --max-spend-rate refusals are errors too. The budget's
// refusal is not: see JobPlan::budget. Needs options.spool_dir when out or ledger is gs://.
util::Result<JobPlan> plan_job(SessionOptions& options, storage::AnyStorage& storage,
                               util::Clock& clock, const SessionLog& log,
                               const JobPlanRequest& request = {});

// The job's ledger (local folder or gs://), opened from the session's options: the pre-flight and
// --merge's restore both read it through this one place.
util::Result<std::unique_ptr<LedgerBackend>> open_ledger_backend(const SessionOptions& options,
                                                                 storage::AnyStorage& storage,
                                                                 util::Clock& clock,
                                                                 const SessionLog& log);

// The budget's pre-flight alone, again (plan_job ends with it): opens job.ledger for reading,
// reads today's spend and sets job.spend, job.preflight and job.budget. A refused run calls it
// once more after restoring its place's lost ledger lines, so its figures count them.
util::Status budget_preflight(JobPlan& job, const SessionOptions& options,
                              storage::AnyStorage& storage, util::Clock& clock,
                              const SessionLog& log);

}  // namespace assetgen::schedule
