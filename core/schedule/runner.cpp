// How this works. `concurrency` worker threads share one dispatcher. The dispatcher hands out
// work items (row × variant) in input order from the streaming feed, skipping images that an
// earlier run of the job already made. A worker takes an item through the one retry loop:
// reserve the worst-case cost in the budget, wait for the circuit breaker and the rate limiter,
// send, settle the reservation to the actual cost; transient failures wait out the backoff (or
// the server's hint, when longer) and go round again. A finished image is stored, its
// ledger line written (charge_image: the payment is recorded before anything waits), its
// manifest line queued for the group commit (durable_log.hpp), and the worker takes its next
// item: a slow sync never lowers the requests in flight. Once the line is durable, on the
// commit's thread, its reservation is settled and the image counted done (committed()). When every
// variant of a row has ended, the row goes into a reorder buffer that reports rows in input order:
// one thread at a time (the one holding the emitter token) calls on_row, with no runner lock held.
//
// Dispatch halts for good when the budget has no room (the rest end BUDGET_EXCEEDED), when the
// circuit stayed open longer than allowed (UPSTREAM_UNAVAILABLE), or on a stop signal (the rest
// stay undone for the next run). At most `concurrency` requests are ever in flight, because each
// worker has at most one.
#include "schedule/runner_impl.hpp"
#include "schedule/storage_error.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "report/histogram.hpp"
#include "schedule/rate_limiter.hpp"
#include "util/buffer_pool.hpp"
#include "util/hash.hpp"

