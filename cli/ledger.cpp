// `assetgen ledger`: show, sum, verify and compact over a ledger folder (show, sum and verify
// also over gs://bucket/prefix, read through Cloud Storage). Each
// sub-subcommand checks its flags, calls one function of core/ledger/audit.hpp, and prints the
// result: tables or tab-separated lines for people and pipes, JSON with --json, findings on
// stdout, warnings and verdicts on stderr.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/env.hpp"
#include "budget/spend.hpp"
#include "budget/amounts.hpp"
#include "budget/prices.hpp"
#include "commands.hpp"
#include "flag_checks.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/json_line.hpp"
#include "storage/storage.hpp"
#include "table.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

using util::Code;

// Options of one `ledger` sub-subcommand (each gets its own copy).
struct LedgerOptions {
    std::string folder = "ledger";
    bool json = false;
    bool quiet = false;
    // show, sum
    std::string from_day;
    std::string to_day;
    std::string user;
    std::string job;
    std::string model;
    std::string mode;
    std::string status;
    std::string tz = "UTC";
    std::size_t limit = 0;
    std::string by = "day";
    // verify
    std::string out;  // "" = ./out when it exists
    std::vector<std::string> manifests;
    std::string prices_file;           // judge costs by tokens with these prices
    std::string price_per_image_text;  // as `run --price-per-image`
    bool i_mean_it = false;
    // compact
    std::string day;
    bool all = false;
};

util::Status local_only(const std::string& path, const char* what) {
    TRY(check_location_flag("folder", path));
    if (storage::is_gcs(path)) {
        return util::error(Code::config, path + ": " + what);
    }
    return util::ok_status();
}

// A ledger folder as it is; a gs:// ledger with a read-only Cloud Storage connection made the
// way `run` makes one (emulator, GOOGLE_APPLICATION_CREDENTIALS, metadata server).
struct LedgerAccess {
    std::unique_ptr<ledger::GcsConnection> gcs;
    ledger::LedgerLocation location;
};

util::Result<LedgerAccess> open_ledger(const std::string& folder) {
    TRY(check_location_flag("folder", folder));
    LedgerAccess access{nullptr, ledger::LedgerLocation(folder)};
    if (storage::is_gcs(folder)) {
        TRY_ASSIGN(access.gcs,
                   ledger::connect_gcs(auth::Env::process(), util::system_clock(),
                                       "https://www.googleapis.com/auth/devstorage.read_only"));
        access.location.gcs = access.gcs->client.get();
    }
    return access;
}

// verify and compact check what is there, so a mistyped folder must not pass as clean.
util::Status existing_folder(const std::string& folder) {
    std::error_code ec;
    if (storage::is_gcs(folder)) {
        return util::ok_status();  // an empty prefix is an empty ledger
    }
    if (!std::filesystem::is_directory(folder, ec)) {
        return util::error(Code::not_found, folder + ": no such ledger folder");
    }
    return util::ok_status();
}

// show and sum treat a missing folder as an empty ledger (nothing recorded yet), but say so.
void note_missing(Console& console, const std::string& folder) {
    std::error_code ec;
    if (!storage::is_gcs(folder) && !std::filesystem::exists(folder, ec)) {
        console.info("no ledger folder \"" + folder + "\": nothing recorded there yet");
    }
}

util::Result<ledger::Filter> filter_from(const LedgerOptions& o) {
    if (!o.from_day.empty() && !o.to_day.empty() && o.from_day > o.to_day) {
        return util::error(Code::usage, "--from " + o.from_day + " is after --to " + o.to_day +
                                            ": no day is in between");
    }
    ledger::Filter f;
    f.from_day = o.from_day;
    f.to_day = o.to_day;
    f.user = o.user;
    f.job = o.job;
    f.model = o.model;
    f.mode = o.mode;
    f.status = o.status;
    return f;
}

util::Result<ledger::DayOf> day_of_zone(const std::string& tz) {
    TRY(flag_check("--tz", budget::check_zone(tz)));
    return ledger::DayOf([tz](std::int64_t ts_ms) {
        // The zone was checked above, so this cannot fail; UTC keeps the signature total.
        auto day = budget::day_in_zone(ts_ms, tz);
        return day.ok() ? *day : ledger::utc_day(ts_ms);
    });
}

// Lines that could not be read are skipped by show and sum, never silently.
void warn_skipped(Console& console, const std::vector<ledger::ReadIssue>& issues) {
    for (const auto& issue : issues) {
        console.warn(issue.file + ":" + std::to_string(issue.line) + ": " + issue.message +
                     " (skipped; `assetgen ledger verify` checks the whole ledger)");
    }
}

