// `assetgen run`: load input → validate → open the job → check the budget → execute → record.
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "batch/reader.hpp"
#include "batch/validate.hpp"
#include "budget/budget_guard.hpp"
#include "budget/ledger_budget.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "auth/env.hpp"
#include "provider/factory.hpp"
#include "refs/ref_location.hpp"
#include "refs/ref_service.hpp"
#include "report/events.hpp"
#include "report/results_csv.hpp"
#include "report/summary.hpp"
#include "run_options.hpp"
#include "schedule/job.hpp"
#include "schedule/runner.hpp"
#include "storage/storage.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"

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

struct Input {
    std::string path;          // a local file to read (stdin is spooled to a temp file)
    std::string display_name;  // what messages call it
    std::string sha256;
    batch::Format format = batch::Format::csv;
    std::string spooled;       // temp file to remove at the end, if any
    ~Input() {
        if (!spooled.empty()) {
            ::unlink(spooled.c_str());
        }
    }
};

util::Status load_input(const RunOptions& o, Input& in) {
    if (o.input == "-") {
        char tmpl[] = "/tmp/assetgen-stdin-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd < 0) {
            return util::error(util::Code::storage_io, "cannot create a temp file for stdin");
        }
        ::close(fd);
        in.spooled = tmpl;
        std::ofstream out(in.spooled, std::ios::binary);
        out << std::cin.rdbuf();
        out.close();
        in.path = in.spooled;
        in.display_name = "<stdin>";
        if (o.format.empty()) {
            in.format = batch::Format::csv;
        }
    } else if (storage::is_gcs(o.input)) {
        return util::error(util::Code::config, o.input + ": gs:// input is not supported yet; "
                                                         "copy the object to a local file first");
    } else {
        in.path = o.input;
        in.display_name = o.input;
        if (::access(o.input.c_str(), R_OK) != 0) {
            return util::error(util::Code::not_found,
                               o.input + ": no such file (give a CSV, JSON or JSONL export, or - for stdin)");
        }
    }
    if (!o.format.empty()) {
        TRY_ASSIGN(in.format, batch::parse_format(o.format));
    } else if (o.input != "-") {
        TRY_ASSIGN(in.format, batch::format_from_path(o.input));
    }
    std::ifstream f(in.path, std::ios::binary);
    util::Sha256Stream h;
    char buf[1 << 16];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        h.update(std::string_view(buf, static_cast<size_t>(f.gcount())));
    }
    in.sha256 = h.hex();
    return util::ok_status();
}

struct Plan {
    std::vector<std::string> columns;  // results file: the input's columns in order
    std::vector<std::string> global_refs;  // --global-ref flags, then the file's global_refs
    std::size_t rows = 0;
    std::size_t rows_with_refs = 0;
    std::size_t images = 0;            // all variants of all rows
    std::size_t images_to_run = 0;     // minus those already done
    util::Micros estimate = 0;         // of images_to_run
};

