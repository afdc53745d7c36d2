#include "run_steps.hpp"

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "util/text.hpp"

namespace assetgen::cli {
namespace {

std::atomic<int> g_stop{0};
std::atomic<bool> g_abandon{false};

extern "C" void on_signal(int signo) {
    int expected = 0;
    if (!g_stop.compare_exchange_strong(expected, signo)) {
        ::_exit(128 + signo);
    }
}

}  // namespace

std::atomic<int>& stop_signal() {
    return g_stop;
}
std::atomic<bool>& abandon_flag() {
    return g_abandon;
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
        // Requests still in flight are abandoned; the run then writes what finished.
        g_abandon.store(true);
        std::this_thread::sleep_for(k_record_time);
        ::_exit(128 + g_stop.load());
    }).detach();
}

void AbandonedRequests::note(const schedule::RowResult& r) {
    bool any = false;
    for (const auto& v : r.variants) {
        if (v.code == util::Code::cancelled && v.message.find("abandoned") != std::string::npos) {
            ++m_requests;
            any = true;
        }
    }
    if (any) {
        m_rows.push_back(r.row->row.where);
    }
}

void AbandonedRequests::report(Console& console, const std::string& grace_text) const {
    if (m_requests == 0) {
        return;
    }
    std::string rows;
    for (std::size_t i = 0; i < m_rows.size() && i < 20; ++i) {
        rows += (i ? ", " : "") + m_rows[i];
    }
    if (m_rows.size() > 20) {
        rows += ", ... (" + std::to_string(m_rows.size() - 20) + " more)";
    }
    console.warn(
        "interrupted: " + std::to_string(m_requests) +
        " request(s) still in flight after --grace " + grace_text +
        " were abandoned (no image, not recorded as paid; the model may still bill them), rows: " +
        rows);
}

ExitCode report_write_failures(const schedule::JobSession& session, ExitCode code,
                               Console& console) {
    for (const auto& failure : session.write_failures()) {
        console.error(failure);
    }
    if (session.write_failures().empty()) {
        return code;
    }
    return code == ExitCode::ok || code == ExitCode::rows_failed ? ExitCode::storage_io : code;
}

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
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = secs > 0 ? static_cast<double>(p.images_done) / secs : 0;
    const int width = 24;
    const double frac = p.images_planned ? static_cast<double>(p.images_done) /
                                               static_cast<double>(p.images_planned)
                                         : 1;
    std::string bar(static_cast<size_t>(frac * width), '#');
    bar.resize(width, '-');
    std::string eta = "--";
    if (rate > 0 && p.images_planned >= p.images_done) {
        eta = util::format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(
            static_cast<double>(p.images_planned - p.images_done) / rate * 1000)));
    }
    return "[" + bar + "] " + std::to_string(p.images_done) + "/" +
           std::to_string(p.images_planned) + " images · " + format_rate(rate) + " · ETA " + eta +
           " · " + util::format_usd(p.spent) + " · " + std::to_string(p.in_flight) + " in flight";
}

