// How this works. append() writes the line to this writer's spool file and remembers it, with
// its spool offset, in a pending queue. A push (background thread or flush) takes the run at
// the front of the queue (lines of one day, in order), hands it to a SpoolPusher, which
// records the intent, appends it exactly once (gcs_append.cpp) and records the new committed
// offset, and then drops the run from the queue. Only one push runs at a time, and appends go
// on meanwhile. A writer holds the flock of <writer>.lock for its life; recover_spools treats a
// spool whose lock it can take as left by a dead writer and finishes its pushes with the same
// SpoolPusher, so the state file it left decides what was already sent.

#include "ledger/gcs_ledger_writer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <limits>

#include "util/atomic_file.hpp"
#include "util/retry.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

using util::Code;

AppendOptions append_options(const GcsLedgerWriterOptions& o) {
    AppendOptions a;
    a.max_components = o.max_components;
    a.history = std::clamp<std::size_t>(o.parts_history, 1, 256);
    return a;
}

// True when the file was last modified at least retention ago (always for retention 0).
bool untouched_for(const std::string& path, util::Clock& clock,
                   std::chrono::milliseconds retention) {
    if (retention.count() <= 0) {
        return true;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return false;
    }
    const std::int64_t mtime_ms =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    return mtime_ms <= clock.unix_ms() - retention.count();
}

// Pushes what a dead writer's spool still holds. Its lock is held by the caller.
util::Status recover_one(GcsLedgerStore& store, util::Clock& clock,
                         const GcsLedgerWriterOptions& options, const std::string& writer,
                         RecoveryReport& report) {
    const std::string& dir = options.spool_dir;
    const std::string state_path = spool_state_file(dir, writer);
    TRY_ASSIGN(SpoolState state, read_spool_state(state_path));
    TRY_ASSIGN(auto read, read_spool_lines(spool_file(dir, writer), state.committed));
    if (read.empty()) {
        return util::ok_status();
    }
    ++report.spools;
    std::deque<SpoolLine> lines(std::make_move_iterator(read.begin()),
                                std::make_move_iterator(read.end()));
    // Another machine may have pushed some of these lines meanwhile (it resumed the job and
    // restored them from the manifest): those are left out.
    AppendOptions append = append_options(options);
    append.skip_present = true;
    SpoolPusher pusher(store, writer, state_path, std::move(state), append, clock);
    while (!lines.empty()) {
        const PushRun run =
            take_run(lines, pusher.stop_for(lines.front().offset), options.max_part_bytes);
        TRY_ASSIGN(const AppendOutcome outcome, pusher.push(run));
        (outcome == AppendOutcome::appended ? report.lines_pushed : report.lines_already_there) +=
            run.ids.size();
        while (!lines.empty() && lines.front().offset < run.end) {
            lines.pop_front();
        }
    }
    return util::ok_status();
}

}  // namespace

util::Result<RecoveryReport> recover_spools(GcsLedgerStore& store, util::Clock& clock,
                                            const GcsLedgerWriterOptions& options,
                                            const std::string& skip_writer) {
    RecoveryReport report;
    const std::string& dir = options.spool_dir;
    TRY_ASSIGN(const auto writers, list_spools(dir));
    bool unreachable = false;
    for (const auto& writer : writers) {
        if (writer == skip_writer) {
            continue;
        }
        if (unreachable) {
            // Each try would spend the whole retry budget again; the next writer tries anew.
            report.problems.push_back(writer + ": not tried, Cloud Storage is unreachable");
            continue;
        }
        auto lock = SpoolLock::acquire(spool_lock_file(dir, writer), false);
        if (!lock.ok()) {
            report.problems.push_back(writer + ": " + lock.status().message());
            continue;
        }
        if (!lock->has_value()) {
            continue;  // its writer is alive (or someone else is recovering it)
        }
        auto pushed = recover_one(store, clock, options, writer, report);
        if (!pushed.ok()) {
            report.problems.push_back(writer + ": " + pushed.message());
            unreachable = util::is_transient(pushed.code());
            continue;
        }
        // The spool goes first: a state file without its spool is harmless, a spool without
        // its state file would be pushed again from the start.
        const std::string spool = spool_file(dir, writer);
        if (untouched_for(spool, clock, options.spool_retention) && ::unlink(spool.c_str()) == 0) {
            ::unlink(spool_state_file(dir, writer).c_str());
            ::unlink(spool_lock_file(dir, writer).c_str());
            ++report.removed;
        }
    }
    return report;
}

GcsLedgerWriter::GcsLedgerWriter(GcsLedgerStore& store, util::Clock& clock,
                                 GcsLedgerWriterOptions options)
    : m_store(store), m_clock(clock), m_options(std::move(options)) {}

