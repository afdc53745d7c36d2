#pragma once
// Group commit for the job manifest: many workers append lines, and each waits until its own
// line is durable; one fsync covers every line appended before it started, so throughput does
// not fall to one fsync per image when many finish at once.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "ledger/manifest.hpp"

namespace assetgen::schedule {

class DurableManifest {
public:
    explicit DurableManifest(ledger::ManifestWriter writer) : m_writer(std::move(writer)) {}
    // Appends the entry and returns once it is durable. STORAGE_IO on failure; *written (when
    // given) tells whether the line is in the file anyway (its fsync failed: it stays readable,
    // so the next run counts the image). After a failed fsync every later call fails at once
    // without writing: a second fsync may report success for pages the first one lost.
    util::Status append_durable(const ledger::ManifestEntry& entry, bool* written = nullptr);

private:
    ledger::ManifestWriter m_writer;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::uint64_t m_appended = 0;
    std::uint64_t m_durable = 0;
    bool m_syncing = false;
    util::Status m_failed;  // the first failed fsync: sticky
};

}  // namespace assetgen::schedule