// Failed rows on stderr (the first few; the results file and events have them all).
void report_failed_row(const schedule::RowResult& r, int& shown, Console& console) {
    constexpr int k_max_shown = 20;
    if (r.first_error == util::Code::ok || r.status == schedule::RowStatus::interrupted) {
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
    console.error(r.first_message.rfind(where, 0) == 0
                      ? code + ": " + r.first_message
                      : where + ": " + code + ": " + r.first_message);
}

schedule::SessionOptions session_options(const RunOptions& o, const std::string& user) {
    schedule::SessionOptions so;
    so.input = o.input;
    so.format = o.format;
    so.max_input_bytes = o.max_input_bytes;
    so.out = o.out;
    so.ledger = o.ledger;
    so.job_id = o.job_id;
    so.spool_dir = o.spool_dir;
    so.results = o.results;
    so.events = o.events;
    so.user = user;
    so.mode = o.mode;
    so.tz = o.tz;
    so.budget_policy = budget::parse_budget_policy(o.budget_policy).value();  // checked before
    so.daily_limit = o.daily_budget;
    so.plan.validation.max_variants = o.max_variants;
    so.plan.validation.default_ref_mode = parse_ref_mode(o.ref_mode).value();  // checked before
    so.plan.validation.confine_local_refs = true;
    so.plan.validation.ref_base_dir = batch::ref_base_dir(o.input);
    so.plan.validation.local_ref_dirs = o.allow_local_refs;
    so.plan.model = o.model;
    so.plan.catalog = o.catalog;
    so.plan.allow_retired_model = o.allow_retired_model;
    so.plan.image_size = o.image_size;
    so.plan.tier = o.tier_value;
    so.plan.max_refs = o.max_refs;
    so.plan.global_refs = o.global_refs;
    so.default_ref_mode = o.ref_mode;
    so.run.concurrency = o.concurrency;
    so.run.rpm = o.rpm;
    so.run.retry.max_attempts = o.max_attempts;
    so.run.breaker.max_open = o.circuit_max_open;
    so.run.max_retry_delay = o.max_retry_delay;
    so.run.max_spend_rate = o.max_spend_rate;
    so.provider.live = o.mode == Mode::live;
    so.provider.simulate = o.simulate;
    so.provider.api = o.api;
    so.provider.api_base = o.api_base;
    so.provider.project = o.project;
    so.provider.location = o.location;
    so.provider.timeout = o.request_timeout;
    // Vertex batch prediction is a batch service, not a service_tier of generateContent.
    if (o.tier_value != budget::Tier::standard &&
        !(o.tier_value == budget::Tier::batch && o.api == "vertex")) {
        so.provider.service_tier = std::string(budget::tier_name(o.tier_value));
    }
    so.provider.abort = &g_abandon;
    so.provider.batch_staging = o.batch_staging;
    so.refs = make_refs_options(o, "");
    so.checkpoint_every = o.checkpoint_every;
    so.budget_lease_ttl = o.budget_lease_ttl;
    so.budget_lease_images = o.budget_lease_images;
    so.job_lock_ttl = o.job_lock_ttl;
    so.remake_missing = o.remake_missing;
    so.sign_ttl_seconds = o.sign_ttl_seconds;
    so.metrics_file = o.metrics_file;
    so.report = o.report;
    so.shard = o.shard;
    so.shard_attempt = o.shard_attempt;
    return so;
}

schedule::SessionLog session_log(Console& console) {
    return {[&console](const std::string& m) { console.info(m); },
            [&console](const std::string& m) { console.warn(m); },
            [&console](const std::string& m) { console.error(m); }};
}

util::Result<std::unique_ptr<schedule::JobSession>> prepare_session(
    schedule::SessionOptions options, const context::Context& ctx, bool json, Console& console) {
    nlohmann::json preflight;
    auto prepared = schedule::JobSession::prepare(std::move(options), ctx, stop_signal(),
                                                  session_log(console), &preflight);
    if (prepared.ok()) {
        auto session = std::move(prepared).value();
        // Nothing the run writes at its end may land on what it reads or keeps: a usage error.
        if (auto st = schedule::check_session_outputs(session->options(), session->place());
            !st.ok()) {
            return util::error(util::Code::usage, st.message());
        }
        return session;
    }
    if (prepared.status().code() == util::Code::budget_exceeded && json) {
        std::cout << nlohmann::json{{"status", "budget_refused"},
                                    {"preflight", preflight},
                                    {"error", prepared.status().message()}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    }
    return std::move(prepared).status();
}

std::optional<ExitCode> stop_exit_code(const report::Summary& s) {
    using schedule::RunEnd;
    switch (s.status.value_or(RunEnd::error)) {
        case RunEnd::interrupted:
            return g_stop.load() == SIGTERM ? ExitCode::interrupted_term
                                            : ExitCode::interrupted_int;
        case RunEnd::budget_exceeded:
            return ExitCode::budget;
        case RunEnd::upstream_unavailable:
        case RunEnd::quota_daily:
        case RunEnd::spend_cap:
        case RunEnd::billing_cap:
            return ExitCode::upstream_unavailable;
        case RunEnd::auth_failed:
            return ExitCode::auth;
        case RunEnd::pending:
            return ExitCode::tempfail;
        case RunEnd::ok:
        case RunEnd::failed:
        case RunEnd::error:
            break;
    }
    return std::nullopt;
}

}  // namespace assetgen::cli