util::Result<std::unique_ptr<GcsLedgerWriter>> GcsLedgerWriter::open(
    GcsLedgerStore& store, util::Clock& clock, GcsLedgerWriterOptions options) {
    if (options.spool_dir.empty()) {
        return util::error(Code::config,
                           store.describe() + ": a gs:// ledger needs a spool folder");
    }
    TRY(util::make_dirs(options.spool_dir));
    // State files a killed writer was replacing ("<writer>.state.tmp.<pid>.<n>").
    util::remove_orphan_temps(options.spool_dir, static_cast<std::int64_t>(std::time(nullptr)),
                              false);
    std::unique_ptr<GcsLedgerWriter> w(new GcsLedgerWriter(store, clock, std::move(options)));
    const std::string& dir = w->m_options.spool_dir;
    w->m_id = new_writer_id(clock.unix_ms());
    TRY_ASSIGN(auto lock, SpoolLock::acquire(spool_lock_file(dir, w->m_id), false));
    if (!lock) {
        return util::error(Code::storage_io,
                           spool_lock_file(dir, w->m_id) + ": a fresh spool is locked already");
    }
    w->m_lock = std::move(lock);
    TRY_ASSIGN(w->m_spool, util::AppendFile::open(spool_file(dir, w->m_id)));
    w->m_pusher.emplace(store, w->m_id, spool_state_file(dir, w->m_id), SpoolState{},
                        append_options(w->m_options), clock);
    if (w->m_options.recover_at_open) {
        auto recovered = recover_spools(store, clock, w->m_options, w->m_id);
        if (recovered.ok()) {
            w->m_recovery = std::move(recovered).value();
            for (const auto& problem : w->m_recovery.problems) {
                w->log("ledger: spool left for later: " + problem);
            }
        } else {
            w->log("ledger: cannot recover spools: " + recovered.status().message());
        }
    }
    if (w->m_options.flush_interval.count() > 0) {
        GcsLedgerWriter* self = w.get();
        w->m_thread = std::thread([self] { self->background(); });
    }
    return w;
}

GcsLedgerWriter::~GcsLedgerWriter() {
    {
        std::lock_guard<std::mutex> lock(m_wake_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void GcsLedgerWriter::log(const std::string& line) const {
    if (m_options.log) {
        m_options.log(util::redact(line));
    }
}

util::Status GcsLedgerWriter::append(const Entry& entry) {
    const std::string line = to_line(entry);
    std::lock_guard<std::mutex> lock(m_mutex);
    auto written = m_spool.append(line);
    if (!written.ok()) {
        // A failed write may have left part of the line: seal it, so that it stays one bad
        // line, and go on from the real end of the file.
        std::error_code ec;
        const auto size = std::filesystem::file_size(m_spool.path(), ec);
        if (!ec && size != m_spool_end) {
            // Best effort: the append's own error is returned below.
            m_spool.append("\n").ignore_error();
            m_spool_end = std::filesystem::file_size(m_spool.path(), ec);
        }
        return written;
    }
    m_pending.push_back(SpoolLine{m_spool_end, line, util::utc_date(entry.ts), entry.id});
    m_spool_end += line.size();
    return util::ok_status();
}

util::Status GcsLedgerWriter::flush() {
    std::uint64_t target = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        TRY(m_spool.sync());
        target = m_spool_end;
        m_spool_synced = m_spool_end;
    }
    return push_until(target);
}

util::Status GcsLedgerWriter::sync() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_spool_synced == m_spool_end) {
        return util::ok_status();
    }
    TRY(m_spool.sync());
    m_spool_synced = m_spool_end;
    return util::ok_status();
}

util::Status GcsLedgerWriter::flush_skipping_present() {
    std::uint64_t target = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        TRY(m_spool.sync());
        target = m_spool_end;
    }
    return push_until(target, true);
}

util::Status GcsLedgerWriter::push_until(std::uint64_t target, bool skip_present) {
    std::lock_guard<std::mutex> pushing(m_push_mutex);
    for (;;) {
        PushRun run;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_pending.empty() || m_pending.front().offset >= target) {
                return util::ok_status();
            }
            run = take_run(m_pending, m_pusher->stop_for(m_pending.front().offset),
                           m_options.max_part_bytes);
        }
        TRY(m_pusher->push(run, skip_present).status());
        std::lock_guard<std::mutex> lock(m_mutex);
        while (!m_pending.empty() && m_pending.front().offset < run.end) {
            m_pending.pop_front();
        }
    }
}

void GcsLedgerWriter::background() {
    // A failed push is tried again for the writer's life (every line must reach the day
    // objects), the wait doubling from 2 × flush_interval up to max_backoff (429 above all);
    // the waits are on the wake condition, so close() ends them at once.
    util::RetryPolicy again;
    again.max_attempts = std::numeric_limits<int>::max();
    again.initial_backoff = m_options.flush_interval * 2;
    again.max_backoff = std::max(m_options.max_backoff, m_options.flush_interval);
    again.jitter = util::Jitter::none;
    util::RetryHooks hooks;
    std::unique_lock<std::mutex> lock(m_wake_mutex, std::defer_lock);
    hooks.wait = [&](std::chrono::milliseconds d) {
        lock.lock();
        m_wake.wait_for(lock, d, [&] { return m_stop; });
        const bool go_on = !m_stop;
        lock.unlock();
        return go_on;
    };
    hooks.on_retry = [&](const util::RetryNotice& n) {
        log("ledger: push to " + m_store.describe() + " failed (next try in " +
            util::format_duration(n.delay) + "): " + n.status->to_string());
    };
    auto push_pending = [&](int) {
        util::Status pushed;
        bool pending = false;
        {
            std::lock_guard<std::mutex> guard(m_mutex);
            pending = !m_pending.empty();
            if (pending) {
                pushed = m_spool.sync();
            }
        }
        if (pending && pushed.ok()) {
            pushed = push_until(UINT64_MAX);
        }
        return pushed;
    };
    auto always = [](const util::Status&) { return util::RetryClass{true, true, std::nullopt}; };
    while (hooks.wait(m_options.flush_interval)) {
        (void)util::retry_loop(m_clock, again, push_pending, always, hooks);
    }
}

}  // namespace assetgen::ledger