bool stdout_is_tty() {
    return ::isatty(STDOUT_FILENO) == 1;
}

// A JsonLineWriter's object without its '\n', to nest it in a larger document.
std::string json_object(ledger::JsonLineWriter& writer) {
    std::string text = writer.finish();
    text.pop_back();
    return text;
}

void print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
}

// --- show -----------------------------------------------------------------------------------

std::vector<Column> show_columns(const std::string& tz) {
    return {{"time (" + tz + ")", Align::left},
            {"user", Align::left},
            {"job", Align::left},
            {"scene_id", Align::left},
            {"variant", Align::right},
            {"model", Align::left},
            {"mode", Align::left},
            {"status", Align::left},
            {"images", Align::right},
            {"cost", Align::right}};
}

std::vector<std::string> show_cells(const ledger::Entry& e, const std::string& tz) {
    // The zone is checked before any entry is read, so the UTC fallback is never taken.
    auto time = ledger::local_time(e.ts, tz);
    return std::vector<std::string>{time.ok() ? *time : util::utc_timestamp(e.ts),
                                    e.user_id,
                                    e.job_id,
                                    e.scene_id,
                                    std::to_string(e.variant),
                                    e.model,
                                    e.mode,
                                    e.status,
                                    std::to_string(e.images),
                                    util::format_usd(e.cost)};
}

util::Result<ExitCode> run_show(const LedgerOptions& o, Console& console) {
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder));
    TRY_ASSIGN(const ledger::Filter filter, filter_from(o));
    TRY_ASSIGN(const ledger::DayOf day_of, day_of_zone(o.tz));
    note_missing(console, o.folder);
    const bool table = !o.json && stdout_is_tty();

    // Without a limit or a table to align, entries stream straight to stdout.
    if (o.limit == 0 && !table) {
        std::vector<ledger::ReadIssue> issues;
        if (!o.json) {
            print(Table(show_columns(o.tz)).render_tsv());
        }
        TRY(ledger::for_each_matching(
            access.location, filter, day_of,
            [&](const ledger::Entry& e) {
                print(o.json ? ledger::to_line(e) : Table::tsv_row(show_cells(e, o.tz)));
            },
            &issues));
        warn_skipped(console, issues);
        return ExitCode::ok;
    }

    TRY_ASSIGN(const ledger::Selection selection,
               ledger::select_entries(access.location, filter, day_of, o.limit));
    if (o.json) {
        for (const auto& e : selection.entries) {
            print(ledger::to_line(e));
        }
    } else {
        Table t(show_columns(o.tz));
        for (const auto& e : selection.entries) {
            t.add_row(show_cells(e, o.tz));
        }
        print(table ? t.render_aligned() : t.render_tsv());
    }
    warn_skipped(console, selection.issues);
    if (selection.matched > static_cast<std::int64_t>(selection.entries.size())) {
        console.info("showing the last " + std::to_string(selection.entries.size()) + " of " +
                     std::to_string(selection.matched) + " matching entries");
    }
    return ExitCode::ok;
}

// --- sum ------------------------------------------------------------------------------------

std::string totals_json(ledger::JsonLineWriter& w, const ledger::Totals& t) {
    w.add_int("entries", t.entries)
        .add_int("images", t.images)
        .add_money("costUsd", t.cost)
        .add_money("estimatedUsd", t.estimated);
    return json_object(w);
}

std::vector<std::string> totals_cells(std::string key, const ledger::Totals& t) {
    return {std::move(key), std::to_string(t.entries), std::to_string(t.images),
            util::format_usd(t.cost), util::format_usd(t.estimated)};
}

