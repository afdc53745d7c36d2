// `assetgen ledger`: show, sum, verify and compact over a ledger folder (show, sum and verify
// also over gs://bucket/prefix, read through Cloud Storage). Each
// sub-subcommand checks its flags, calls one function of core/ledger/audit.hpp, and prints the
// result: tables or tab-separated lines for people and pipes, JSON with --json, findings on
// stdout, warnings and verdicts on stderr.
#include "ledger_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "auth/env.hpp"
#include "budget/amounts.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "flag_checks.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/json_line.hpp"
#include "storage/storage.hpp"
#include "table.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

using util::Code;
using namespace ledger_cmd;

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
            // A reservation's lines (pending batches: reservations.hpp).
            if (util::to_lower(text) == "reserved" || util::to_lower(text) == "settled") {
                text = util::to_lower(text);
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
        "ok|reserved|settled|CODE");
    return k_check;
}

// Every option gets an ASSETGEN_<NAME> variable (support.cpp), but a filter is a question, not
// a setting: ASSETGEN_USER or ASSETGEN_MODEL set for `run` in a cron environment must not
// silently narrow `ledger sum`. Clearing the names when this sub-subcommand starts parsing, before
// CLI11 reads the environment, keeps filters to the command line. Call once per sub-subcommand
// (a second call replaces the first).
void keep_to_command_line(CLI::App* sub, std::vector<CLI::Option*> options) {
    options.push_back(sub->get_option("--ledger"));  // resolve_folder reads ASSETGEN_LEDGER
    sub->preparse_callback([options](std::size_t) {
        for (auto* option : options) {
            option->envname("");
        }
    });
}

CLI::App* add_common(CLI::App& ledger_app, const char* name, const char* description,
                     LedgerOptions& o) {
    auto* sub = ledger_app.add_subcommand(name, description);
    // FOLDER and --ledger are two options, not one with two names, so that giving both is an
    // error naming both (one option said CLI11's "At Most 1 required but received 2") and a
    // message names the one the user typed. ASSETGEN_LEDGER is read by resolve_folder.
    sub->add_option("folder", o.folder_arg,
                    "ledger folder, or gs://bucket/prefix (not for compact); default "
                    "$ASSETGEN_LEDGER, else ./ledger");
    sub->add_option("--ledger", o.ledger_flag, "the ledger folder, as in run (instead of FOLDER)");
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
        sub->add_option("--status", o.status,
                        "only ok, one error code such as BLOCKED, or reserved or settled (batches)")
            ->transform(status_check())};
    sub->add_option("--tz", o.tz, "IANA time zone whose midnight starts a day (--from, --to, days)")
        ->capture_default_str();
    return filters;
}

// Wires a sub-subcommand to its run function.
template <typename Run>
void on_run(CLI::App* sub, const std::shared_ptr<LedgerOptions>& o, Action& action, Run run) {
    sub->callback([o, &action, run] {
        action = [o, run](Console& c, const context::Context& ctx) {
            c.set_quiet(o->quiet);
            if (auto resolved = resolve_folder(*o, ctx.env); !resolved.ok()) {
                return c.fail(resolved);
            }
            return finish(c, run(*o, c, ctx));
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
            ->check(whole_number(0, 1'000'000'000)));
    show_filters.push_back(
        show_app
            ->add_flag("--reservations", show->reservations,
                       "one row per batch reservation: reserved, paid so far, open or settled, age")
            ->excludes(show_app->get_option("--status")));
    keep_to_command_line(show_app, show_filters);
    show_app->footer(
        "A table on a terminal, else tab-separated lines under a header; with --json the\n"
        "ledger's JSON lines. Times are shown in --tz. A missing folder is an empty ledger.\n"
        "Examples:\n"
        "  assetgen ledger show --limit 20                      # the 20 most recent entries\n"
        "  assetgen ledger show --job 3f9c2a --status BLOCKED\n"
        "  assetgen ledger show --from 2025-11-24 --to 2025-11-24 --tz America/Los_Angeles\n"
        "  assetgen ledger show --json | jq -c 'select(.status != \"ok\")'\n"
        "  assetgen ledger show --reservations                # pending batches, since when\n"
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
    auto* out_opt = verify_app->add_option("--out", verify->out,
                                           "output folder (or gs://) whose <job>/manifest.jsonl "
                                           "files to check (default: ./out when present)");
    auto* manifest_opt = verify_app->add_option(
        "--manifest", verify->manifests, "check this manifest, a path or gs:// (repeatable)");
    out_opt->excludes(manifest_opt);
    verify_app
        ->add_option("--prices", verify->prices_file,
                     "pricing JSON file the runs used, to check each cost against its tokens")
        ->check(CLI::ExistingFile);
    verify_app->add_option(
        "--price-per-image", verify->price_per_image_text,
        "the --price-per-image the runs used, to check each cost against its tokens");
    verify_app->add_flag("--i-mean-it", verify->i_mean_it,
                         "accept prices above the sane ceilings (as run)");
    keep_to_command_line(verify_app, {manifest_opt});
    verify_app->footer(
        "Prints each problem as <where>: <kind>: <message> on stdout and a verdict on stderr.\n"
        "Kinds: bad_line, torn_line, unknown_version, duplicate_id, missing_ledger_entry,\n"
        "image_mismatch, cost_mismatch, bad_cost, cost_vs_tokens, unrecorded_image, "
        "shard_overlap,\n"
        "settle_without_reserve, settled_twice, settle_mismatch, paid_without_reserve,\n"
        "paid_after_settle, stale_reservation (a batch's reservation open past 49 h).\n"
        "Open reservations are listed on stderr with their age.\n"
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
    compact_app->add_flag(
        "--follow-symlinks", compact->follow_symlinks,
        "compact a day file that is a symbolic link (the compacted file replaces the link)");
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
