#include "schedule/durable_log.hpp"

#include <algorithm>

namespace assetgen::schedule {
namespace {

// How often a group waiting out min_gap looks whether wait_idle() wants it now.
constexpr util::Millis k_pacing_slice{2};

class RunGroupFiles final : public GroupFiles {
public:
    RunGroupFiles(storage::Storage* images, ledger::ManifestWriter manifest,
                  ledger::LedgerWriter* ledger)
        : m_images(images), m_manifest(std::move(manifest)), m_ledger(ledger) {}
    bool syncs_images_of(const storage::Storage& storage) const override {
        return m_images == &storage;
    }
    util::Status sync_ledger() override {
        return m_ledger != nullptr ? m_ledger->sync() : util::ok_status();
    }
    util::Status sync_images() override {
        return m_images != nullptr ? m_images->sync_puts() : util::ok_status();
    }
    util::Status append_manifest(std::string_view lines) override {
        return m_manifest.append_lines(lines);
    }
    util::Status sync_manifest() override { return m_manifest.commit(); }

private:
    storage::Storage* m_images;
    ledger::ManifestWriter m_manifest;
    ledger::LedgerWriter* m_ledger;
};

}  // namespace

std::unique_ptr<GroupFiles> make_group_files(storage::Storage* images,
                                             ledger::ManifestWriter manifest,
                                             ledger::LedgerWriter* ledger) {
    return std::make_unique<RunGroupFiles>(images, std::move(manifest), ledger);
}

DurableManifest::DurableManifest(ledger::ManifestWriter writer)
    : m_files(make_group_files(nullptr, std::move(writer), nullptr)) {}

DurableManifest::DurableManifest(std::unique_ptr<GroupFiles> files, util::Clock& clock,
                                 GroupOptions options)
    : m_files(std::move(files)), m_clock(&clock), m_options(options) {}

util::Status DurableManifest::put_image(storage::Storage& storage, const std::string& location,
                                        std::string_view data, const std::string& content_type) {
    if (m_files->syncs_images_of(storage)) {
        return storage.put_unsynced(location, data, content_type);
    }
    return storage.put(location, data, content_type);
}

std::uint64_t DurableManifest::groups() const {
    std::lock_guard lock(m_mutex);
    return m_groups;
}

std::uint64_t DurableManifest::appended() const {
    std::lock_guard lock(m_mutex);
    return m_appended;
}

util::Status DurableManifest::commit_group(const std::string& lines, bool* written) {
    *written = false;
    // Only the committer thread is here: the ledger's pacing needs no lock.
    bool ledger_due = true;
    if (m_clock != nullptr && m_options.ledger_gap.count() > 0) {
        const util::SteadyTime now = m_clock->steady();
        ledger_due = !m_ledger_synced_once || now - m_last_ledger_sync >= m_options.ledger_gap;
        if (ledger_due) {
            m_last_ledger_sync = now;
            m_ledger_synced_once = true;
        }
    }
    if (ledger_due) {
        TRY(m_files->sync_ledger());
    }
    TRY(m_files->sync_images());
    TRY(m_files->append_manifest(lines));
    *written = true;
    return m_files->sync_manifest();
}

DurableManifest::~DurableManifest() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_work.notify_all();
    if (m_committer.joinable()) {
        m_committer.join();
    }
}

std::uint64_t DurableManifest::enqueue_locked(std::string line, Committed then) {
    if (!m_committer.joinable()) {
        m_committer = std::thread([this] { commit_loop(); });
    }
    m_pending += line;
    m_pending_then.push_back(std::move(then));
    const std::uint64_t mine = ++m_appended;
    m_work.notify_one();
    return mine;
}