// Pass 1: validates the whole batch (every problem, then stop once) and estimates the cost of
// what is left to do.
util::Status validate_batch(const RunOptions& o, const Input& in, const budget::PriceTable& prices,
                            const schedule::DoneIndex& done, Plan& plan, Console& console) {
    batch::ValidationOptions vo;
    vo.max_variants = o.max_variants;
    TRY_ASSIGN(vo.default_ref_mode, parse_ref_mode(o.ref_mode));
    TRY_ASSIGN(auto source, batch::open_rows(in.path, in.format, in.display_name));
    batch::Validator validator(vo);
    std::set<std::string> models;
    // The file's global refs are known only at its end, so the estimate waits for them.
    struct ToRun {
        std::string model;
        std::size_t prompt_bytes;
        std::size_t row_refs;
        int images;
    };
    std::vector<ToRun> to_run;
    batch::validate_all(*source, validator, in.display_name, [&](batch::Row&& row) {
        ++plan.rows;
        plan.rows_with_refs += row.refs.empty() ? 0 : 1;
        const std::string model = row.model.empty() ? o.model : row.model;
        models.insert(model);
        ToRun t{model, row.prompt.size(), row.refs.size(), 0};
        for (int v = 1; v <= row.variants; ++v) {
            ++plan.images;
            if (!done.count(schedule::done_key(row.scene_id, v))) {
                ++t.images;
            }
        }
        plan.images_to_run += static_cast<std::size_t>(t.images);
        if (t.images > 0) {
            to_run.push_back(std::move(t));
        }
    });
    plan.columns = source->columns();
    plan.global_refs = o.global_refs;
    for (const auto& g : source->global_refs()) {
        plan.global_refs.push_back(g);
    }
    for (const auto& g : plan.global_refs) {
        if (auto st = refs::check_ref(g); !st.ok()) {
            return util::error(util::Code::invalid_input, "global refs: " + st.message());
        }
    }
    for (const auto& t : to_run) {
        const std::size_t ref_images =
            std::min(static_cast<std::size_t>(o.max_refs), t.row_refs + plan.global_refs.size());
        auto est = prices.estimate(budget::RequestShape{t.model, o.image_size, t.prompt_bytes, ref_images});
        if (est.ok()) {
            plan.estimate += *est * t.images;
        }
    }
    for (const auto& m : models) {
        TRY(prices.find(m).status());
    }
    const auto& problems = validator.problems();
    if (!problems.empty()) {
        const size_t shown = std::min<size_t>(problems.size(), 50);
        for (size_t i = 0; i < shown; ++i) {
            console.error(problems[i].text());
        }
        if (problems.size() > shown) {
            console.error("... and " + std::to_string(problems.size() - shown) + " more problems");
        }
        return util::error(util::Code::invalid_input,
                           in.display_name + ": " + std::to_string(problems.size()) +
                               " problem(s); nothing was run and nothing was spent");
    }
    return util::ok_status();
}

// Pass 2: the same file again, row by row, with each row's cells in the results' column order.
class Feed {
public:
    static util::Result<std::unique_ptr<Feed>> open(const RunOptions& o, const Input& in,
                                                    const std::vector<std::string>& columns) {
        auto f = std::unique_ptr<Feed>(new Feed());
        batch::ValidationOptions vo;
        vo.max_variants = o.max_variants;
        TRY_ASSIGN(vo.default_ref_mode, parse_ref_mode(o.ref_mode));
        f->m_validator = std::make_unique<batch::Validator>(vo);
        TRY_ASSIGN(f->m_source, batch::open_rows(in.path, in.format, in.display_name));
        f->m_columns = columns;
        return f;
    }

    util::Result<std::optional<schedule::BatchRow>> next() {
        for (;;) {
            TRY_ASSIGN(auto raw, m_source->next());
            if (!raw) {
                return std::optional<schedule::BatchRow>();
            }
            auto row = m_validator->check(*raw);
            if (!row) {
                return util::error(util::Code::invalid_input,
                                   raw->where + ": the batch changed while it was running");
            }
            schedule::BatchRow br;
            br.row = std::move(*row);
            br.cells.assign(m_columns.size(), "");
            for (const auto& [k, v] : raw->cells) {
                for (size_t i = 0; i < m_columns.size(); ++i) {
                    if (m_columns[i] == k) {
                        br.cells[i] = v;
                        break;
                    }
                }
            }
            return std::optional<schedule::BatchRow>(std::move(br));
        }
    }

private:
    Feed() = default;
    std::unique_ptr<batch::RowSource> m_source;
    std::unique_ptr<batch::Validator> m_validator;
    std::vector<std::string> m_columns;
};

std::string os_user() {
    if (const char* u = std::getenv("USER"); u && *u) {
        return u;
    }
    if (struct passwd* pw = ::getpwuid(::getuid())) {
        return pw->pw_name;
    }
    return "unknown";
}

