// `assetgen ledger`: helpers its sub-subcommands share (ledger_common.hpp).
#include "ledger_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "budget/amounts.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "context/context.hpp"
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

namespace assetgen::cli::ledger_cmd {

using util::Code;

util::Status resolve_folder(LedgerOptions& o, const auth::Env& env) {
    if (!o.folder_arg.empty() && !o.ledger_flag.empty()) {
        return util::error(Code::usage, "the ledger folder is given twice, as FOLDER \"" +
                                            printable(o.folder_arg) + "\" and as --ledger \"" +
                                            printable(o.ledger_flag) +
                                            "\": give one of them (they mean the same)");
    }
    const std::string from_env = env.get("ASSETGEN_LEDGER");
    if (!o.folder_arg.empty()) {
        o.folder = o.folder_arg;
        o.folder_name = "FOLDER";
    } else if (!o.ledger_flag.empty()) {
        o.folder = o.ledger_flag;
        o.folder_name = "--ledger";
    } else if (!from_env.empty()) {
        o.folder = from_env;
        o.folder_name = "ASSETGEN_LEDGER";
    }
    return util::ok_status();
}

util::Status local_only(const std::string& name, const std::string& path, const char* what) {
    TRY(check_location_flag(name, path));
    if (storage::is_gcs(path)) {
        return util::error(Code::config, path + ": " + what);
    }
    return util::ok_status();
}

util::Result<std::unique_ptr<ledger::GcsConnection>> connect_read_only(
    const context::Context& ctx) {
    return ledger::connect_gcs(ctx.env, ctx.transport, ctx.clock, ctx.gcs_options(),
                               "https://www.googleapis.com/auth/devstorage.read_only");
}

util::Result<LedgerAccess> open_ledger(const std::string& name, const std::string& folder,
                                       const context::Context& ctx) {
    TRY(check_location_flag(name, folder));
    LedgerAccess access{nullptr, ledger::LedgerLocation(folder), &ctx};
    if (storage::is_gcs(folder)) {
        TRY_ASSIGN(access.gcs, connect_read_only(ctx));
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

std::string plural(std::int64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace assetgen::cli::ledger_cmd
