#pragma once
// The steps `run` and `canary` share: signals, the session's options and log, progress and
// failed-row lines, and the exit code of a run that was stopped.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "run_options.hpp"
#include "schedule/session.hpp"
#include "support.hpp"

namespace assetgen::cli {

// Non-zero (the signal number) once SIGINT or SIGTERM arrived.
std::atomic<int>& stop_signal();
// The first SIGINT/SIGTERM stops dispatch; a second one exits at once.
void install_signal_handlers();
// After the first signal, in-flight requests get `grace`; then the process exits 128+signal.
void start_grace_watchdog(std::chrono::milliseconds grace);

// $USER, else the passwd entry, else "unknown".
std::string os_user();
schedule::SessionOptions session_options(const RunOptions& o, const std::string& user);
schedule::SessionLog session_log(Console& console);
// Prepares the job's session. On failure: nullptr, the error said on the console and its exit
// code in `failed`; a budget refusal with --json also prints the pre-flight as JSON on stdout.
std::unique_ptr<schedule::JobSession> prepare_session(schedule::SessionOptions options, util::Clock& clock,
                                                      bool json, Console& console, ExitCode& failed);

// "[#####---] 120/199 images · 41/s · ETA 2s · $4.6 · 4 in flight"
std::string progress_line(const schedule::Progress& p, std::chrono::steady_clock::time_point t0);
// A failed row on stderr (the first 20; the results file and events have them all).
void report_failed_row(const schedule::RowResult& r, int& shown, Console& console);
// The exit code of a run that something stopped (signal, budget, upstream, auth); nullopt
// when it ran to its end.
std::optional<ExitCode> stop_exit_code(const report::Summary& s);

}  // namespace assetgen::cli
