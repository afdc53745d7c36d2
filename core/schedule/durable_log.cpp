#include "schedule/durable_log.hpp"

namespace assetgen::schedule {
namespace {

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

util::Status DurableManifest::commit_group(const std::string& lines) {
    // Only the leader (m_syncing) is here: the ledger's pacing needs no lock.
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
    return m_files->sync_manifest();
}

util::Status DurableManifest::append_durable(const ledger::ManifestEntry& entry) {
    const std::string line = ledger::to_line(entry);
    std::unique_lock lock(m_mutex);
    if (!m_failure.ok()) {
        return m_failure;
    }
    m_pending += line;
    const std::uint64_t mine = ++m_appended;
    for (;;) {
        if (m_durable >= mine) {
            return util::ok_status();
        }
        if (!m_failure.ok()) {
            return m_failure;  // this entry's group (or an earlier one) failed
        }
        if (m_syncing) {
            m_cv.wait(lock);
            continue;
        }
        // This thread runs the next group. While busy, it first lets min_gap pass since the
        // previous group started; the entries appended meanwhile join it.
        m_syncing = true;
        if (m_clock != nullptr && m_options.min_gap.count() > 0 && m_started_once) {
            const util::SteadyTime at = m_last_start + m_options.min_gap;
            if (m_clock->steady() < at) {
                lock.unlock();
                m_clock->sleep_until(at);
                lock.lock();
            }
        }
        if (m_clock != nullptr) {
            m_last_start = m_clock->steady();
            m_started_once = true;
        }
        std::string lines;
        lines.swap(m_pending);
        const std::uint64_t covered = m_appended;
        lock.unlock();
        util::Status st = commit_group(lines);
        lock.lock();
        m_syncing = false;
        ++m_groups;
        if (st.ok()) {
            m_durable = covered;
        } else {
            m_failure = st;
        }
        m_cv.notify_all();
    }
}

}  // namespace assetgen::schedule
