#pragma once
// Private to the schedule module: the state the runner's workers share, split across
// runner.cpp (workers and the run), runner_dispatch.cpp (handing out work, reporting rows in
// order) and runner_attempt.cpp (the retry loop and recording one image).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "provider/image_check.hpp"
#include "report/histogram.hpp"
#include "schedule/circuit_breaker.hpp"
#include "schedule/rate_limiter.hpp"
#include "schedule/runner.hpp"

namespace assetgen::schedule {
namespace detail {

using util::Code;
using util::Micros;
using util::Status;
using Kind = VariantOutcome::Kind;

// The file extension for an image MIME type.
inline std::string extension_for(const std::string& mime) {
    if (mime == "image/jpeg") {
        return "jpg";
    }
    if (mime == "image/webp") {
        return "webp";
    }
    return "png";
}

inline std::string lower_code(Code c) {
    return util::to_lower(util::code_name(c));
}

// A row's reference images, resolved once by the first of its variants to run; the others
// wait on `mutex` and share the result.
struct RowRefs {
    std::mutex mutex;
    bool resolved = false;
    util::Status status;  // REF_FETCH_FAILED: every variant of the row fails with it
    std::vector<provider::RefImage> images;
};

struct RowState {
    std::uint64_t seq = 0;
    BatchRow data;
    std::vector<VariantOutcome> outcomes;
    int pending = 0;  // guarded by the dispatcher's row mutex
    RowRefs refs;
};

// A row read for dispatch, numbered for the reorder buffer. The row holds one count per variant
// plus one for the dispatcher, released once all its variants are handed out (so that a row is
// never reported half-dispatched).
inline std::shared_ptr<RowState> make_row_state(std::uint64_t seq, BatchRow data) {
    auto state = std::make_shared<RowState>();
    state->seq = seq;
    state->data = std::move(data);
    state->outcomes.resize(static_cast<size_t>(state->data.row.variants));
    state->pending = state->data.row.variants + 1;
    return state;
}

struct Item {
    std::shared_ptr<RowState> row;
    int variant = 0;  // 1-based
};

enum class Halt { none, budget, upstream, auth, stopped, error, quota };

// How many of the runner's own mutexes (dispatch_mutex, reorder_mutex, stats_mutex, a row's
// refs.mutex) the calling thread holds: runner_locks_held() reads it, so that tests (and
// anyone debugging) can check that no callback runs under one.
inline thread_local int t_locks_held = 0;

// std::unique_lock on one of the runner's mutexes that keeps t_locks_held up to date. Every
// runner mutex is taken through it.
class RunnerLock {
public:
    explicit RunnerLock(std::mutex& m) : m_lock(m) { ++t_locks_held; }
    ~RunnerLock() {
        if (m_lock.owns_lock()) {
            --t_locks_held;
        }
    }
    RunnerLock(const RunnerLock&) = delete;
    RunnerLock& operator=(const RunnerLock&) = delete;
    void lock() {
        m_lock.lock();
        ++t_locks_held;
    }
    void unlock() {
        --t_locks_held;
        m_lock.unlock();
    }
    // For a condition variable's wait (the mutex is released while it waits).
    std::unique_lock<std::mutex>& raw() { return m_lock; }

private:
    std::unique_lock<std::mutex> m_lock;
};

}  // namespace detail

struct Runner::Impl {
    using Item = detail::Item;
    using RowState = detail::RowState;
    using Halt = detail::Halt;
    using Kind = detail::Kind;
    using Status = util::Status;
    using Micros = util::Micros;

    Impl(const RunSettings& s, RunDeps& d, const DoneIndex& done)
        : settings(s),
          deps(d),
          done(done),
          breaker(s.breaker),
          limiter(s.rpm),
          spend_rate(s.max_spend_rate) {}

    const RunSettings& settings;
    RunDeps& deps;
    const DoneIndex& done;
    CircuitBreaker breaker;
    RateLimiter limiter;
    SpendRateWindow spend_rate;
    const RowFeed* feed = nullptr;
    const std::function<void(const RowResult&)>* on_row = nullptr;
    const std::function<void(const Progress&)>* on_progress = nullptr;

    // Dispatcher state.
    std::mutex dispatch_mutex;
    std::shared_ptr<RowState> current;
    int next_variant = 1;
    std::uint64_t next_seq = 0;
    bool feed_done = false;
    std::atomic<Halt> halt{Halt::none};
    Status fatal;
    Status auth_error;  // the first AUTH_FAILED / PERMISSION_DENIED
    // The first QUOTA_DAILY / SPEND_CAP / BILLING_CAP answer and when its limit resets (set
    // once, under dispatch_mutex, before halt becomes Halt::quota).
    Status quota_stop;
    std::string quota_reset;
    // Rows whose last variant ended under dispatch_mutex (a skipped image, the dispatcher's
    // hold released, a drained row): reported by whoever took them out, once it is released.
    std::vector<std::shared_ptr<RowState>> rows_ended;
    // At most this many are gathered before they are reported (a long run of done rows).
    static constexpr std::size_t k_report_batch = 64;

