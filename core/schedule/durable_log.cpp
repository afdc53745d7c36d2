#include "schedule/durable_log.hpp"

namespace assetgen::schedule {

util::Status DurableManifest::append_durable(const ledger::ManifestEntry& entry, bool* written) {
    std::unique_lock lock(m_mutex);
    TRY(m_failed);
    TRY(m_writer.append(entry));
    if (written != nullptr) {
        *written = true;
    }
    const std::uint64_t mine = ++m_appended;
    while (m_durable < mine) {
        TRY(m_failed);
        if (m_syncing) {
            m_cv.wait(lock);
            continue;
        }
        m_syncing = true;
        const std::uint64_t covered = m_appended;
        lock.unlock();
        util::Status st = m_writer.commit();
        lock.lock();
        m_syncing = false;
        if (st.ok() && covered > m_durable) {
            m_durable = covered;
        }
        m_cv.notify_all();
        if (!st.ok()) {
            m_failed = st;
            return st;
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::schedule
