#pragma once
// Group commit of what a finished image needs to be durable: the image file, its manifest line,
// and the ledger lines written before. Many workers append; one group of syncs covers every line
// appended before the group started, so a run does not pay an fsync per image when many finish
// at once.
//
// Groups run on a committer thread of their own (started by the first append, joined by the
// destructor), in this order:
//   1. the ledger lines appended so far are made durable (GroupFiles::sync_ledger: one fsync of
//      the day file, or of a gs:// ledger's spool; nothing when no line was appended), in every
//      group or at most every `ledger_gap`;
//   2. the images of the group's entries, stored with put_image (no fsync of their own), are
//      made durable (GroupFiles::sync_images: one syncfs per filesystem; nothing for gs://,
//      whose writes are durable when they return);
//   3. the group's manifest lines are written in one append and made durable (one fdatasync);
//   4. only then are the group's appenders told: their image counts as done. append_durable's
//      caller returns; append_then's callback runs, on the committer thread. The runner wrote
//      their ledger lines before appending (runner_record.cpp, charge_image), so step 1 of this
//      group or a later one makes them durable.
// So after a crash a manifest line never names an image that is not whole on disk (step 2 has
// returned before step 3 writes the line), every manifest line without its ledger line is
// restored by the next run's reconciliation, and every ledger line without its manifest line
// (a kill between the two) is adopted by the next run when its image is whole (adopt_paid.hpp).
//
// append_then is how the runner's workers hand off (issue 18): a worker stores its image,
// queues the line and takes its next request at once, so a slow sync delays when rows are
// reported, never how many requests are in flight. At most `max_queued` entries wait for their
// group (and callback) at once; an append beyond that waits for room.
//
// A failed sync fails every entry of its group with its STORAGE_IO, and the commit stays
// failed: every later append fails with it too, as a retried fsync after a failed one proves
// nothing (the kernel may have dropped the dirty pages).
//
// A group may also wait, when busy, until `min_gap` has passed since the previous group
// started (collecting the images that finish meanwhile); when idle (the previous group started
// longer ago) it starts at once.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"

namespace assetgen::schedule {

// The files one group makes durable, in the order above. The real one (make_group_files) works
// on a Storage, the job's manifest and the ledger writer; tests give a fake.
class GroupFiles {
public:
    virtual ~GroupFiles() = default;
    // True when sync_images makes storage's put_unsynced writes durable.
    virtual bool syncs_images_of(const storage::Storage& storage) const = 0;
    // Step 1: every ledger line appended so far is durable.
    virtual util::Status sync_ledger() = 0;
    // Step 2: every image stored with put_unsynced before the call is durable.
    virtual util::Status sync_images() = 0;
    // Step 3: whole manifest lines, written at once (not yet durable) ...
    virtual util::Status append_manifest(std::string_view lines) = 0;
    // ... then made durable.
    virtual util::Status sync_manifest() = 0;
};

// The real files: images is the storage whose deferred writes sync_images covers (nullptr: none
// are deferred), ledger the writer whose lines sync_ledger covers (nullptr: none).
std::unique_ptr<GroupFiles> make_group_files(storage::Storage* images,
                                             ledger::ManifestWriter manifest,
                                             ledger::LedgerWriter* ledger);

struct GroupOptions {
    // A group starts no sooner than this after the previous one started (0: at once).
    util::Millis min_gap{0};
    // Step 1 (the ledger's sync) runs in a group only when this has passed since it last ran
    // (0: in every group). The ledger line of an image is restored from its durable manifest
    // line by the next run's reconciliation, so pacing it loses nothing a crash could not
    // restore; a failure's line is durable within this time, or at the run's flush.
    util::Millis ledger_gap{0};
    // At most this many entries wait for their group and callback at once (back-pressure when
    // the disk is slower than the answers).
    std::size_t max_queued = 4096;
};

class DurableManifest {
public:
    // The manifest alone: images are put durably by put_image, the ledger is synced at the
    // run's flush points only.
    explicit DurableManifest(ledger::ManifestWriter writer);
    // The full group commit above; clock paces min_gap and must outlive this.
    DurableManifest(std::unique_ptr<GroupFiles> files, util::Clock& clock, GroupOptions options);
    // Runs the groups still queued (their callbacks too), then stops the committer thread.
    ~DurableManifest();
    DurableManifest(const DurableManifest&) = delete;
    DurableManifest& operator=(const DurableManifest&) = delete;