// Pre-flight: spend so far today, the estimate, the limit; refuse or go.
struct Preflight {
    util::Micros spent = 0;
    util::Micros limit = 0;
    std::string day;
};

util::Status check_budget(const RunOptions& o, const Plan& plan, const std::string& user,
                          util::Clock& clock, Preflight& pre, Console& console, nlohmann::json& out) {
    budget::SpendQuery q{user, mode_name(o.mode), o.tz, clock.unix_ms()};
    TRY_ASSIGN(auto spend, budget::spent_today(o.ledger, q));
    for (const auto& issue : spend.issues) {
        console.warn(issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }
    pre.spent = spend.spent;
    pre.limit = util::to_micros(o.daily_budget_usd);
    pre.day = spend.day;
    const util::Micros remaining = std::max<util::Micros>(0, pre.limit - pre.spent);
    out = {{"day", pre.day},
           {"tz", o.tz},
           {"user", user},
           {"mode", mode_name(o.mode)},
           {"images", plan.images_to_run},
           {"estimateUsd", util::to_dollars(plan.estimate)},
           {"spentTodayUsd", util::to_dollars(pre.spent)},
           {"limitUsd", util::to_dollars(pre.limit)},
           {"remainingUsd", util::to_dollars(remaining)},
           {"policy", o.budget_policy}};
    console.info("budget: " + std::to_string(plan.images_to_run) + " images, estimate " +
                 util::format_usd(plan.estimate) + "; spent today (" + pre.day + " " + o.tz + ", " +
                 user + ", " + mode_name(o.mode) + ") " + util::format_usd(pre.spent) + " of " +
                 util::format_usd(pre.limit) + ", " + util::format_usd(remaining) + " left");
    if (pre.spent + plan.estimate > pre.limit) {
        const util::Micros missing = pre.spent + plan.estimate - pre.limit;
        if (o.budget_policy == "refuse") {
            return util::error(util::Code::budget_exceeded,
                               "budget: this run needs " + util::format_usd(plan.estimate) + " but only " +
                                   util::format_usd(remaining) + " of the " + util::format_usd(pre.limit) +
                                   " daily limit is left; " + util::format_usd(missing) +
                                   " missing. Nothing was run. Raise --daily-budget-usd, run fewer "
                                   "rows, or use --budget-policy partial to run what fits.");
        }
        console.warn("budget: " + util::format_usd(missing) +
                     " short; --budget-policy partial runs images in order while they fit");
    }
    return util::ok_status();
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

std::string row_status_for_results(const schedule::RowResult& r) { return r.status; }

// The folder relative local refs start in: the batch file's, or the current one for stdin.
std::string refs_base_dir(const RunOptions& o) {
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (o.input == "-") {
        return cwd.string();
    }
    return (cwd / std::filesystem::path(o.input)).parent_path().lexically_normal().string();
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

}  // namespace

ExitCode run_run(RunOptions& o, Console& console) {
    console.set_quiet(o.quiet);
    util::Clock& clock = util::system_clock();
    TRY_EXIT(console, check_run_options(o));
    const std::string user = !o.user.empty() ? o.user : os_user();

    auto prices = budget::PriceTable::builtin();
    TRY_EXIT(console, load_prices(o, prices));

    Input in;
    TRY_EXIT(console, load_input(o, in));

    // The job: its id depends on the input bytes and the settings that change the output.
    schedule::JobIdentity identity{in.sha256, mode_name(o.mode), o.model, o.image_size, o.max_variants,
                                   o.ref_mode, o.global_refs, ""};
    const std::string job_id = o.job_id.empty() ? schedule::make_job_id(identity) : o.job_id;
    const std::string job_dir = storage::join(o.out, job_id);
    const std::string manifest_path = storage::join(job_dir, "manifest.jsonl");
    auto history = schedule::load_history(manifest_path);
    if (!history.ok()) {
        return console.fail(history.status());
    }
    for (const auto& issue : history->issues) {
        console.warn(issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }

    Plan plan;
    TRY_EXIT(console, validate_batch(o, in, prices, history->done, plan, console));
    console.info("job " + job_id + ": " + std::to_string(plan.rows) + " rows, " +
                 std::to_string(plan.images) + " images (" + std::to_string(plan.images - plan.images_to_run) +
                 " already done), mode " + mode_name(o.mode) + ", model " + o.model);

    Preflight pre;
    nlohmann::json preflight_json;
    if (auto st = check_budget(o, plan, user, clock, pre, console, preflight_json); !st.ok()) {
        if (o.json) {
            std::cout << nlohmann::json{{"jobId", job_id}, {"status", "budget_refused"},
                                        {"preflight", preflight_json}, {"error", st.message()}}
                             .dump(2)
                      << "\n";
        }
        return console.fail(st);
    }

    // Everything that writes. Nothing above this line has written a byte.
    TRY_ASSIGN_EXIT(console, auto job_lock, schedule::JobLock::acquire(job_dir, job_id));
    ledger::LocalLedgerWriter ledger_writer(o.ledger);
    auto reconciled = schedule::reconcile_ledger(manifest_path, o.ledger, ledger_writer, clock.unix_ms());
    if (!reconciled.ok()) {
        return console.fail(reconciled.status());
    }
    if (*reconciled > 0) {
        console.info("ledger: restored " + std::to_string(*reconciled) +
                     " line(s) for images stored before an interruption");
    }
    auto manifest_writer = ledger::ManifestWriter::open(manifest_path);
    if (!manifest_writer.ok()) {
        return console.fail(manifest_writer.status());
    }
    schedule::DurableManifest manifest(std::move(manifest_writer).value());
    std::unique_ptr<report::EventSink> events = std::make_unique<report::NullEventSink>();
    if (!o.events.empty()) {
        auto sink = report::FileEventSink::open(o.events, clock);
        if (!sink.ok()) {
            return console.fail(sink.status());
        }
        events = std::move(sink).value();
    }
    provider::ProviderConfig pc;
    pc.live = o.mode == Mode::live;
    pc.simulate = o.simulate;
    pc.api = o.api;
    pc.api_base = o.api_base;
    pc.project = o.project;
    pc.location = o.location;
    pc.timeout = o.request_timeout;
    TRY_ASSIGN_EXIT(console, auto stack, provider::make_provider(pc, auth::Env::process(), clock));
    console.info("provider: " + stack.description);
    auto& provider = stack.provider;
    storage::LocalStorage storage;
    std::unique_ptr<refs::RefService> ref_service;
    if (plan.rows_with_refs > 0 || !plan.global_refs.empty()) {
        // gs:// refs wait for the GCS storage: without one they fail with CONFIG_ERROR.
        ref_service = std::make_unique<refs::RefService>(make_refs_options(o, refs_base_dir(o)), nullptr, clock);
    }
    budget::LedgerBudgetOptions bo{o.ledger, user, mode_name(o.mode), o.tz, pre.limit};
    TRY_ASSIGN_EXIT(console, auto shared_budget, budget::LedgerBudget::open(bo, clock));
    budget::Budget& guard = *shared_budget;

    std::ostringstream results_buffer;
    std::unique_ptr<report::ResultsCsvWriter> results;
    if (!o.results.empty()) {
        std::vector<std::string> header = plan.columns;
        results = std::make_unique<report::ResultsCsvWriter>(results_buffer, header);
    }

    install_signal_handlers();
    start_grace_watchdog(o.grace);

    schedule::RunSettings settings;
    settings.job_id = job_id;
    settings.job_dir = job_dir;
    settings.user = user;
    settings.mode = mode_name(o.mode);
    settings.model = o.model;
    settings.image_size = o.image_size;
    settings.concurrency = o.concurrency;
    settings.rpm = o.rpm;
    settings.retry.max_attempts = o.max_attempts;
    settings.breaker.max_open = o.circuit_max_open;
    settings.jitter_seed = util::fnv1a64(job_id);
    settings.global_refs = plan.global_refs;
    schedule::RunDeps deps{clock,  *provider, storage, ledger_writer, manifest,
                           *events, guard,    prices,  g_stop,        ref_service ? &ref_service->fetcher() : nullptr};
    schedule::Runner runner(settings, deps, history->done);

    events->emit("started", {{"jobId", job_id},
                             {"rows", plan.rows},
                             {"images", plan.images},
                             {"imagesToRun", plan.images_to_run},
                             {"mode", settings.mode},
                             {"model", o.model},
                             {"preflight", preflight_json}});
    TRY_ASSIGN_EXIT(console, auto feed, Feed::open(o, in, plan.columns));
    const auto t0 = std::chrono::steady_clock::now();
    int failed_shown = 0;
    auto summary = runner.run(
        [&feed] { return feed->next(); }, plan.images,
        [&](const schedule::RowResult& r) {
            report_failed_row(r, failed_shown, console);
            if (!results) {
                return;
            }
            report::ResultRow rr;
            rr.input = r.row->cells;
            rr.status = row_status_for_results(r);
            for (const auto& v : r.variants) {
                if (!v.uri.empty()) {
                    rr.images.push_back(v.uri);
                }
            }
            rr.cost_usd = util::format_usd(r.cost).substr(1);
            if (r.first_error != util::Code::ok) {
                rr.error_code = std::string(util::code_name(r.first_error));
                rr.error = r.first_message;
            }
            results->write(rr);
        },
        [&](const schedule::Progress& p) { console.progress(progress_line(p, t0)); });
    console.end_progress();
    if (!summary.ok()) {
        events->emit("error", {{"jobId", job_id}, {"message", summary.status().message()}});
        return console.fail(summary.status());
    }
    summary->images_skipped = plan.images - plan.images_to_run;

    // Record: summary.json, results, the "done" event, stdout.
    auto summary_json = report::to_json(*summary);
    summary_json["preflight"] = preflight_json;
    TRY_EXIT(console, util::write_file_atomic(storage::join(job_dir, "summary.json"), summary_json.dump(2) + "\n"));
    if (results) {
        TRY_EXIT(console, util::write_file_atomic(o.results, results_buffer.str()));
    }
    events->emit("done", {{"jobId", job_id},
                          {"status", summary->status},
                          {"imagesGenerated", summary->images_generated},
                          {"errors", summary->errors},
                          {"actualCostUsd", util::to_dollars(summary->actual_cost)}});
    events->flush();

    if (o.json) {
        std::cout << summary_json.dump(2) << "\n";
    }
    const auto& s = *summary;
    if (plan.images_to_run == 0) {
        console.info("job " + job_id + " was already finished: nothing to do, nothing spent");
    } else {
        console.info(std::to_string(s.images_generated) + " images made, " + std::to_string(s.errors) +
                     " failed, " + std::to_string(s.retries) + " retries in " +
                     util::format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(s.wall_seconds * 1000))) +
                     "; cost " + util::format_usd(s.actual_cost) + " (estimated " +
                     util::format_usd(s.estimated_cost) + ")");
    }
    console.info("images:   " + job_dir + "/");
    console.info("manifest: " + manifest_path);
    console.info("summary:  " + storage::join(job_dir, "summary.json"));
    console.info("ledger:   " + o.ledger + "/" + pre.day + ".jsonl");
    if (results) {
        console.info("results:  " + o.results);
    }
    if (s.refs_failed > 0 && o.ref_failure == "skip") {
        console.warn("refs: " + std::to_string(s.refs_failed) +
                     " reference(s) could not be used; their rows ran without them (see the refs events)");
    }
    if (s.status == "budget_exceeded") {
        console.error("budget: the daily limit " + util::format_usd(pre.limit) +
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