namespace assetgen::schedule {

using util::Code;
using util::Micros;
using util::Status;
using Kind = VariantOutcome::Kind;

std::string done_key(const std::string& scene_id, int variant) {
    return scene_id + '\n' + std::to_string(variant);
}

std::string ref_mode_instruction(batch::RefMode mode) {
    if (mode == batch::RefMode::style_and_composition) {
        return "Use the attached reference images for style and composition: match their "
               "palette, lighting, texture, layout and framing, but depict the subject described "
               "above.";
    }
    return "Use the attached reference images for style only: take their palette, lighting and "
           "texture, but not their layout, framing or subject.";
}

using namespace detail;

int runner_locks_held() {
    return t_locks_held;
}

void Runner::Impl::set_halt(Halt h) {
    Halt expected = Halt::none;
    halt.compare_exchange_strong(expected, h);
}

bool Runner::Impl::wait_until(util::SteadyTime t) {
    for (;;) {
        if (deps.stop.load() != 0) {
            return false;
        }
        auto now = deps.clock.steady();
        if (now >= t) {
            return true;
        }
        deps.clock.sleep_for(
            std::min<std::chrono::nanoseconds>(t - now, std::chrono::milliseconds(100)));
    }
}

void Runner::Impl::execute(const Item& item) {
    auto& o = item.row->outcomes[static_cast<size_t>(item.variant - 1)];
    const RowRefs& refs = row_refs(*item.row);
    if (!refs.status.ok()) {
        record_unsent(item, refs.status, o);
        images_done.fetch_add(1);
        finish_variant(item.row);
        progress();
        return;
    }
    Attempted a = attempt_loop(item, refs.images);
    if (a.status.code() == Code::unauthenticated || a.status.code() == Code::permission_denied) {
        // Credentials are wrong for every row alike: stop instead of failing them one by one.
        RunnerLock lock(dispatch_mutex);
        if (auth_error.ok()) {
            auth_error = a.status;
        }
        set_halt(Halt::auth);
    }
    if (a.status.ok()) {
        // The worker hands off here (issue 18): the image is stored, its manifest line queued
        // for the next group commit, and this worker takes its next request at once. The rest
        // (ledger line, settling, the row's report) runs once the line is durable (committed()).
        auto m = store_image(item, a);
        if (!m.ok()) {
            recording_failed(item, a, m.status());
            finish_item(item, a);
            return;
        }
        // Paid and stored: its ledger line goes out before the manifest line waits for its
        // group, so a kill in that window leaves the payment in the ledger (and the next run
        // adopts the image from it instead of paying again: adopt_paid.hpp). The line costs no
        // sync of its own: the group's step 1 (or the next) makes it durable.
        // When that line cannot be written (a full disk), the manifest line is still queued:
        // once durable, the next run's reconciliation writes the ledger line from it, and this
        // run stops with the error.
        const Status charged = charge_image(item, a, *m);
        // Stored: its bytes are not held while the line waits for its group; the buffer goes
        // back to the pool for the next answer's body (util/buffer_pool.hpp).
        util::BufferPool::shared().give(std::move(a.result.data));
        auto held = std::make_shared<std::pair<Attempted, ledger::ManifestEntry>>(
            std::move(a), std::move(m).value());
        deps.manifest.append_then(
            held->second, [this, item, held, charged](const Status& st, bool written) {
                committed(item, held->first, held->second, st.ok() ? charged : st, written);
            });
        return;
    }
    record_failure(item, a, o);
    if (a.started) {
        RunnerLock s(stats_mutex);
        summary.actual_cost += a.cost;
        summary.estimated_cost += a.estimate;
    }
    finish_item(item, a);
}

void Runner::Impl::committed(const Item& item, Attempted& a, const ledger::ManifestEntry& m,
                             const Status& st, bool written) {
    auto& o = item.row->outcomes[static_cast<size_t>(item.variant - 1)];
    // Its ledger line is already written (charge_image). A line whose group's sync failed is
    // in the manifest anyway (the next run counts the image done); either way the run stops
    // with the error, and record_failure adds no failure line for a charged image.
    a.in_manifest = st.ok() || written;
    if (!st.ok()) {
        recording_failed(item, a, st);
    } else {
        record_success(item, a, m, o);
        {
            RunnerLock s(stats_mutex);
            ++summary.images_generated;
            summary.latency_ms.record(a.latency_ms);
            summary.actual_cost += a.cost;
            summary.estimated_cost += a.estimate;
        }
        deps.events.emit("item_complete", {{"scene_id", item.row->data.row.scene_id},
                                           {"variant", item.variant},
                                           {"uri", o.uri},
                                           {"latency_ms", a.latency_ms},
                                           {"attempts", a.attempts},
                                           {"cost_usd", util::to_dollars(a.cost)}});
    }
    finish_item(item, a, /*may_emit=*/false);  // on the committer: the reporter reports it
}

void Runner::Impl::recording_failed(const Item& item, Attempted& a, const Status& st) {
    // Paid for but not recorded: the ledger still gets the cost once (a failure line, or the
    // manifest line's own ledger line when that line was durable).
    auto& o = item.row->outcomes[static_cast<size_t>(item.variant - 1)];
    a.status = st;
    record_failure(item, a, o);
    RunnerLock lock(dispatch_mutex);
    if (fatal.ok()) {
        // What the user does next (a full disk above all): the paid image is charged once
        // either way, and the same command resumes.
        fatal =
            util::Status(st.code(), st.message() + " (scene_id \"" + item.row->data.row.scene_id +
                                        "\" v" + std::to_string(item.variant) +
                                        " is not done; free space or fix the disk, then run "
                                        "the same command again: it resumes and charges no "
                                        "image twice)");
    }
    set_halt(Halt::error);
}

void Runner::Impl::finish_item(const Item& item, const Attempted& a, bool may_emit) {
    auto& o = item.row->outcomes[static_cast<size_t>(item.variant - 1)];
    if (a.reserved > 0) {
        if (may_emit) {
            deps.budget.settle(a.reserved, a.cost);
        } else {  // on the committer: one journal write for the group (set_group_end in run())
            deps.budget.settle_later(a.reserved, a.cost);
        }
    }
    if (a.rate_ticket != 0) {  // the image's ledger line is out: its cost counts from here on
        spend_rate.settle(a.rate_ticket, a.cost, deps.clock.steady());
    }
    if (a.wasted > 0) {  // billed answers that were not images: already in the ledger
        o.cost += a.wasted;
        RunnerLock s(stats_mutex);
        summary.actual_cost += a.wasted;
    }
    images_done.fetch_add(o.kind == Kind::not_run ? 0 : 1);
    finish_variant(item.row, may_emit);
    progress();
}

void Runner::Impl::progress() {
    if (!on_progress || !*on_progress) {
        return;
    }
    Progress p;
    p.images_done = images_done.load();
    p.images_planned = images_planned;
    p.in_flight = in_flight.load();
    p.spent = deps.budget.spent();
    (*on_progress)(p);
}

void Runner::Impl::worker() {
    while (auto item = next_item()) {
        execute(*item);
    }
}

Runner::Runner(RunSettings settings, RunDeps deps, const DoneIndex& done)
    : m_settings(std::move(settings)), m_deps(deps), m_done(done) {}

util::Result<report::Summary> Runner::run(const RowFeed& feed, std::uint64_t images_planned,
                                          const std::function<void(const RowResult&)>& on_row,
                                          const std::function<void(const Progress&)>& on_progress) {
    Impl impl(m_settings, m_deps, m_done);
    impl.feed = &feed;
    impl.on_row = &on_row;
    impl.on_progress = &on_progress;
    impl.images_planned = images_planned;
    auto& s = impl.summary;
    s.job_id = m_settings.job_id;
    s.mode = std::string(ledger::run_mode_name(m_settings.mode));
    s.model = m_settings.model;
    s.user = m_settings.user;
    s.images_planned = images_planned;
    s.started_ms = m_deps.clock.unix_ms();
    s.budget_limit = m_deps.budget.limit();
    s.budget_spent_before = m_deps.budget.spent();
    const auto t0 = m_deps.clock.steady();

    // The reservations of a group's images, settled by their callbacks (finish_item), are
    // written to the shared budget once per group instead of once per image (issue 18).
    budget::Budget& budget = m_deps.budget;
    m_deps.manifest.set_group_end([&budget] { budget.flush_settles(); });
    std::thread reporter([&impl] { impl.reporter(); });
    const int n = std::max(1, m_settings.concurrency);
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        workers.emplace_back([&impl] { impl.worker(); });
    }
    for (auto& w : workers) {
        w.join();
    }
    // The images handed off to the group commit: committed, recorded and their rows reported.
    m_deps.manifest.wait_idle();
    m_deps.manifest.set_group_end(nullptr);
    m_deps.budget.flush_settles();
    {
        RunnerLock lock(impl.reorder_mutex);
        impl.reporter_stop = true;
    }
    impl.emit_wanted.notify_all();
    reporter.join();
    impl.drain();
    impl.wait_emitted();  // the last row's on_row has returned
    Status flushed = as_storage_error(m_deps.ledger.flush(), "ledger");