util::Result<ExitCode> run_sum(const LedgerOptions& o, Console& console) {
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder));
    TRY_ASSIGN(const ledger::Filter filter, filter_from(o));
    TRY_ASSIGN(const ledger::DayOf day_of, day_of_zone(o.tz));
    // --by is checked by the parser; this only turns the name into the enum.
    const ledger::GroupBy by = ledger::group_by_from_name(o.by).value_or(ledger::GroupBy::day);
    note_missing(console, o.folder);
    TRY_ASSIGN(const ledger::SumResult result, ledger::sum(access.location, filter, by, day_of));
    warn_skipped(console, result.issues);

    if (o.json) {
        std::string text =
            "{\"by\":\"" + std::string(ledger::group_by_name(by)) + "\",\"groups\":[";
        for (std::size_t i = 0; i < result.groups.size(); ++i) {
            ledger::JsonLineWriter w;
            w.add_string("key", result.groups[i].key);
            text += (i > 0 ? "," : "") + totals_json(w, result.groups[i].totals);
        }
        ledger::JsonLineWriter total;
        text += "],\"total\":" + totals_json(total, result.total) +
                ",\"skippedLines\":" + std::to_string(result.issues.size()) + "}\n";
        print(text);
        return ExitCode::ok;
    }
    Table t({{std::string(ledger::group_by_name(by)), Align::left},
             {"entries", Align::right},
             {"images", Align::right},
             {"cost", Align::right},
             {"estimated", Align::right}});
    for (const auto& g : result.groups) {
        t.add_row(totals_cells(g.key.empty() ? "(none)" : g.key, g.totals));
    }
    t.add_rule();
    t.add_row(totals_cells("TOTAL", result.total));
    print(t.render_aligned());
    return ExitCode::ok;
}

// --- verify ---------------------------------------------------------------------------------

util::Result<std::vector<std::string>> manifests_to_check(const LedgerOptions& o,
                                                          Console& console) {
    if (!o.manifests.empty()) {
        for (const auto& path : o.manifests) {
            TRY(local_only(path, "manifests are read from local files only"));
            std::error_code ec;
            if (!std::filesystem::is_regular_file(path, ec)) {
                return util::error(Code::not_found, path + ": no such manifest");
            }
        }
        return o.manifests;
    }
    const std::string out = o.out.empty() ? "out" : o.out;
    TRY(local_only(out, "manifests are read from a local output folder only"));
    std::error_code ec;
    if (!std::filesystem::is_directory(out, ec)) {
        if (!o.out.empty()) {
            return util::error(Code::not_found, out + ": no such output folder");
        }
        console.info("no ./out folder: checking the ledger alone (--out names the output folder)");
        return std::vector<std::string>{};
    }
    return ledger::find_manifests(out);
}

std::string plural(std::int64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

util::Result<ExitCode> run_verify(const LedgerOptions& o, Console& console) {
    TRY(existing_folder(o.folder));
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder));
    TRY_ASSIGN(const auto manifests, manifests_to_check(o, console));
    // Costs are judged by tokens with the prices the runs used: the built-in table unless the
    // same --prices / --price-per-image are given.
    auto prices = std::make_shared<budget::PriceTable>(budget::PriceTable::builtin());
    if (!o.prices_file.empty()) {
        TRY_ASSIGN(auto text, util::read_file(o.prices_file));
        TRY(prices->load_json(text, o.prices_file, o.i_mean_it));
    }
    if (!o.price_per_image_text.empty()) {
        TRY_ASSIGN(const util::Micros price,
                   flag_value("--price-per-image",
                              budget::parse_amount(o.price_per_image_text, budget::k_price_per_image,
                                                   o.i_mean_it, "--price-per-image")));
        prices->set_price_per_image(price);
    }
    ledger::VerifyOptions options;
    options.expected_cost = [prices](const ledger::Entry& e) -> std::optional<util::Micros> {
        const auto tier = budget::parse_tier(e.tier);
        if (!tier) {
            return std::nullopt;  // a tier this build does not price
        }
        auto c = prices->actual(e.model, "", e.prompt_tokens, e.output_tokens, e.thoughts_tokens,
                                e.output_image_tokens, *tier);
        return c.ok() ? std::optional<util::Micros>(*c) : std::nullopt;
    };
    TRY_ASSIGN(const ledger::VerifyReport report,
               ledger::verify_report(access.location, manifests, options));

    std::map<std::string, int> by_kind;
    for (const auto& f : report.findings) {
        ++by_kind[std::string(ledger::finding_kind_name(f.kind))];
    }
    if (o.json) {
        std::string text = "{\"ok\":" + std::string(report.findings.empty() ? "true" : "false") +
                           ",\"findings\":[";
        for (std::size_t i = 0; i < report.findings.size(); ++i) {
            const auto& f = report.findings[i];
            ledger::JsonLineWriter w;
            w.add_string("kind", ledger::finding_kind_name(f.kind))
                .add_string("where", f.where)
                .add_string("message", f.message);
            text += (i > 0 ? "," : "") + json_object(w);
        }
        text += "],\"entries\":" + std::to_string(report.entries) +
                ",\"files\":" + std::to_string(report.files) +
                ",\"manifests\":" + std::to_string(manifests.size()) +
                ",\"manifestLines\":" + std::to_string(report.manifest_lines) + "}\n";
        print(text);
    } else {
        for (const auto& f : report.findings) {
            print(f.where + ": " + std::string(ledger::finding_kind_name(f.kind)) + ": " +
                  f.message + "\n");
        }
    }

    const std::string checked =
        plural(report.entries, "entry", "entries") + " in " +
        plural(static_cast<std::int64_t>(report.files), "day file", "day files") + ", " +
        plural(report.manifest_lines, "manifest line", "manifest lines") + " in " +
        plural(static_cast<std::int64_t>(manifests.size()), "manifest", "manifests");
    if (report.findings.empty()) {
        console.info("ledger verify: ok: " + checked);
        return ExitCode::ok;
    }
    std::string kinds;
    for (const auto& [kind, n] : by_kind) {
        kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
    }
    console.error("ledger verify: " +
                  plural(static_cast<std::int64_t>(report.findings.size()), "problem", "problems") +
                  " (" + kinds + ") in " + checked);
    // 1 is "finished, but something is wrong" for every subcommand (DESIGN.md §10).
    return ExitCode::rows_failed;
}

