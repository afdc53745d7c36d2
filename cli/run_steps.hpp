#pragma once
// The steps `run` and `canary` share: signals, the session's options and log, progress and
// failed-row lines, and the exit code of a run that was stopped.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "run_options.hpp"
#include "schedule/session.hpp"
#include "support.hpp"

namespace assetgen::cli {

// Non-zero (the signal number) once SIGINT or SIGTERM arrived.
std::atomic<int>& stop_signal();
// The first SIGINT/SIGTERM stops dispatch; a second one exits at once.
void install_signal_handlers();
// After the first signal, in-flight requests get `grace`; then they are abandoned (the live
// transport stops them, see abandon_flag) so that the records of what finished are written; a
// process that still has not ended k_record_time later exits 128+signal.
void start_grace_watchdog(std::chrono::milliseconds grace);
// True once --grace ran out after a signal: the live transport stops requests in flight.
std::atomic<bool>& abandon_flag();
inline constexpr std::chrono::seconds k_record_time{20};

// The requests a signal's --grace abandoned, by row, said on stderr at the end.
class AbandonedRequests {
public:
    // Notes the row's variants that were abandoned in flight.
    void note(const schedule::RowResult& r);
    // "interrupted: 3 request(s) abandoned after --grace 2s, rows: b.csv:2, ..." when any.
    void report(Console& console, const std::string& grace_text) const;

private:
    std::size_t m_requests = 0;
    std::vector<std::string> m_rows;
};

// Says every record that could not be written; storage_io when there was one, else `code`.
ExitCode report_write_failures(const schedule::JobSession& session, ExitCode code,
                               Console& console);

// $USER, else the passwd entry, else "unknown".
std::string os_user();
schedule::SessionOptions session_options(const RunOptions& o, const std::string& user);
schedule::SessionLog session_log(Console& console);
// Prepares the job's session, or says why not: the caller reports the Status (Console::fail);
// outputs that would land on what the run reads or keeps are a usage error. A budget refusal
// with --json also prints the pre-flight as JSON on stdout first.
util::Result<std::unique_ptr<schedule::JobSession>> prepare_session(
    schedule::SessionOptions options, const context::Context& ctx, bool json, Console& console);

// "[#####---] 120/199 images · 41/s · ETA 2s · $4.6 · 4 in flight"
std::string progress_line(const schedule::Progress& p, std::chrono::steady_clock::time_point t0);
// A failed row on stderr (the first 20; the results file and events have them all).
void report_failed_row(const schedule::RowResult& r, int& shown, Console& console);
// The exit code of a run that something stopped (signal, budget, upstream, auth); nullopt
// when it ran to its end.
std::optional<ExitCode> stop_exit_code(const report::Summary& s);

}  // namespace assetgen::cli
