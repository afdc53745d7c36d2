// Handing out work items in input order, skipping what is done, and reporting finished rows in
// input order. See runner.cpp for how the pieces fit.
#include "schedule/runner_impl.hpp"

namespace assetgen::schedule {

using namespace detail;

std::optional<Item> Runner::Impl::next_item() {
    std::vector<std::shared_ptr<RowState>> ended;
    for (;;) {
        // Asked before each image is handed out, without the dispatcher's lock (it may read
        // the clock and a lock of its own; it is thread-safe).
        Status held = deps.still_held ? deps.still_held() : Status();
        std::optional<Item> item;
        bool more = false;
        {
            RunnerLock lock(dispatch_mutex);
            if (!held.ok()) {
                if (fatal.ok()) {
                    fatal = held;
                }
                set_halt(Halt::error);
            } else {
                item = next_item_locked(more);
            }
            ended.swap(rows_ended);
        }
        report_rows(ended);  // the rows that ended in the dispatcher, with no lock held
        ended.clear();
        if (item || !more) {
            return item;
        }
    }
}

std::optional<Item> Runner::Impl::next_item_locked(bool& more) {
    for (;;) {
        if (stopping()) {
            return std::nullopt;
        }
        if (rows_ended.size() >= k_report_batch) {
            more = true;  // a long run of done rows: report these before reading on
            return std::nullopt;
        }
        if (current && next_variant <= current->data.row.variants) {
            int v = next_variant++;
            auto it = done.find(done_key(current->data.row.scene_id, v));
            if (it != done.end()) {
                auto& o = current->outcomes[static_cast<size_t>(v - 1)];
                o.kind = Kind::skipped_done;
                o.uri = it->second.uri;
                o.cost = it->second.cost;
                {
                    RunnerLock s(stats_mutex);
                    ++summary.images_skipped;
                }
                images_done.fetch_add(1);
                finish_variant_locked(current);
                continue;
            }
            return Item{current, v};
        }
        if (feed_done) {
            return std::nullopt;
        }
        if (!read_next_row_locked()) {
            return std::nullopt;
        }
    }
}

bool Runner::Impl::read_next_row_locked() {
    auto r = (*feed)();
    if (!r.ok()) {
        fatal = r.status();
        set_halt(Halt::error);
        feed_done = true;
        return false;
    }
    if (!r->has_value()) {
        feed_done = true;
        if (current) {
            release_dispatch_hold_locked(current);
            current.reset();
        }
        return false;
    }
    auto state = make_row_state(next_seq++, std::move(**r));
    if (current) {
        release_dispatch_hold_locked(current);
    }
    current = state;
    next_variant = 1;
    return true;
}

void Runner::Impl::release_dispatch_hold_locked(const std::shared_ptr<RowState>& row) {
    if (--row->pending == 0) {
        rows_ended.push_back(row);
    }
}

void Runner::Impl::finish_variant_locked(const std::shared_ptr<RowState>& row) {
    if (--row->pending == 0) {
        rows_ended.push_back(row);
    }
}

void Runner::Impl::finish_variant(const std::shared_ptr<RowState>& row, bool may_emit) {
    std::vector<std::shared_ptr<RowState>> ended;
    {
        RunnerLock lock(dispatch_mutex);
        finish_variant_locked(row);
        ended.swap(rows_ended);
    }
    report_rows(ended, may_emit);
}

void Runner::Impl::drain() {
    Code code = Code::cancelled;
    std::string message = "interrupted before it started; run the same command again to finish";
    switch (halt.load()) {
        case Halt::budget:
            code = Code::budget_exceeded;
            message = "the daily budget has no room for this image";
            break;
        case Halt::upstream:
            code = Code::upstream_unavailable;
            message = "the model stayed unavailable longer than --circuit-max-open";
            break;
        case Halt::auth:
            code = Code::unauthenticated;
            message = "not run: the model refused the credentials (see the first error)";
            break;
        case Halt::error:
            code = Code::cancelled;
            message = "not run: the run stopped on an error";
            break;
        default:
            break;
    }
    if (halt.load() == Halt::quota) {
        Status st = quota_not_sent();
        code = st.code();
        message = st.message();
    }
    // One row at a time, each reported once the lock is released (the rest of a long feed
    // is streamed, not gathered).
    std::vector<std::shared_ptr<RowState>> ended;
    for (bool more = true; more;) {
        {
            RunnerLock lock(dispatch_mutex);
            more = drain_one_locked(code, message);
            ended.swap(rows_ended);
        }
        report_rows(ended);
        ended.clear();
    }
}

bool Runner::Impl::drain_one_locked(Code code, const std::string& message) {
    if (current) {
        for (int v = next_variant; v <= current->data.row.variants; ++v) {
            auto& o = current->outcomes[static_cast<size_t>(v - 1)];
            auto it = done.find(done_key(current->data.row.scene_id, v));
            if (it != done.end()) {
                o.kind = Kind::skipped_done;
                o.uri = it->second.uri;
                o.cost = it->second.cost;
            } else {
                o.kind = Kind::not_run;
                o.code = code;
                o.message = message;
            }
            current->pending--;
        }
        next_variant = current->data.row.variants + 1;
        release_dispatch_hold_locked(current);
        current.reset();
    }
    if (feed_done || halt.load() == Halt::error) {
        return false;
    }
    auto r = (*feed)();
    if (!r.ok()) {
        fatal = r.status();
        return false;
    }
    if (!r->has_value()) {
        feed_done = true;
        return false;
    }
    auto state = make_row_state(next_seq++, std::move(**r));
    current = state;
    next_variant = 1;
    return true;
}

void Runner::Impl::report_rows(const std::vector<std::shared_ptr<RowState>>& rows, bool may_emit) {
    if (rows.empty()) {
        return;
    }
    for (const auto& row : rows) {
        // Every variant has ended: the row's copies of its refs are no longer needed.
        RunnerLock refs_lock(row->refs.mutex);
        row->refs.images.clear();
        row->refs.images.shrink_to_fit();
    }
    RunnerLock lock(reorder_mutex);
    for (const auto& row : rows) {
        finished.emplace(row->seq, row);
    }
    while (!finished.empty() && finished.begin()->first == next_to_report) {
        to_emit.push_back(std::move(finished.begin()->second));
        finished.erase(finished.begin());
        ++next_to_report;
    }
    if (emitting) {
        return;  // the thread holding the token reports them, in order
    }
    if (!may_emit) {
        if (!to_emit.empty()) {
            emit_wanted.notify_one();  // the reporter thread reports them
        }
        return;
    }
    emit_queued(lock);
}

void Runner::Impl::emit_queued(RunnerLock& lock) {
    // Take the emitter token: on_row runs without the lock, and only on this thread until
    // the queue is empty, so rows stay in input order and never overlap.
    emitting = true;
    while (!to_emit.empty()) {
        std::shared_ptr<RowState> next = std::move(to_emit.front());
        to_emit.pop_front();
        lock.unlock();
        emit_row(*next);
        next.reset();
        lock.lock();
    }
    emitting = false;
    emitted.notify_all();
}

void Runner::Impl::reporter() {
    RunnerLock lock(reorder_mutex);
    for (;;) {
        emit_wanted.wait(lock.raw(),
                         [this] { return reporter_stop || (!emitting && !to_emit.empty()); });
        if (emitting || to_emit.empty()) {
            return;  // stopped, nothing left for it
        }
        emit_queued(lock);
    }
}

void Runner::Impl::wait_emitted() {
    RunnerLock lock(reorder_mutex);
    emitted.wait(lock.raw(), [this] { return !emitting && to_emit.empty(); });
}

void Runner::Impl::emit_row(const RowState& r) {
    RowResult res;
    res.row = &r.data;
    res.variants = r.outcomes;
    int ok = 0, failed = 0, not_run = 0;
    for (const auto& o : r.outcomes) {
        res.cost += o.cost;
        if (o.kind == Kind::ok || o.kind == Kind::skipped_done) {
            ++ok;
        } else {
            (o.kind == Kind::failed ? failed : not_run)++;
            if (res.first_error == Code::ok) {
                res.first_error = o.code;
                res.first_message = o.message;
            }
        }
    }
    const int n = static_cast<int>(r.outcomes.size());
    if (ok == n) {
        res.status = RowStatus::ok;
    } else if (ok > 0) {
        res.status = RowStatus::partial;
    } else {
        res.status = row_status_of_error(res.first_error);
    }
    {
        RunnerLock s(stats_mutex);
        ++summary.rows;
        if (ok == n) {
            ++summary.rows_ok;
        } else if (failed + not_run > 0 && res.status != RowStatus::interrupted) {
            ++summary.rows_failed;
        }
    }
    if (*on_row) {
        (*on_row)(res);
    }
}

}  // namespace assetgen::schedule