// --- compact --------------------------------------------------------------------------------

util::Result<ExitCode> run_compact(const LedgerOptions& o, Console& console) {
    TRY(local_only(o.folder,
                   "compact works on local ledger folders only; a gs:// ledger needs "
                   "none (its writer never appends a line twice)"));
    TRY(existing_folder(o.folder));
    std::vector<std::string> days;
    if (o.all) {
        TRY_ASSIGN(const auto files, ledger::list_day_files(o.folder, ledger::ReadOptions{}));
        for (const auto& path : files) {
            std::string day;
            if (ledger::is_day_file_name(std::filesystem::path(path).filename().string(), &day)) {
                days.push_back(day);
            }
        }
        if (days.empty()) {
            console.info("no day files in \"" + o.folder + "\": nothing to compact");
        }
    } else {
        days.push_back(o.day);
    }

    std::string json_days;
    std::size_t dropped = 0;
    for (const auto& day : days) {
        // Each day is rewritten atomically on its own: a failure leaves earlier days compacted
        // and this one as it was.
        TRY_ASSIGN(const ledger::CompactResult r, ledger::compact(o.folder, day));
        dropped += r.dropped;
        if (o.json) {
            ledger::JsonLineWriter w;
            w.add_string("day", day)
                .add_int("lines", static_cast<std::int64_t>(r.lines))
                .add_int("dropped", static_cast<std::int64_t>(r.dropped));
            json_days += (json_days.empty() ? "" : ",") + json_object(w);
        } else {
            print(
                day + ": dropped " +
                plural(static_cast<std::int64_t>(r.dropped), "duplicate line", "duplicate lines") +
                " of " + std::to_string(r.lines) + "\n");
        }
    }
    if (o.json) {
        print("{\"days\":[" + json_days + "],\"dropped\":" + std::to_string(dropped) + "}\n");
    } else if (o.all) {
        print("total: dropped " +
              plural(static_cast<std::int64_t>(dropped), "duplicate line", "duplicate lines") +
              " in " + plural(static_cast<std::int64_t>(days.size()), "day file", "day files") +
              "\n");
    }
    return ExitCode::ok;
}

// --- registration ---------------------------------------------------------------------------

ExitCode finish(Console& console, const util::Result<ExitCode>& result) {
    return result.ok() ? *result : console.fail(result.status());
}

const CLI::Validator& day_check() {
    static const CLI::Validator k_check(
        [](std::string& text) -> std::string {
            return ledger::is_day(text) ? "" : "\"" + text + "\" is not a date YYYY-MM-DD";
        },
        "YYYY-MM-DD");
    return k_check;
}

// Accepts "ok" or an error code name in any case, and writes it as the ledger does.
const CLI::Validator& status_check() {
    static const CLI::Validator k_check(
        [](std::string& text) -> std::string {
            if (util::to_lower(text) == "ok") {
                text = "ok";
                return "";
            }
            std::string upper = text;
            for (char& c : upper) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            if (util::code_from_name(upper)) {
                text = upper;
                return "";
            }
            return "\"" + text + "\" is not ok or an error code such as BLOCKED";
        },
        "ok|CODE");
    return k_check;
}

