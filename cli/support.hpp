#pragma once
// What every subcommand shares: exit codes (DESIGN.md §10), the console (logs on stderr,
// colour only on a TTY and without NO_COLOR, --quiet), a progress bar that only a TTY sees,
// and options from the environment and a config file with flag > environment > file.

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "cli11_fwd.hpp"
#include "flag_checks.hpp"
#include "util/status.hpp"

namespace assetgen::cli {

enum class ExitCode : int {
    ok = 0,
    rows_failed = 1,
    usage = 2,
    budget = 3,
    canary_failed = 4,
    canary_inconclusive = 5,
    invalid_input = 65,
    input_not_found = 66,
    internal = 70,
    upstream_unavailable = 69,
    storage_io = 74,
    tempfail = 75,  // EX_TEMPFAIL: `run --tier batch`, batches still running; run it again
    auth = 77,
    config = 78,
    interrupted_int = 130,
    interrupted_term = 143,
};

// The exit code for a Status that ends a subcommand.
ExitCode exit_code_for(const util::Status& status);

class Console {
public:
    Console();
    void set_quiet(bool quiet) { m_quiet = quiet; }
    // Where options not on the command line came from (see place_usage_message).
    void set_origins(Origins origins) { m_origins = std::move(origins); }
    const Origins& origins() const { return m_origins; }
    bool quiet() const { return m_quiet; }
    bool stderr_is_tty() const { return m_tty; }
    // "assetgen: <text>" on stderr unless quiet. Every line passes util::redact.
    void info(const std::string& text);
    // Warnings and errors print even when quiet.
    void warn(const std::string& text);
    void error(const std::string& text);
    // Prints a Status as an error and returns its exit code (a USAGE_ERROR about an option
    // from the config file: the file and line, exit 78).
    ExitCode fail(const util::Status& status);
    // Redraws the progress line (TTY only, not quiet, at most 10 times a second).
    void progress(const std::string& line, bool force = false);
    // Ends the progress line so that following output starts on a fresh line.
    void end_progress();

private:
    std::string paint(const char* colour, const std::string& text) const;
    Origins m_origins;
    bool m_quiet = false;
    bool m_tty = false;
    bool m_colour = false;
    bool m_progress_shown = false;
    std::chrono::steady_clock::time_point m_last_draw{};
    std::mutex m_mutex;
};

// Gives every option of every subcommand an environment variable (ASSETGEN_<NAME>, e.g.
// --daily-budget-usd → ASSETGEN_DAILY_BUDGET_USD) shown in --help.
void name_environment(CLI::App& app);

// Rewrites argv so that options absent from the command line take their value from the
// environment, then from the config file (--config FILE, or ./assetgen.toml when present).
// The file holds `key = value` lines (TOML subset: strings, numbers, booleans, arrays), top
// level or under [<subcommand>]. CONFIG_ERROR names file and line of anything wrong. origins
// gets the variable or file:line of every option taken from there.
util::Result<std::vector<std::string>> apply_environment_and_config(
    CLI::App& app, const std::vector<std::string>& args, Origins& origins);

// "1.2k/s" style rate, "12s" style ETA.
std::string format_rate(double per_second);

}  // namespace assetgen::cli
