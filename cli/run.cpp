// `assetgen run`: load input → validate → open the job → check the budget → execute → record.
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "run_options.hpp"
#include "schedule/session.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

// --- signals: the first stops dispatch, the second exits at once -------------------------------

std::atomic<int> g_stop{0};

extern "C" void on_signal(int signo) {
    int expected = 0;
    if (!g_stop.compare_exchange_strong(expected, signo)) {
        ::_exit(128 + signo);
    }
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

// After the first signal, in-flight requests get a grace period; then the process exits.
void start_grace_watchdog(std::chrono::milliseconds grace) {
    std::thread([grace] {
        while (g_stop.load() == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::this_thread::sleep_for(grace);
        ::_exit(128 + g_stop.load());
    }).detach();
}

// --- the steps -----------------------------------------------------------------------------

std::string os_user() {
    if (const char* u = std::getenv("USER"); u && *u) {
        return u;
    }
    if (struct passwd* pw = ::getpwuid(::getuid())) {
        return pw->pw_name;
    }
    return "unknown";
}

std::string progress_line(const schedule::Progress& p, std::chrono::steady_clock::time_point t0) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = secs > 0 ? static_cast<double>(p.images_done) / secs : 0;
    const int width = 24;
    const double frac = p.images_planned ? static_cast<double>(p.images_done) / static_cast<double>(p.images_planned) : 1;
    std::string bar(static_cast<size_t>(frac * width), '#');
    bar.resize(width, '-');
    std::string eta = "--";
    if (rate > 0 && p.images_planned >= p.images_done) {
        eta = util::format_duration(std::chrono::milliseconds(
            static_cast<std::int64_t>(static_cast<double>(p.images_planned - p.images_done) / rate * 1000)));
    }
    return "[" + bar + "] " + std::to_string(p.images_done) + "/" + std::to_string(p.images_planned) +
           " images · " + format_rate(rate) + " · ETA " + eta + " · " + util::format_usd(p.spent) +
           " · " + std::to_string(p.in_flight) + " in flight";
}

ExitCode exit_code_for_summary(const report::Summary& s) {
    if (s.status == "interrupted") {
        return g_stop.load() == SIGTERM ? ExitCode::interrupted_term : ExitCode::interrupted_int;
    }
    if (s.status == "budget_exceeded") {
        return ExitCode::budget;
    }
    if (s.status == "upstream_unavailable") {
        return ExitCode::upstream_unavailable;
    }
    if (s.status == "auth_failed") {
        return ExitCode::auth;
    }
    return s.rows_failed > 0 ? ExitCode::rows_failed : ExitCode::ok;
}

// Failed rows on stderr (the first few; the results file and events have them all).
void report_failed_row(const schedule::RowResult& r, int& shown, Console& console) {
    constexpr int k_max_shown = 20;
    if (r.first_error == util::Code::ok || r.status == "interrupted") {
        return;
    }
    if (++shown > k_max_shown) {
        if (shown == k_max_shown + 1) {
            console.error("... more rows failed; see --results or --events");
        }
        return;
    }
    const std::string& where = r.row->row.where;
    const std::string code(util::code_name(r.first_error));
    console.error(r.first_message.rfind(where, 0) == 0 ? code + ": " + r.first_message
                                                       : where + ": " + code + ": " + r.first_message);
}

schedule::SessionOptions session_options(const RunOptions& o, const std::string& user) {
    schedule::SessionOptions so;
    so.input = o.input;
    so.format = o.format;
    so.out = o.out;
    so.ledger = o.ledger;
    so.job_id = o.job_id;
    so.spool_dir = o.spool_dir;
    so.results = o.results;
    so.events = o.events;
    so.user = user;
    so.mode = mode_name(o.mode);
    so.tz = o.tz;
    so.budget_policy = o.budget_policy;
    so.daily_limit = util::to_micros(o.daily_budget_usd);
    so.plan.validation.max_variants = o.max_variants;
    so.plan.validation.default_ref_mode = parse_ref_mode(o.ref_mode).value();  // checked before
    so.plan.model = o.model;
    so.plan.image_size = o.image_size;
    so.plan.max_refs = o.max_refs;
    so.plan.global_refs = o.global_refs;
    so.default_ref_mode = o.ref_mode;
    so.run.concurrency = o.concurrency;
    so.run.rpm = o.rpm;
    so.run.retry.max_attempts = o.max_attempts;
    so.run.breaker.max_open = o.circuit_max_open;
    so.provider.live = o.mode == Mode::live;
    so.provider.simulate = o.simulate;
    so.provider.api = o.api;
    so.provider.api_base = o.api_base;
    so.provider.project = o.project;
    so.provider.location = o.location;
    so.provider.timeout = o.request_timeout;
    so.refs = make_refs_options(o, "");
    so.checkpoint_every = o.checkpoint_every;
    so.sign_ttl_seconds = o.sign_ttl_seconds;
    so.metrics_file = o.metrics_file;
    so.report = o.report;
    return so;
}

schedule::SessionLog session_log(Console& console) {
    return {[&console](const std::string& m) { console.info(m); },
            [&console](const std::string& m) { console.warn(m); },
            [&console](const std::string& m) { console.error(m); }};
}

}  // namespace