// Every option gets an ASSETGEN_<NAME> variable (support.cpp), but a filter is a question, not
// a setting: ASSETGEN_USER or ASSETGEN_MODEL set for `run` in a cron environment must not
// silently narrow `ledger sum`. Clearing the names when this sub-subcommand starts parsing, before
// CLI11 reads the environment, keeps filters to the command line. Call once per sub-subcommand
// (a second call replaces the first).
void keep_to_command_line(CLI::App* sub, std::vector<CLI::Option*> options) {
    sub->preparse_callback([options](std::size_t) {
        for (auto* option : options) {
            option->envname("");
        }
    });
}

CLI::App* add_common(CLI::App& ledger_app, const char* name, const char* description,
                     LedgerOptions& o) {
    auto* sub = ledger_app.add_subcommand(name, description);
    sub->add_option("folder", o.folder, "ledger folder, or gs://bucket/prefix (not for compact)")
        ->envname("ASSETGEN_LEDGER")
        ->capture_default_str();
    sub->add_flag("--json", o.json, "machine output on stdout");
    sub->add_flag("-q,--quiet", o.quiet, "only warnings and errors on stderr");
    return sub;
}

// Adds the filters of show and sum and returns them (for keep_to_command_line).
std::vector<CLI::Option*> add_filters(CLI::App* sub, LedgerOptions& o) {
    // "dry-run" is accepted as `run --mode` accepts it.
    auto mode_spelling = [](std::string text) {
        std::replace(text.begin(), text.end(), '-', '_');
        return util::to_lower(text);
    };
    std::vector<CLI::Option*> filters{
        sub->add_option("--from", o.from_day, "first day, inclusive (days as --tz counts them)")
            ->check(day_check()),
        sub->add_option("--to", o.to_day, "last day, inclusive")->check(day_check()),
        sub->add_option("--user", o.user, "only this userId"),
        sub->add_option("--job", o.job, "only this jobId"),
        sub->add_option("--model", o.model, "only this model"),
        sub->add_option("--mode", o.mode, "only dry_run or live")
            ->transform(CLI::IsMember({"dry_run", "live"}, mode_spelling)),
        sub->add_option("--status", o.status, "only ok, or one error code such as BLOCKED")
            ->transform(status_check())};
    sub->add_option("--tz", o.tz, "IANA time zone whose midnight starts a day (--from, --to, days)")
        ->capture_default_str();
    return filters;
}

// Wires a sub-subcommand to its run function.
template <typename Run>
void on_run(CLI::App* sub, const std::shared_ptr<LedgerOptions>& o, Action& action, Run run) {
    sub->callback([o, &action, run] {
        action = [o, run](Console& c) {
            c.set_quiet(o->quiet);
            return finish(c, run(*o, c));
        };
    });
}

}  // namespace

