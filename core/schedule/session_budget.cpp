#include "schedule/session.hpp"
#include "schedule/storage_error.hpp"

// The budget side of a session: the pre-flight check against today's spend, and the in-run
// budget (a ledger folder's shared journal, or a gs:// ledger's leases).

#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "budget/gcs_lease_budget.hpp"
#include "budget/gcs_spend.hpp"
#include "budget/ledger_budget.hpp"
#include "budget/spend.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "ledger/ledger_spool.hpp"
#include "storage/gcs_wire.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {
namespace {

void say(const std::function<void(const std::string&)>& sink, const std::string& line) {
    if (sink) {
        sink(line);
    }
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "?";
    }
    return buf;
}

}  // namespace

util::Status JobSession::check_budget() {
    const SessionOptions& o = m_options;
    budget::SpendQuery q{o.user, o.mode, o.tz, m_clock->unix_ms()};
    budget::Spend spend;
    util::Micros held = 0;  // by other processes' budget leases (gs:// ledgers)
    if (storage::is_gcs(o.ledger)) {
        TRY(open_ledger_store());
        auto spent = budget::spent_today_gcs(*m_ledger_store, m_ledger_spool, q, *m_clock);
        TRY(as_storage_error(spent.status(), "ledger " + o.ledger));
        spend = std::move(spent).value();
        auto leased = budget::held_by_leases_now(
            *m_ledger_store, m_ledger_spool, budget::SpendScope{o.user, o.mode, o.tz, spend.day},
            *m_clock, o.budget_lease_ttl);
        TRY(as_storage_error(leased.status(), "ledger " + o.ledger));
        held = *leased;
    } else {
        TRY_ASSIGN(spend, budget::spent_today(o.ledger, q));
    }
    for (const auto& issue : spend.issues) {
        say(m_log.warn, issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }
    m_spent_before = spend.spent;
    m_limit = o.daily_limit;
    m_day = spend.day;
    m_ledger_day = storage::join(o.ledger, util::utc_date(m_clock->unix_ms()) + ".jsonl");
    const util::Micros remaining = std::max<util::Micros>(0, m_limit - m_spent_before - held);
    const Plan& plan = m_plan;
    *m_preflight = {{"day", m_day},
                    {"tz", o.tz},
                    {"user", o.user},
                    {"mode", ledger::run_mode_name(o.mode)},
                    {"images", plan.images_to_run},
                    {"estimateUsd", util::to_dollars(plan.estimate)},
                    {"spentTodayUsd", util::to_dollars(m_spent_before)},
                    {"heldByLeasesUsd", util::to_dollars(held)},
                    {"limitUsd", util::to_dollars(m_limit)},
                    {"remainingUsd", util::to_dollars(remaining)},
                    {"policy", budget::budget_policy_name(o.budget_policy)}};
    say(m_log.info,
        "budget: " + std::to_string(plan.images_to_run) + " images, estimate " +
            util::format_usd(plan.estimate) + "; spent today (" + m_day + " " + o.tz + ", " +
            o.user + ", " + std::string(ledger::run_mode_name(o.mode)) + ") " +
            util::format_usd(m_spent_before) + " of " + util::format_usd(m_limit) +
            (held > 0 ? ", " + util::format_usd(held) + " held by other processes' leases" : "") +
            ", " + util::format_usd(remaining) + " left");
    if (plan.images_to_run > 0 && m_spent_before > 0 && m_spent_before >= m_limit) {
        // Whatever the policy: a day whose ledger is at or over its limit (a server that billed
        // past the cap, another process, a hand-edited ledger) starts nothing until the next
        // day. What live leases hold is not spent: it may come back, so the policies decide.
        const util::Micros over = m_spent_before - m_limit;
        return util::error(
            util::Code::budget_exceeded,
            "budget: " + util::format_usd(m_spent_before) + " is already spent today (" + m_day +
                " " + o.tz + ") against the " + util::format_usd(m_limit) + " daily limit" +
                (over > 0 ? ", over it by " + util::format_usd(over) : std::string()) +
                ". Nothing was run. Wait for the next day or raise --daily-budget-usd; "
                "`assetgen ledger verify` checks the day's lines.");
    }
    if (util::add_sat(util::add_sat(m_spent_before, held), plan.estimate) > m_limit) {
        const util::Micros missing = m_spent_before + held + plan.estimate - m_limit;
        if (o.budget_policy == budget::BudgetPolicy::refuse) {
            return util::error(util::Code::budget_exceeded,
                               "budget: this run needs " + util::format_usd(plan.estimate) +
                                   " but only " + util::format_usd(remaining) + " of the " +
                                   util::format_usd(m_limit) + " daily limit is left; " +
                                   util::format_usd(missing) +
                                   " missing. Nothing was run. Raise --daily-budget-usd, run fewer "
                                   "rows, or use --budget-policy partial to run what fits.");
        }
        say(m_log.warn, "budget: " + util::format_usd(missing) +
                            " short; --budget-policy partial runs images in order while they fit");
    }
    return util::ok_status();
}

util::Result<std::unique_ptr<budget::Budget>> JobSession::open_budget(
    ledger::LedgerWriter& ledger) {
    const SessionOptions& o = m_options;
    if (!m_ledger_store) {
        budget::LedgerBudgetOptions bo{o.ledger, o.user, o.mode, o.tz, m_limit};
        // The place whose dead runs' holdings this run may release: open() has restored their
        // unrecorded ledger lines (reconcile_ledger) before the budget opens.
        std::error_code ec;
        const auto place = std::filesystem::absolute(m_place.manifest(), ec);
        bo.place = ec ? m_place.manifest() : place.lexically_normal().string();
        TRY_ASSIGN(auto b, budget::LedgerBudget::open(bo, *m_clock));
        return std::unique_ptr<budget::Budget>(std::move(b));
    }
    budget::LeaseBudgetOptions lo;
    lo.user = o.user;
    lo.mode = o.mode;
    lo.tz = o.tz;
    lo.limit = m_limit;
    lo.store = m_ledger_store.get();
    lo.spool_dir = m_ledger_spool;
    lo.ttl = o.budget_lease_ttl;
    lo.lease_images =
        o.budget_lease_images > 0 ? o.budget_lease_images : std::max(1, o.run.concurrency);
    lo.holder = "job " + m_place.job_id + (o.shard.empty() ? "" : ", shard " + o.shard) + ", pid " +
                std::to_string(::getpid()) + " on " + host_name();
    lo.flush_ledger = [&ledger] { return ledger.flush(); };
    // Dead leases of this place (spool folder + job place) hold their room until a run that
    // can push their spool and has written back their missing lines (open() did both when the
    // writer recovered every dead spool) releases them.
    {
        TRY_ASSIGN(const std::string spool_id, ledger::spool_folder_id(m_ledger_spool));
        std::error_code ec;
        const auto place = std::filesystem::absolute(m_place.manifest(), ec);
        lo.place = spool_id + ":" + (ec ? m_place.manifest() : place.lexically_normal().string());
        const auto* writer = dynamic_cast<const ledger::GcsLedgerWriter*>(&ledger);
        lo.release_dead = writer != nullptr && writer->recovery().problems.empty();
    }
    lo.log = m_log.info;
    TRY_ASSIGN(auto b, budget::GcsLeaseBudget::open(lo, *m_clock));
    say(m_log.info, "budget: shared through leases in " + b->document().to_string() +
                        " (slices of " + std::to_string(lo.lease_images) +
                        " requests' worst case, renewed every " +
                        util::format_duration(lo.ttl / 4) + ")");
    return std::unique_ptr<budget::Budget>(std::move(b));
}

}  // namespace assetgen::schedule
