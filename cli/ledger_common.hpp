#pragma once
// Shared by the files of `assetgen ledger` (cli/ledger*.cpp): the options of one
// sub-subcommand, the helpers they share, and each sub-subcommand's run function.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auth/env.hpp"
#include "commands.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/json_line.hpp"

namespace assetgen::cli::ledger_cmd {

// Options of one `ledger` sub-subcommand (each gets its own copy).
struct LedgerOptions {
    // The folder as given: FOLDER (positional), --ledger, else $ASSETGEN_LEDGER, else ./ledger.
    std::string folder_arg;
    std::string ledger_flag;
    // Set by resolve_folder: the folder, and how messages name it ("--ledger", "FOLDER", ...).
    std::string folder = "ledger";
    std::string folder_name = "FOLDER";
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
    bool reservations = false;  // show: one row per reservation (pending batches)
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
    bool follow_symlinks = false;
};

// A ledger folder as it is; a gs:// ledger with a read-only Cloud Storage connection made the
// way `run` makes one (emulator, GOOGLE_APPLICATION_CREDENTIALS, metadata server).
struct LedgerAccess {
    std::unique_ptr<ledger::GcsConnection> gcs;
    ledger::LedgerLocation location;
    const context::Context* context = nullptr;  // the command's: connections for gs:// manifests
};

// Picks the folder from FOLDER, --ledger and ASSETGEN_LEDGER; both FOLDER and --ledger is a
// usage error naming the two values (one is enough).
util::Status resolve_folder(LedgerOptions& o, const auth::Env& env);
// `name` is the flag the path came from, for the message ("--ledger: \"gs://\": ...").
util::Status local_only(const std::string& name, const std::string& path, const char* what);
util::Result<LedgerAccess> open_ledger(const std::string& name, const std::string& folder,
                                       const context::Context& ctx);
// A read-only Cloud Storage connection over the command's transport and credential chain.
util::Result<std::unique_ptr<ledger::GcsConnection>> connect_read_only(const context::Context& ctx);
// verify and compact check what is there, so a mistyped folder must not pass as clean.
util::Status existing_folder(const std::string& folder);
// show and sum treat a missing folder as an empty ledger (nothing recorded yet), but say so.
void note_missing(Console& console, const std::string& folder);
util::Result<ledger::Filter> filter_from(const LedgerOptions& o);
util::Result<ledger::DayOf> day_of_zone(const std::string& tz);
// Lines that could not be read are skipped by show and sum, never silently.
void warn_skipped(Console& console, const std::vector<ledger::ReadIssue>& issues);
bool stdout_is_tty();
// A JsonLineWriter's object without its '\n', to nest it in a larger document.
std::string json_object(ledger::JsonLineWriter& writer);
void print(const std::string& text);
std::string plural(std::int64_t n, const std::string& one, const std::string& many);

// The sub-subcommands (ledger_show_sum.cpp, ledger_verify.cpp, ledger_compact.cpp).
util::Result<ExitCode> run_show(const LedgerOptions& o, Console& console,
                                const context::Context& ctx);
util::Result<ExitCode> run_sum(const LedgerOptions& o, Console& console,
                               const context::Context& ctx);
util::Result<ExitCode> run_verify(const LedgerOptions& o, Console& console,
                                  const context::Context& ctx);
util::Result<ExitCode> run_compact(const LedgerOptions& o, Console& console,
                                   const context::Context& ctx);

}  // namespace assetgen::cli::ledger_cmd
