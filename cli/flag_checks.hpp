#pragma once
// Flag values are checked at the edge: a wrong value is a usage error (exit 2) that names the
// flag, or, when the value came from the config file, a configuration error (exit 78) that
// names the file and line. Text that reaches JSON must be valid UTF-8, so every option's value
// is checked for it before any file or folder is made.

#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli11_fwd.hpp"
#include "util/status.hpp"

namespace assetgen::cli {

// USAGE_ERROR "<flag>: <message>" (the message's own leading "<flag>: " is not repeated).
util::Status flag_error(std::string_view flag, const util::Status& status);

// Passes a value through; a failure becomes flag_error(flag, failure).
template <typename T>
util::Result<T> flag_value(std::string_view flag, util::Result<T> r) {
    if (r.ok()) {
        return r;
    }
    return flag_error(flag, r.status());
}
inline util::Status flag_check(std::string_view flag, const util::Status& s) {
    return s.ok() ? s : flag_error(flag, s);
}

// A gs:// location given to a flag must name a bucket ("gs://" alone, or a bad bucket name, is
// refused rather than written as a local folder "gs:"). ok for local paths.
util::Status check_location_flag(std::string_view flag, const std::string& value);

// A local folder flag (--out, --ledger, ...) that names something other than a folder (a file,
// a device) is refused before anything runs: USAGE_ERROR naming the flag. ok when missing.
util::Status check_folder_flag(std::string_view flag, const std::string& value);

// Valid UTF-8, else `"\xFF" is not valid UTF-8`, the bad bytes escaped.
const CLI::Validator& utf8_text();
// A dollar amount: a finite, non-negative number of at most 1e9 (not "", nan, inf, 1e308).
const CLI::Validator& money();
// A whole number from lo to hi, as typed: else `"0" must be a whole number from 1 to 1024`
// (CLI11 puts "--flag: " in front). CLI::Range said `Value 0 not in range 1 to 1024`, and a
// word or a fraction got CLI11's "Could not convert".
CLI::Validator whole_number(long long lo, long long hi);
// A decimal number that `fits` accepts, as typed: else `"1" must be <wanted>`; `wanted` says the
// range in words and gives an example, e.g. "at least 0.5 and below 1 (e.g. 0.95)".
CLI::Validator decimal(bool (*fits)(double), const std::string& wanted);
// Every ASSETGEN_* variable must be valid UTF-8: USAGE_ERROR naming the variable.
util::Status check_environment_text();
// Every argument must be valid UTF-8: USAGE_ERROR naming the option the bad value belongs to
// ("--out: ..."), or "argument" for a positional one. Runs before any option's own check.
util::Status check_args_text(const std::vector<std::string>& args);
// Adds utf8_text() to every option (positionals included) that takes a value, in every
// subcommand below app.
void check_text_everywhere(CLI::App& app);
// The text with bytes that break UTF-8 (and control characters) written as \xNN.
std::string printable(std::string_view text);

// CLI11's message for a parse error in the words of the messages above: "--json=maybe" gives
// `--json: "maybe" is not true or false (give --json alone to turn it on)`, not
// `Could not convert: --json = maybe`; "--format xml" gives `--format: "xml" is not one of csv,
// json, jsonl`. Errors that name no value (an unknown option, a missing argument) keep CLI11's
// text and point at --help.
std::string usage_message(const std::exception& error, CLI::App& app);

// Where options came from when not from the command line: "--name" → "ASSETGEN_NAME" or
// "assetgen.toml:3".
struct Origin {
    std::string where;
    bool from_file = false;
};
using Origins = std::map<std::string, Origin>;

// For a usage message that starts with a flag whose value came from the environment or the
// config file: the message prefixed with its origin. The exit code it deserves: 78 for the
// file, else 2.
struct Placed {
    std::string message;
    int exit_code = 2;
};
Placed place_usage_message(const std::string& message, const Origins& origins);

}  // namespace assetgen::cli