ExitCode run_run(RunOptions& o, Console& console) {
    console.set_quiet(o.quiet);
    util::Clock& clock = util::system_clock();
    TRY_EXIT(console, check_run_options(o));
    const std::string user = !o.user.empty() ? o.user : os_user();
    auto options = session_options(o, user);
    TRY_EXIT(console, load_prices(o, options.prices));

    nlohmann::json preflight;
    auto prepared = schedule::JobSession::prepare(std::move(options), clock, g_stop, session_log(console), &preflight);
    if (!prepared.ok()) {
        if (prepared.status().code() == util::Code::budget_exceeded && o.json) {
            std::cout << nlohmann::json{{"status", "budget_refused"},
                                        {"preflight", preflight},
                                        {"error", prepared.status().message()}}
                             .dump(2)
                      << "\n";
        }
        return console.fail(prepared.status());
    }
    auto& session = **prepared;
    TRY_EXIT(console, session.open());

    install_signal_handlers();
    start_grace_watchdog(o.grace);
    const auto t0 = std::chrono::steady_clock::now();
    int failed_shown = 0;
    auto summary = session.execute(
        {}, [&](const schedule::RowResult& r) { report_failed_row(r, failed_shown, console); },
        [&](const schedule::Progress& p) { console.progress(progress_line(p, t0)); });
    console.end_progress();
    if (!summary.ok()) {
        return console.fail(summary.status());
    }
    const auto& plan = session.plan();
    summary->images_skipped = plan.images - plan.images_to_run;
    TRY_ASSIGN_EXIT(console, auto summary_json, session.finish(*summary));

    if (o.json) {
        std::cout << summary_json.dump(2) << "\n";
    }
    const auto& s = *summary;
    const auto& place = session.place();
    if (plan.images_to_run == 0) {
        console.info("job " + place.job_id + " was already finished: nothing to do, nothing spent");
    } else {
        console.info(std::to_string(s.images_generated) + " images made, " + std::to_string(s.errors) +
                     " failed, " + std::to_string(s.retries) + " retries in " +
                     util::format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(s.wall_seconds * 1000))) +
                     "; cost " + util::format_usd(s.actual_cost) + " (estimated " +
                     util::format_usd(s.estimated_cost) + ")");
    }
    console.info("images:   " + place.dir + "/");
    console.info("manifest: " + place.published_manifest());
    console.info("summary:  " + storage::join(place.dir, "summary.json"));
    console.info("ledger:   " + session.ledger_day_location());
    if (!o.results.empty()) {
        console.info("results:  " + o.results);
    }
    if (!o.report.empty()) {
        console.info("report:   " + o.report);
    }
    if (!o.metrics_file.empty()) {
        console.info("metrics:  " + o.metrics_file);
    }
    if (s.refs_failed > 0 && o.ref_failure == "skip") {
        console.warn("refs: " + std::to_string(s.refs_failed) +
                     " reference(s) could not be used; their rows ran without them (see the refs events)");
    }
    if (s.status == "budget_exceeded") {
        console.error("budget: the daily limit " + util::format_usd(session.budget_limit()) +
                      " was reached; the rest of the rows end as BUDGET_EXCEEDED");
    } else if (s.status == "upstream_unavailable") {
        console.error("the model stayed unavailable longer than --circuit-max-open; rows not started end as UPSTREAM_UNAVAILABLE");
    } else if (s.status == "auth_failed") {
        console.error("stopped: " + s.first_error);
    } else if (s.status == "interrupted") {
        console.warn("interrupted: in-flight images were finished and recorded; run the same command again to finish the rest");
    }
    return exit_code_for_summary(s);
}

}  // namespace assetgen::cli