    s.finished_ms = m_deps.clock.unix_ms();
    s.wall_seconds = std::chrono::duration<double>(m_deps.clock.steady() - t0).count();
    s.budget_overshoot = m_deps.budget.overshoot();
    s.circuit_opens = static_cast<std::uint64_t>(impl.breaker.opens());
    impl.add_ref_stats();
    s.first_error = impl.auth_error.ok() ? "" : impl.auth_error.message();
    RunEnd end = RunEnd::ok;
    switch (impl.halt.load()) {
        case Halt::budget:
            end = RunEnd::budget_exceeded;
            break;
        case Halt::upstream:
            end = RunEnd::upstream_unavailable;
            break;
        case Halt::auth:
            end = RunEnd::auth_failed;
            break;
        case Halt::error:
            end = RunEnd::error;
            break;
        case Halt::quota:
            end = quota_run_end(impl.quota_stop.code()).value_or(RunEnd::error);
            s.first_error = impl.quota_stop.message() + "; " + impl.quota_reset;
            break;
        default:
            end = m_deps.stop.load() != 0 ? RunEnd::interrupted
                                          : (s.rows_failed ? RunEnd::failed : RunEnd::ok);
    }
    s.status = end;
    if (!impl.fatal.ok()) {
        return impl.fatal;
    }
    if (!flushed.ok()) {
        return flushed;
    }
    return s;
}

}  // namespace assetgen::schedule