util::Status DurableManifest::append_durable(const ledger::ManifestEntry& entry, bool* written) {
    std::string line = ledger::to_line(entry);
    std::unique_lock lock(m_mutex);
    if (written != nullptr) {
        *written = false;
    }
    if (!m_failure.ok()) {
        return m_failure;
    }
    const std::uint64_t mine = enqueue_locked(std::move(line), nullptr);
    // Durable, or failed: a group that failed at or before this entry's never lets a later
    // one succeed, so once m_failure is set this entry is not durable unless it already was.
    m_progressed.wait(lock, [&] { return m_durable >= mine || !m_failure.ok(); });
    if (written != nullptr) {
        *written = m_written >= mine;
    }
    return m_durable >= mine ? util::ok_status() : m_failure;
}

void DurableManifest::append_then(const ledger::ManifestEntry& entry, Committed then) {
    if (m_clock == nullptr) {
        // The manifest alone (no clock, no pacing): no hand-off, the caller waits for its group
        // and runs `then` itself.
        bool written = false;
        const util::Status st = append_durable(entry, &written);
        then(st, written);
        std::function<void()> group_end;
        {
            std::lock_guard lock(m_mutex);
            group_end = m_group_end;
        }
        if (group_end) {
            group_end();
        }
        return;
    }
    std::string line = ledger::to_line(entry);
    std::unique_lock lock(m_mutex);
    m_progressed.wait(lock, [&] {
        return !m_failure.ok() ||
               m_appended - m_finished < std::max<std::size_t>(1, m_options.max_queued);
    });
    if (!m_failure.ok()) {
        util::Status failed = m_failure;
        lock.unlock();
        then(failed, false);
        return;
    }
    enqueue_locked(std::move(line), std::move(then));
}

void DurableManifest::wait_idle() {
    std::unique_lock lock(m_mutex);
    // Whoever waits for idleness appends nothing meanwhile (the runner's end): a group that
    // waits out min_gap would collect nothing more, so it starts at once.
    ++m_idle_waiters;
    m_progressed.wait(lock, [&] { return m_finished == m_appended; });
    --m_idle_waiters;
}

void DurableManifest::set_group_end(std::function<void()> fn) {
    std::lock_guard lock(m_mutex);
    m_group_end = std::move(fn);
}

void DurableManifest::commit_loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_work.wait(lock, [&] { return m_stopping || m_appended > m_finished; });
        if (m_appended == m_finished) {
            return;  // stopping, nothing queued
        }
        // While busy, first let min_gap pass since the previous group started; the entries
        // appended meanwhile join this group. The wait is cut short once someone waits for
        // idleness (the run's end: nothing more joins), so the last group does not add up to
        // min_gap to the run's wall time; the injected clock has no wake-up, hence the slices.
        if (m_clock != nullptr && m_options.min_gap.count() > 0 && m_started_once &&
            m_failure.ok()) {
            const util::SteadyTime at = m_last_start + m_options.min_gap;
            for (util::SteadyTime now = m_clock->steady(); now < at && m_idle_waiters == 0;
                 now = m_clock->steady()) {
                lock.unlock();
                m_clock->sleep_until(std::min(at, now + k_pacing_slice));
                lock.lock();
            }
        }
        if (m_clock != nullptr) {
            m_last_start = m_clock->steady();
            m_started_once = true;
        }
        std::string lines;
        lines.swap(m_pending);
        std::vector<Committed> thens;
        thens.swap(m_pending_then);
        const std::uint64_t covered = m_appended;
        util::Status st = m_failure;
        bool written = false;
        if (st.ok()) {  // after a failure nothing is synced again: the group fails with it
            lock.unlock();
            st = commit_group(lines, &written);
            lock.lock();
            ++m_groups;
            if (written) {
                m_written = covered;
            }
            if (st.ok()) {
                m_durable = covered;
            } else {
                m_failure = st;
            }
        }
        m_progressed.notify_all();  // append_durable's callers of this group return now
        std::function<void()> group_end = m_group_end;
        lock.unlock();
        for (const Committed& then : thens) {
            if (then) {
                then(st, written);
            }
        }
        thens.clear();  // what the callbacks held goes before the next group
        if (group_end) {
            group_end();
        }
        lock.lock();
        m_finished = covered;
        m_progressed.notify_all();  // room for append_then, and wait_idle
    }
}

}  // namespace assetgen::schedule
