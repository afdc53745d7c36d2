#include "schedule/session.hpp"
#include "schedule/storage_error.hpp"

// The budget side of a session: the pre-flight check against today's spend (read through the
// ledger backend, ledger_backend.hpp, which also opens the in-run budget).

#include <nlohmann/json.hpp>

#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {
namespace {

void say(const std::function<void(const std::string&)>& sink, const std::string& line) {
    if (sink) {
        sink(line);
    }
}

}  // namespace

util::Status JobSession::check_budget() {
    const SessionOptions& o = m_options;
    LedgerBackendOptions lo;
    lo.location = o.ledger;
    lo.spool_dir = o.spool_dir;
    lo.user = o.user;
    lo.mode = o.mode;
    lo.tz = o.tz;
    lo.lease_ttl = o.budget_lease_ttl;
    lo.info = m_log.info;
    lo.warn = m_log.warn;
    TRY_ASSIGN(m_ledger, LedgerBackend::open(std::move(lo), *m_storage, *m_clock));
    TRY_ASSIGN(const PreflightSpend today, m_ledger->spent_today());
    const budget::Spend& spend = today.spend;
    const util::Micros held = today.held;  // by other processes' budget leases (gs:// ledgers)
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
                    {"mode", o.mode},
                    {"images", plan.images_to_run},
                    {"estimateUsd", util::to_dollars(plan.estimate)},
                    {"spentTodayUsd", util::to_dollars(m_spent_before)},
                    {"heldByLeasesUsd", util::to_dollars(held)},
                    {"limitUsd", util::to_dollars(m_limit)},
                    {"remainingUsd", util::to_dollars(remaining)},
                    {"policy", o.budget_policy}};
    say(m_log.info,
        "budget: " + std::to_string(plan.images_to_run) + " images, estimate " +
            util::format_usd(plan.estimate) + "; spent today (" + m_day + " " + o.tz + ", " +
            o.user + ", " + o.mode + ") " + util::format_usd(m_spent_before) + " of " +
            util::format_usd(m_limit) +
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
        if (o.budget_policy == "refuse") {
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

}  // namespace assetgen::schedule