    // Rows finish in any order; they are reported in input order. Under reorder_mutex the
    // rows next in order move from `finished` to `to_emit`; the thread that finds `emitting`
    // false takes that token and calls on_row for each with the lock released, until the queue
    // is empty; the others only enqueue. `emitted` is notified when the token is given up.
    std::mutex reorder_mutex;
    std::condition_variable emitted;
    std::map<std::uint64_t, std::shared_ptr<RowState>> finished;
    std::deque<std::shared_ptr<RowState>> to_emit;
    std::uint64_t next_to_report = 0;
    bool emitting = false;
    // Rows that end on the group committer's thread are only enqueued there (a slow on_row
    // must not hold up the commits): the reporter thread (reporter()) takes the token for them.
    std::condition_variable emit_wanted;
    bool reporter_stop = false;

    // Statistics.
    std::mutex stats_mutex;
    report::Summary summary;
    std::atomic<std::uint64_t> in_flight{0};
    std::atomic<bool> hint_warned{false};   // a hint over --max-retry-delay was said on stderr
    std::atomic<bool> size_warned{false};   // an image of another size than asked was said
    std::atomic<bool> usage_warned{false};  // usage counts that cannot be a bill were said
    std::atomic<std::uint64_t> images_done{0};
    std::uint64_t images_planned = 0;
    std::uint64_t refs_named = 0;  // refs of the rows resolved (kept + dropped), under stats_mutex

    bool stopping() const { return deps.stop.load() != 0 || halt.load() != Halt::none; }

    // --- dispatch ---------------------------------------------------------------------------

    // --- reporting rows in order ------------------------------------------------------------

    // --- one image --------------------------------------------------------------------------

    struct Attempted {
        Status status;  // ok, or the final error
        provider::ImageResult result;
        int attempts = 0;
        std::int64_t latency_ms = 0;
        Micros cost = 0;
        Micros estimate = 0;
        Micros reserved = 0;   // still held in the budget: settled once the ledger line is out
        bool started = false;  // a request was sent at least once
        // Billed answers whose image was not an image (each has its own ledger line already):
        // their cost, added to the image's cost and the summary's.
        Micros wasted = 0;
        std::uint64_t rate_ticket = 0;  // held in spend_rate until execute() settles it (0: none)
        // The usage of a failed answer that was billed (a refusal): its line records it.
        std::optional<provider::Usage> usage;
        // The image's manifest line is durable: it promises the ledger line, which the next
        // run's reconciliation writes if this run could not (so no failure line charges it too).
        bool in_manifest = false;
        // The image's ok ledger line is written (charge_image, before its manifest line is
        // queued): it charges the request, so no failure line charges it too.
        bool charged = false;
    };

