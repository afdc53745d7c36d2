#pragma once
// A ledger in a local folder: one file per UTC day, <folder>/YYYY-MM-DD.jsonl. Appends use
// util::AppendFile (O_APPEND under flock, fsync at flush points), so several threads and
// processes can share one folder without losing or interleaving lines. The readers below also
// read a ledger in Cloud Storage, gs://bucket/prefix/YYYY-MM-DD.jsonl, through a GcsClient
// (its writer is GcsLedgerWriter, gcs_ledger_writer.hpp).

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/entry.hpp"
#include "ledger/pinned_file.hpp"
#include "util/append_file.hpp"

namespace assetgen::storage {
class GcsClient;
}

namespace assetgen::ledger {

// Where a ledger is read from: a local folder, or "gs://bucket[/prefix]" read through gcs.
// Converts from a path, so a folder can be passed wherever a location is asked for.
struct LedgerLocation {
    LedgerLocation(std::string where, storage::GcsClient* client = nullptr)  // NOLINT: implicit
        : path(std::move(where)), gcs(client) {}
    LedgerLocation(const char* where) : path(where) {}  // NOLINT: implicit
    std::string path;
    storage::GcsClient* gcs = nullptr;  // needed for a gs:// path; must outlive the reads
};

class LedgerWriter {
public:
    virtual ~LedgerWriter() = default;
    // Queues an entry; it is written (not yet fsynced) before append returns or at the next
    // flush, as the implementation batches. STORAGE_IO on failure.
    virtual util::Status append(const Entry& entry) = 0;
    // Flush point: everything appended so far is durable when this returns.
    virtual util::Status flush() = 0;
    // Everything appended so far is durable where this writer keeps lines first (the day
    // files; a gs:// ledger's local spool), without pushing anywhere: what a group commit calls
    // once per group. The default is flush().
    virtual util::Status sync() { return flush(); }
};

// Appends each entry at once to the day file of its UTC date; flush() fsyncs the files touched
// since the last flush (and the folder, when a file was opened). Thread-safe. A day file
// replaced by `ledger compact` while open is noticed under the lock and reopened, so no line
// lands in the unlinked old file.
class LocalLedgerWriter final : public LedgerWriter {
public:
    // Writes below folder (created at the first append).
    explicit LocalLedgerWriter(std::string folder);
    util::Status append(const Entry& entry) override;
    util::Status flush() override;

private:
    std::string m_folder;
    std::mutex m_mutex;
    std::map<std::string, std::optional<PinnedFile>> m_files;  // by day; kept open
    std::set<std::string> m_unsynced;                          // days appended since the last flush
    bool m_folder_unsynced = false;  // a day file was opened (maybe created)
};

// The message of a ReadIssue for a last line without its '\n'.
inline constexpr const char* k_torn_line_message = "torn last line (a write was cut short)";

// What a read found besides entries.
struct ReadIssue {
    std::string file;      // the file's path
    std::size_t line = 0;  // 1-based
    std::string message;   // k_torn_line_message, "bad JSON: ...", "cost: missing", ...
};

// Which day files read_ledger reads.
struct ReadOptions {
    std::string from_day;  // "YYYY-MM-DD" inclusive, "" = no bound
    std::string to_day;    // inclusive
};

// Reads every day file in the folder (in day order) and calls on_entry for each good line.
// Bad and torn lines are reported in issues and skipped. A missing folder is an empty ledger.
// For gs://, the day objects (each read whole, up to 1 GiB); CONFIG_ERROR without a client,
// the client's codes when listing or reading fails.
util::Status read_ledger(const LedgerLocation& folder, const ReadOptions& options,
                         const std::function<void(const Entry&)>& on_entry,
                         std::vector<ReadIssue>* issues);

// Where a good line was read: the day file's path (or gs:// URL) and the 1-based line number.
struct LinePlace {
    std::string_view file;
    std::size_t line = 0;
};

// As read_ledger, and tells on_entry where each entry was read (for `ledger verify`).
util::Status read_ledger_at(const LedgerLocation& folder, const ReadOptions& options,
                            const std::function<void(const Entry&, const LinePlace&)>& on_entry,
                            std::vector<ReadIssue>* issues);

// True for a day file name "YYYY-MM-DD.jsonl"; sets *day to "YYYY-MM-DD" when given.
bool is_day_file_name(std::string_view name, std::string* day = nullptr);

// The sorted paths of the folder's day files within options' bounds; a missing folder has
// none. STORAGE_IO when the folder cannot be listed. For gs://, the day objects' gs:// URLs
// (part objects below prefix/.parts/ are not day files).
util::Result<std::vector<std::string>> list_day_files(const LedgerLocation& folder,
                                                      const ReadOptions& options);

}  // namespace assetgen::ledger
