#include "budget/gcs_lease_budget.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "budget/spend.hpp"
#include "storage/gcs_wire.hpp"
#include "util/hash.hpp"
#include "util/money.hpp"
#include "util/retry.hpp"

namespace assetgen::budget {
namespace {

// A lease update that keeps losing the race to other processes gives up (it was unbounded).
constexpr int k_update_rounds = 64;
constexpr std::chrono::milliseconds k_update_deadline{60'000};

// A user name as one object-name segment: [A-Za-z0-9._@-] kept, anything else %XX, so two
// users never share a document.
std::string user_segment(const std::string& user) {
    std::string out;
    for (unsigned char c : user) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '@';
        if (keep) {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out.empty() || out == "." || out == ".." ? "%2E" + out : out;
}

// <ledger>/budget/<day>/<user>.json
util::Result<storage::GcsUrl> document_url(const ledger::GcsLedgerStore& store,
                                           const std::string& day, const std::string& user) {
    return storage::parse_gcs_url(store.describe() + "/budget/" + day + "/" + user_segment(user) +
                                  ".json");
}

// The document at url (empty for user and day when there is none) and its generation (0 then).
util::Result<std::pair<LeaseDoc, std::int64_t>> read_document(storage::GcsClient& client,
                                                              const storage::GcsUrl& url,
                                                              LeaseDoc empty) {
    auto read = client.read(url);
    if (!read.ok()) {
        if (read.status().code() == util::Code::not_found) {
            return std::make_pair(std::move(empty), std::int64_t{0});
        }
        return util::error(read.status().code(), url.to_string() + ": " + read.status().message());
    }
    auto parsed = parse_lease_doc(read->data);
    if (!parsed.ok()) {
        return util::error(util::Code::invalid_input,
                           url.to_string() + ": " + parsed.status().message() +
                               "; delete it to start the day's leases afresh");
    }
    return std::make_pair(std::move(parsed).value(), read->generation);
}

std::string random_id() {
    std::random_device rd;
    const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

GcsLeaseBudget::GcsLeaseBudget(LeaseBudgetOptions options, util::Clock& clock)
    : m_options(std::move(options)),
      m_clock(clock),
      m_id(random_id()),
      m_poll(m_options.poll_min) {}

util::Result<std::unique_ptr<GcsLeaseBudget>> GcsLeaseBudget::open(LeaseBudgetOptions options,
                                                                   util::Clock& clock) {
    if (options.store == nullptr || options.spool_dir.empty()) {
        return util::error(util::Code::config,
                           "a budget on a gs:// ledger needs its store and spool folder");
    }
    if (options.ttl < std::chrono::seconds(1) || options.lease_images < 1) {
        return util::error(util::Code::config,
                           "budget leases: --budget-lease-ttl must be at least 1s and "
                           "--budget-lease-images at least 1");
    }
    std::unique_ptr<GcsLeaseBudget> b(new GcsLeaseBudget(std::move(options), clock));
    const LeaseBudgetOptions& o = b->m_options;
    TRY_ASSIGN(b->m_day, day_in_zone(clock.unix_ms(), o.tz));
    TRY_ASSIGN(b->m_doc_url, document_url(*o.store, b->m_day, o.user));
    b->m_grace_ms = o.ttl.count() / 4;
    b->m_spend = std::make_unique<GcsSpend>(*o.store, o.spool_dir,
                                            SpendScope{o.user, o.mode, o.tz, b->m_day}, clock,
                                            std::chrono::milliseconds(0));
    // Fail early on a bucket that cannot be read or a document that is not one.
    TRY(b->m_spend->refresh(true));
    TRY(read_document(o.store->client(), b->m_doc_url, LeaseDoc{}).status());
    b->m_seen_spent = b->m_spend->spent();
    if (b->m_options.release_dead && !b->m_options.place.empty()) {
        // Not fatal: a dead lease left in place only holds room, it never lets any be overspent.
        if (auto st = b->release_dead_of_place(); !st.ok()) {
            b->say("budget: the leases of this job's killed runs stay counted: " + st.message());
        }
    }
    if (b->m_options.renew_thread) {
        b->m_thread = std::thread([p = b.get()] { p->renew_loop(); });
    }
    return b;
}

GcsLeaseBudget::~GcsLeaseBudget() {
    // The session closes it and reports the error; here (an early exit) it can only be said.
    if (auto st = close(); !st.ok()) {
        say("budget: " + st.to_string() + " (the lease stays counted until it expires)");
    }
}

void GcsLeaseBudget::say(const std::string& line) const {
    if (m_options.log) {
        m_options.log(line);
    }
}

util::Result<LeaseDecision> GcsLeaseBudget::update(Change change, util::Micros need) {
    std::lock_guard doc_lock(m_doc_mutex);
    storage::GcsClient& client = m_options.store->client();
    // A 412 means another process changed the document first: read it again after a short,
    // jittered pause (5 ms doubling to 200 ms), a bounded number of times.
    util::RetryPolicy rounds;
    rounds.max_attempts = k_update_rounds;
    rounds.initial_backoff = std::chrono::milliseconds(5);
    rounds.max_backoff = std::chrono::milliseconds(200);
    rounds.jitter = util::Jitter::full;
    rounds.deadline = k_update_deadline;
    util::SplitMix jitter(util::fnv1a64(m_id));
    util::RetryHooks hooks;
    hooks.random = [&] { return jitter(); };
    auto round = [&](int) -> util::Result<LeaseDecision> {
        if (change == Change::renew || change == Change::shrink || change == Change::release) {
            std::lock_guard lock(m_mutex);
            if (!m_has_lease) {
                return LeaseDecision{};
            }
        }
        // The document first, then the ledger: a lease removed from the document had its lines
        // pushed before, so this view of the ledger has them.
        TRY_ASSIGN(
            auto current,
            read_document(client, m_doc_url, LeaseDoc{m_options.user, m_day, m_options.tz, 0, {}}));
        auto& [doc, generation] = current;
        TRY(m_spend->refresh(true));

        const std::int64_t now = m_clock.unix_ms();
        LeaseAsk ask;
        ask.id = m_id;
        ask.ttl_ms = m_options.ttl.count();
        ask.holder = m_options.holder;
        ask.place = m_options.place;
        {
            std::lock_guard lock(m_mutex);
            ask.in_use = change == Change::renew ? m_amount : m_used + m_reserved;
        }
        if (change == Change::grow) {
            ask.need = need;
            ask.want = std::max(need, need * m_options.lease_images);
        }
        ask.release = change == Change::release;
        ModeLeases& mode = doc.modes[std::string(ledger::run_mode_name(m_options.mode))];
        bool lost = false;
        {
            std::lock_guard lock(m_mutex);
            lost = m_has_lease && mode.leases.count(m_id) == 0;
        }
        if (lost) {
            say("budget: warning: this process's lease expired unrenewed and was dropped by "
                "another "
                "process; requests it had in flight may take the day's spend past the limit "
                "(raise --budget-lease-ttl if this machine stalls)");
        }
        const LeaseView view{m_options.limit, m_spend->spent(), m_spend->spent_by_lease(), now,
                             m_grace_ms};
        LeaseDecision d = decide(mode, view, ask);
        doc.updated_ms = now;

        storage::Preconditions pre;
        pre.if_generation_match = generation;
        auto written = client.upload(m_doc_url, to_json(doc), "application/json", pre);
        if (!written.ok()) {
            if (!storage::is_precondition_failed(written.status())) {
                return util::error(written.status().code(),
                                   m_doc_url.to_string() + ": " + written.status().message());
            }
            // Someone else changed it first.
            {
                std::lock_guard lock(m_mutex);
                ++m_stats.conflicts;
            }
            return written.status();
        }
        for (const auto& [id, lease] : d.reclaimed) {
            say("budget: dropped the expired lease " + id + " of " + lease.holder + " (" +
                util::format_usd(lease.amount) + ", not renewed for " +
                util::format_duration(
                    std::chrono::milliseconds(now - lease.expires_ms + m_options.ttl.count())) +
                "); what it spent stays counted");
        }
        for (const auto& [id, lease] : d.dead_leases) {
            if (m_told_dead.insert(id).second) {
                say("budget: the lease " + id + " of " + lease.holder +
                    " expired unrenewed; it stays counted (" + util::format_usd(lease.amount) +
                    ", less what the ledger shows it spent), as its holder may have paid for "
                    "images "
                    "not yet in the ledger, until that job runs again on that machine (or the day "
                    "ends)");
            }
        }
        std::lock_guard lock(m_mutex);
        ++m_stats.writes;
        m_stats.reclaimed += d.reclaimed.size();
        m_amount = d.amount;
        m_has_lease = !ask.release;
        m_expires_ms = now + m_options.ttl.count();
        m_seen_spent = view.spent;
        m_others = d.others;
        m_overshoot = std::max(m_overshoot, view.spent - m_options.limit);
        return d;
    };
    auto updated = util::retry_loop(
        m_clock, rounds, round,
        [](const util::Status& st) {
            return util::RetryClass{storage::is_precondition_failed(st), true, std::nullopt};
        },
        hooks);
    if (updated.ok() || !storage::is_precondition_failed(updated.value.status())) {
        return std::move(updated.value);
    }
    return util::error(util::Code::storage_io,
                       m_doc_url.to_string() + ": other processes changed it first " +
                           std::to_string(updated.attempts) + " times in a row");
}

bool GcsLeaseBudget::reserve(util::Micros amount) {
    std::unique_lock lock(m_mutex);
    bool counted_wait = false;
    for (;;) {
        if (m_closed || (m_exhausted && amount >= *m_exhausted)) {
            return false;
        }
        // While another thread changes the lease, nothing is reserved: the new amount keeps only
        // what was in use when that thread read it, so a reservation in between could outgrow it.
        if (m_adjusting) {
            m_changed.wait(lock);
            continue;
        }
        const bool fresh =
            m_has_lease && m_clock.unix_ms() + m_options.ttl.count() / 2 < m_expires_ms;
        if (fresh && util::add_sat(util::add_sat(m_used, m_reserved), amount) <= m_amount) {
            m_reserved += amount;
            return true;
        }
        m_adjusting = true;
        lock.unlock();
        auto d = update(Change::grow, amount);
        lock.lock();
        if (!d.ok() || d->granted) {
            m_adjusting = false;
            m_changed.notify_all();
            if (!d.ok()) {
                // The client has retried what was transient: start nothing more in this run.
                m_closed = true;
                say("budget: cannot use the lease document, so no further request is started: " +
                    d.status().message());
                return false;
            }
            continue;
        }
        // Nothing in flight here and nothing held elsewhere, or what stays (the day's spend,
        // pending batches, dead leases) leaves no room even once every request in flight has
        // settled (an overrun past the limit): it will not fit today. Waiting on this process's
        // own requests then could only end in the same refusal, or never.
        if ((m_reserved == 0 && d->others == 0) ||
            util::add_sat(util::add_sat(m_seen_spent, d->dead), amount) > m_options.limit) {
            m_exhausted = m_exhausted ? std::min(*m_exhausted, amount) : amount;
            m_adjusting = false;
            m_changed.notify_all();
            return false;
        }
        // Requests in flight (here or in others' leases) may leave room when they end. Push this
        // process's lines so others see its lease as spent rather than held, then look again.
        if (!counted_wait) {
            ++m_stats.waits;
            counted_wait = true;
        }
        const std::chrono::milliseconds pause = m_poll;
        m_poll = std::min(m_options.poll_max, m_poll * 2);
        lock.unlock();
        if (m_options.flush_ledger) {
            // Only to let others see spent lines sooner: the ledger writer retries and reports
            // its own push failures, and close() checks the last one.
            m_options.flush_ledger().ignore_error();
        }
        m_clock.sleep_for(pause);
        lock.lock();
        m_adjusting = false;
        m_changed.notify_all();
    }
}

void GcsLeaseBudget::settle(util::Micros reserved, util::Micros actual) {
    {
        std::lock_guard lock(m_mutex);
        m_reserved -= reserved;
        m_used = util::add_sat(m_used, actual);
        m_poll = m_options.poll_min;
    }
    m_changed.notify_all();
}

util::Status GcsLeaseBudget::release_dead_of_place() {
    std::lock_guard doc_lock(m_doc_mutex);
    storage::GcsClient& client = m_options.store->client();
    bool pushed = false;
    for (int attempt = 0;; ++attempt) {
        TRY_ASSIGN(auto current, read_document(client, m_doc_url, LeaseDoc{}));
        auto& [doc, generation] = current;
        auto mode = doc.modes.find(std::string(ledger::run_mode_name(m_options.mode)));
        if (generation == 0 || mode == doc.modes.end()) {
            return util::ok_status();
        }
        auto released = budget::release_dead_of_place(mode->second, m_options.place, m_id);
        for (const auto& more : m_options.more_places) {
            auto also = budget::release_dead_of_place(mode->second, more, m_id);
            released.insert(released.end(), also.begin(), also.end());
        }
        if (released.empty()) {
            return util::ok_status();
        }
        if (!pushed) {
            // What this run wrote back for the dead runs must be visible before their leases go.
            if (m_options.flush_ledger) {
                TRY(m_options.flush_ledger());
            }
            pushed = true;
            continue;  // read the document again: it may have changed meanwhile
        }
        doc.updated_ms = m_clock.unix_ms();
        storage::Preconditions pre;
        pre.if_generation_match = generation;
        auto written = client.upload(m_doc_url, to_json(doc), "application/json", pre);
        if (!written.ok()) {
            if (!storage::is_precondition_failed(written.status()) || attempt > 50) {
                return util::error(written.status().code(),
                                   m_doc_url.to_string() + ": " + written.status().message());
            }
            m_clock.sleep_for(std::chrono::milliseconds(1 + attempt % 20));
            continue;
        }
        for (const auto& [id, lease] : released) {
            say("budget: released the lease " + id + " of " + lease.holder + " (" +
                util::format_usd(lease.amount) +
                "), a killed run of this job: its ledger lines are written and pushed");
        }
        return util::ok_status();
    }
}

util::Status GcsLeaseBudget::renew() {
    return update(Change::renew, 0).status();
}

void GcsLeaseBudget::renew_loop() {
    const auto every = m_options.ttl / 4;
    std::unique_lock lock(m_thread_mutex);
    while (!m_wake.wait_for(lock, every, [&] { return m_stopping; })) {
        lock.unlock();
        auto st = renew();
        if (!st.ok()) {
            say("budget: renewing the lease failed (retried in " + util::format_duration(every) +
                "): " + st.message());
        }
        lock.lock();
    }
}

util::Status GcsLeaseBudget::close() {
    {
        std::lock_guard lock(m_thread_mutex);
        if (m_stopping && !m_thread.joinable()) {
            return util::ok_status();
        }
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    m_changed.notify_all();
    // The lease goes only once every line spent under it is in the day objects; otherwise it
    // gives back what it does not use and the rest stays counted until it expires.
    util::Status pushed = m_options.flush_ledger ? m_options.flush_ledger() : util::ok_status();
    auto done = update(pushed.ok() ? Change::release : Change::shrink, 0);
    const Stats st = stats();
    if (st.writes > 0) {
        say("budget: " + m_doc_url.to_string() + ": " + std::to_string(st.writes) +
            " lease update(s), " + std::to_string(st.conflicts) + " redone after 412, " +
            std::to_string(st.reclaimed) + " expired lease(s) dropped, " +
            std::to_string(st.waits) + " wait(s) for others' leases");
    }
    if (!pushed.ok()) {
        return pushed;
    }
    return done.status();
}

util::Micros GcsLeaseBudget::spent() const {
    std::lock_guard lock(m_mutex);
    return m_seen_spent;
}

util::Micros GcsLeaseBudget::reserved() const {
    std::lock_guard lock(m_mutex);
    return m_reserved + m_others;
}

util::Micros GcsLeaseBudget::overshoot() const {
    std::lock_guard lock(m_mutex);
    return std::max<util::Micros>(0, m_overshoot);
}

GcsLeaseBudget::Stats GcsLeaseBudget::stats() const {
    std::lock_guard lock(m_mutex);
    return m_stats;
}

util::Result<util::Micros> held_by_leases_now(ledger::GcsLedgerStore& store,
                                              const std::string& spool_dir, const SpendScope& scope,
                                              util::Clock& clock, std::chrono::milliseconds ttl) {
    TRY_ASSIGN(const storage::GcsUrl url, document_url(store, scope.day, scope.user));
    TRY_ASSIGN(auto current, read_document(store.client(), url, LeaseDoc{}));
    auto mode = current.first.modes.find(std::string(ledger::run_mode_name(scope.mode)));
    if (mode == current.first.modes.end() || mode->second.leases.empty()) {
        return util::Micros{0};
    }
    GcsSpend spend(store, spool_dir, scope, clock, std::chrono::milliseconds(0));
    TRY(spend.refresh(true));  // after the document, as update() reads them
    const LeaseView view{0, spend.spent(), spend.spent_by_lease(), clock.unix_ms(),
                         ttl.count() / 4};
    return held_by_leases(mode->second, view);
}

}  // namespace assetgen::budget