    void set_halt(Halt h);
    // Sleeps until t in short slices so that a stop signal is noticed. False when stopped.
    bool wait_until(util::SteadyTime t);
    std::optional<Item> next_item();
    // Under dispatch_mutex: the next item, or none (the end, a stop, or `more`: rows_ended is
    // full, report it and ask again).
    std::optional<Item> next_item_locked(bool& more);
    // Reads the next row into `current`. False at the end of the feed or on error.
    bool read_next_row_locked();
    void release_dispatch_hold_locked(const std::shared_ptr<RowState>& row);
    void finish_variant_locked(const std::shared_ptr<RowState>& row);
    // may_emit false: the row is enqueued for the reporter thread, on_row is not called here.
    void finish_variant(const std::shared_ptr<RowState>& row, bool may_emit = true);
    // After the workers are gone: everything not handed out ends with the halt's outcome.
    void drain();
    // Ends the current row with the halt's outcome and reads the next. False at the end.
    bool drain_one_locked(util::Code code, const std::string& message);
    // Rows whose variants have all ended: into the reorder buffer, and on_row for those next
    // in input order (by this thread if it takes the emitter token). Called with no lock held.
    void report_rows(const std::vector<std::shared_ptr<RowState>>& rows, bool may_emit = true);
    // The reporter thread: takes the emitter token for rows enqueued with may_emit false, until
    // reporter_stop.
    void reporter();
    // Under reorder_mutex (held by lock), with the token free: takes the emitter token and
    // calls on_row for each queued row with the lock released, until the queue is empty, then
    // gives the token up. report_rows and reporter() both report this way.
    void emit_queued(detail::RunnerLock& lock);
    // Returns once no thread is reporting rows (Runner::run waits on it before returning).
    void wait_emitted();
    void emit_row(const RowState& r);
    // Resolves the row's refs the first time one of its variants asks (see RowRefs).
    const detail::RowRefs& row_refs(RowState& row);
    // Under the row's refs.mutex: fetches them; a "refs" event for dropped ones, to emit after.
    void resolve_refs_locked(RowState& row, nlohmann::json& dropped_event);
    // A variant that failed before any request was made (its refs could not be fetched):
    // counted as an error, reported as an "error" event, no ledger line.
    void record_unsent(const Item& item, const Status& status, VariantOutcome& o);
    // Copies the fetcher's counters into the summary.
    void add_ref_stats();
    provider::ImageRequest make_request(const batch::Row& row, int variant,
                                        const std::vector<provider::RefImage>& refs) const;
    // The one retry loop for model requests.
    Attempted attempt_loop(const Item& item, const std::vector<provider::RefImage>& refs);
    // Waits for the circuit breaker and the rate limiter. UPSTREAM_UNAVAILABLE or CANCELLED.
    Status pass_gates(bool& probe);
    void note_breaker(bool success, bool probe);
    // A request cost more than its reservation: halt dispatch, count it, say so.
    void note_overrun(const batch::Row& row, int variant, Micros cost, Micros reserved,
                      const provider::Usage& u, std::int64_t max_output_tokens);
    // Waits until the spend-rate window has room for `worst` (--max-spend-rate): the ticket, or
    // 0 with `why` set (stopped, or one request over the whole limit).
    std::uint64_t wait_spend_rate(const batch::Row& row, int variant, Micros worst, Status& why);
    // A per-day quota, spend cap or billing cap answered: nothing new is sent (Halt::quota).
    void note_quota_stop(const batch::Row& row, int variant, const Status& st);
    // The Status of a request not sent because of a quota stop.
    Status quota_not_sent();
    // Compares an image's size with the documented one (size_mismatch: event, count, one warning).
    void note_size(const batch::Row& row, int variant, const provider::ImageRequest& req,
                   const provider::ImageInfo& info);
    // The Status of a request whose retry hint is over max_retry_delay (event, one warning).
    Status hint_too_long(const batch::Row& row, int variant, const Status& st);
    void emit_budget_event(Micros needed);
    ledger::Entry base_entry(const batch::Row& row, int variant) const;
    // Copies an answer's token counts into its ledger line (has_tokens).
    static void set_tokens(ledger::Entry& e, const provider::Usage& u);
    // What an answer is charged (budget::bill): its usage at the prices, or `reserved` when
    // the model has no price or the counts cannot be a bill (then note_usage_anomaly).
    Micros billed_cost(const batch::Row& row, int variant, const provider::ImageRequest& req,
                       const provider::Usage& u, Micros reserved);
    // A server's usage counts that cannot be a bill were charged the worst case: event, one
    // warning on stderr.
    void note_usage_anomaly(const batch::Row& row, int variant, const provider::ImageRequest& req,
                            const provider::Usage& u, const std::string& anomaly, Micros charged);
    // Stores the image (durable with its manifest line's group): the manifest line to append.
    util::Result<ledger::ManifestEntry> store_image(const Item& item, Attempted& a);
    // The stored image's ok ledger line (with m's uri and sha256), written before its manifest
    // line is queued: a kill in the group-commit window leaves the payment recorded, and the
    // next run adopts the image from it (adopt_paid.hpp). Sets a.charged.
    Status charge_image(const Item& item, Attempted& a, const ledger::ManifestEntry& m);
    // Once the image's manifest line m is durable: the outcome.
    void record_success(const Item& item, const Attempted& a, const ledger::ManifestEntry& m,
                        VariantOutcome& o);
    // After the image's manifest line was committed (st OK) or not: records it (record_success,
    // or a failure that stops the run), then finish_item. On the manifest's committer thread.
    void committed(const Item& item, Attempted& a, const ledger::ManifestEntry& m, const Status& st,
                   bool written);
    // A recording that failed after the request was paid: the failure's ledger line, and the run
    // stops.
    void recording_failed(const Item& item, Attempted& a, const Status& st);
    // The end of an image: its reservation settled, counted done, its row told. On the
    // committer (may_emit false) the reservation is settled with its group (settle_later,
    // flushed once per group by run()'s group end).
    void finish_item(const Item& item, const Attempted& a, bool may_emit = true);
    void record_failure(const Item& item, const Attempted& a, VariantOutcome& o);
    // A billed answer that is made again (its image bytes failed the check, or it came back
    // unreadable with usage): its ledger line (the cost, the tokens when known, status
    // BAD_RESPONSE, no image).
    void record_bad_image(const Item& item, int attempt, Micros cost, Micros estimate,
                          const Status& why);
    // A failure's ledger line could not be written: its cost would be missing from the ledger
    // (and from every budget read from it), so the run stops as when an image's line fails.
    void ledger_line_failed(const batch::Row& row, int variant, const Status& st,
                            const std::string& what);
    void execute(const Item& item);
    void progress();
    void worker();
};

}  // namespace assetgen::schedule