void register_ledger(CLI::App& app, Action& action) {
    auto* ledger_app = app.add_subcommand("ledger", "show, sum, verify or compact the cost ledger");
    ledger_app->require_subcommand(1, 1);
    ledger_app->footer(
        "Examples:\n"
        "  assetgen ledger show --job 3f9c2a --status ok\n"
        "  assetgen ledger sum --by user --from 2025-11-01 --to 2025-11-30 --tz Europe/Berlin\n"
        "  assetgen ledger verify --out out\n"
        "  assetgen ledger compact --day 2025-11-24\n"
        "FOLDER defaults to $ASSETGEN_LEDGER, else ./ledger. Filters (--from --to --user --job\n"
        "--model --mode --status --limit) come from the command line only, never the environment.\n"
        "Exit codes: 0 ok, 1 verify found problems, 2 usage (a bad --tz, --from after --to, ...),\n"
        "66 folder, day file or manifest not found (verify, compact), 74 storage I/O, 77 auth,\n"
        "78 configuration (compact on gs://).\n"
        "A gs:// ledger is read with the credentials `run` uses.");

    auto show = std::make_shared<LedgerOptions>();
    auto* show_app = add_common(*ledger_app, "show", "print ledger entries", *show);
    auto show_filters = add_filters(show_app, *show);
    show_filters.push_back(
        show_app->add_option("--limit", show->limit, "only the last N matching entries (0: all)")
            ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000'000})));
    keep_to_command_line(show_app, show_filters);
    show_app->footer(
        "A table on a terminal, else tab-separated lines under a header; with --json the\n"
        "ledger's JSON lines. Times are shown in --tz. A missing folder is an empty ledger.\n"
        "Examples:\n"
        "  assetgen ledger show --limit 20                      # the 20 most recent entries\n"
        "  assetgen ledger show --job 3f9c2a --status BLOCKED\n"
        "  assetgen ledger show --from 2025-11-24 --to 2025-11-24 --tz America/Los_Angeles\n"
        "  assetgen ledger show --json | jq -c 'select(.status != \"ok\")'\n"
        "Exit codes: 0 ok, 2 usage, 74 storage I/O, 78 configuration.");
    on_run(show_app, show, action, run_show);

    auto sum = std::make_shared<LedgerOptions>();
    auto* sum_app =
        add_common(*ledger_app, "sum",
                   "add up entries, images and cost by day, user, job, model or mode", *sum);
    keep_to_command_line(sum_app, add_filters(sum_app, *sum));
    sum_app->add_option("--by", sum->by, "group by day, user, job, model or mode")
        ->check(CLI::IsMember({"day", "user", "job", "model", "mode"}))
        ->capture_default_str();
    sum_app->footer(
        "Every line counts once, refused ones too. Money is exact to the micro-dollar.\n"
        "--json: "
        "{\"by\",\"groups\":[{\"key\",\"entries\",\"images\",\"costUsd\",\"estimatedUsd\"}],\n"
        "         \"total\":{...},\"skippedLines\"}\n"
        "Examples:\n"
        "  assetgen ledger sum                                  # by UTC day\n"
        "  assetgen ledger sum --by user --mode live --from 2025-11-01\n"
        "  assetgen ledger sum --by job --json\n"
        "Exit codes: 0 ok, 2 usage, 74 storage I/O, 78 configuration.");
    on_run(sum_app, sum, action, run_sum);

    auto verify = std::make_shared<LedgerOptions>();
    auto* verify_app = add_common(
        *ledger_app, "verify",
        "check the ledger (schema, duplicate ids, torn lines) against the manifests", *verify);
    auto* out_opt = verify_app->add_option(
        "--out", verify->out,
        "output folder whose <job>/manifest.jsonl files to check (default: ./out when present)");
    auto* manifest_opt =
        verify_app->add_option("--manifest", verify->manifests, "check this manifest (repeatable)");
    out_opt->excludes(manifest_opt);
    verify_app->add_option("--prices", verify->prices_file,
                           "pricing JSON file the runs used, to check each cost against its tokens")
        ->check(CLI::ExistingFile);
    verify_app->add_option("--price-per-image", verify->price_per_image_text,
                           "the --price-per-image the runs used, to check each cost against its tokens");
    verify_app->add_flag("--i-mean-it", verify->i_mean_it, "accept prices above the sane ceilings (as run)");
    keep_to_command_line(verify_app, {manifest_opt});
    verify_app->footer(
        "Prints each problem as <where>: <kind>: <message> on stdout and a verdict on stderr.\n"
        "Kinds: bad_line, torn_line, unknown_version, duplicate_id, missing_ledger_entry,\n"
        "image_mismatch, cost_mismatch, bad_cost, cost_vs_tokens, unrecorded_image, shard_overlap.\n"
        "Examples:\n"
        "  assetgen ledger verify                               # ./ledger against ./out\n"
        "  assetgen ledger verify /var/lib/assetgen/ledger --out /srv/assets\n"
        "  assetgen ledger verify --manifest out/3f9c2a/manifest.jsonl --json\n"
        "Exit codes: 0 clean, 1 problems found, 2 usage, 66 ledger folder, --out or manifest not\n"
        "found, 74 storage I/O, 78 configuration.");
    on_run(verify_app, verify, action, run_verify);

    auto compact = std::make_shared<LedgerOptions>();
    auto* compact_app = add_common(
        *ledger_app, "compact", "drop exact duplicate lines from day files, atomically", *compact);
    auto* which = compact_app->add_option_group("day", "which day files");
    auto* day_opt =
        which->add_option("--day", compact->day, "the UTC day file to compact")->check(day_check());
    auto* all_opt = which->add_flag("--all", compact->all, "every day file");
    which->require_option(1);
    keep_to_command_line(compact_app, {day_opt, all_opt});
    compact_app->footer(
        "Keeps the first of identical lines and every other byte as it was; safe while `run`\n"
        "appends (appenders wait for the rewrite, then write to the new file).\n"
        "Examples:\n"
        "  assetgen ledger compact --day 2025-11-24\n"
        "  assetgen ledger compact --all --json\n"
        "Exit codes: 0 ok, 2 usage, 66 folder or day file not found, 74 storage I/O,\n"
        "78 configuration.");
    on_run(compact_app, compact, action, run_compact);
}

}  // namespace assetgen::cli