    // Stores an image whose manifest line is appended next: without a sync of its own when the
    // groups make this storage's writes durable (Storage::put_unsynced), else Storage::put.
    util::Status put_image(storage::Storage& storage, const std::string& location,
                           std::string_view data, const std::string& content_type);
    // Appends the entry and returns once it is durable, with every image put before it.
    // STORAGE_IO on failure (and for every append after a failed sync). *written (when given)
    // tells whether the line is in the file anyway: its group's manifest sync failed after the
    // lines were written, so they stay readable and the next run counts the image done (it must
    // be charged once, by its own ledger line). After a failure nothing more is written: a
    // second fsync may report success for pages the first one lost.
    util::Status append_durable(const ledger::ManifestEntry& entry, bool* written = nullptr);
    // Called once with the entry's outcome: OK once it is durable, else its group's STORAGE_IO;
    // written as for append_durable.
    using Committed = std::function<void(const util::Status&, bool written)>;
    // Queues the entry and returns (waiting only while max_queued entries are queued); `then`
    // runs on the committer thread once the entry's group has committed or failed, or at once on
    // the caller when the commit has already failed. `then` must not append (it would wait for
    // its own thread).
    void append_then(const ledger::ManifestEntry& entry, Committed then);
    // Returns once every entry appended so far has been committed (or failed) and its callback
    // has returned. While it waits, groups start without waiting out min_gap (the caller
    // appends nothing meanwhile, so no entry would join them).
    void wait_idle();
    // Runs fn after the callbacks of each group (on the committer thread, before wait_idle()
    // sees them finished): what they deferred for their group is done once (the runner flushes
    // the budget's settles there). Empty: nothing.
    void set_group_end(std::function<void()> fn);

    // Groups committed so far (each: at most one sync of each kind), entries appended so far.
    std::uint64_t groups() const;
    std::uint64_t appended() const;

private:
    // Queues one line under the lock (starting the committer thread the first time); its number.
    std::uint64_t enqueue_locked(std::string line, Committed then);
    // The committer thread: one group after another until stopped with nothing queued.
    void commit_loop();
    // Runs one group over the lines taken; called without the lock. *written: the lines reached
    // the manifest file (even if its sync then failed).
    util::Status commit_group(const std::string& lines, bool* written);

    std::unique_ptr<GroupFiles> m_files;
    util::Clock* m_clock = nullptr;
    GroupOptions m_options;
    mutable std::mutex m_mutex;
    std::condition_variable m_work;         // the committer waits for lines (or the stop)
    std::condition_variable m_progressed;   // appenders wait for their group, room or idleness
    std::string m_pending;                  // lines appended since the last group started
    std::vector<Committed> m_pending_then;  // their callbacks (empty for append_durable's)
    std::uint64_t m_appended = 0;           // entries appended
    std::uint64_t m_durable = 0;            // entries durable (a prefix of those appended)
    std::uint64_t m_written = 0;            // entries in the manifest file, durable or not
    std::uint64_t m_finished = 0;           // entries whose group ended and callback returned
    std::uint64_t m_groups = 0;             // groups committed
    bool m_stopping = false;                // the destructor runs
    int m_idle_waiters = 0;                 // callers in wait_idle(): no min_gap pacing
    bool m_started_once = false;            // m_last_start is set
    util::SteadyTime m_last_start{};        // when the last group started
    bool m_ledger_synced_once = false;      // m_last_ledger_sync is set
    util::SteadyTime m_last_ledger_sync{};  // when step 1 last ran (committer thread only)
    util::Status m_failure;             // the first failed group's status: the commit stays failed
    std::thread m_committer;            // started by the first append
    std::function<void()> m_group_end;  // set_group_end's
};

}  // namespace assetgen::schedule
