#pragma once
// A ledger in a local folder: one file per UTC day, <folder>/YYYY-MM-DD.jsonl. Appends use
// util::AppendFile (O_APPEND under flock, fsync at flush points), so several threads and
// processes can share one folder without losing or interleaving lines.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/entry.hpp"
#include "util/append_file.hpp"

namespace assetgen::ledger {

class LedgerWriter {
public:
    virtual ~LedgerWriter() = default;
    // Queues an entry; it is written (not yet fsynced) before append returns or at the next
    // flush, as the implementation batches. STORAGE_IO on failure.
    virtual util::Status append(const Entry& entry) = 0;
    // Flush point: everything appended so far is durable when this returns.
    virtual util::Status flush() = 0;
};

class LocalLedgerWriter final : public LedgerWriter {
public:
    explicit LocalLedgerWriter(std::string folder);
    util::Status append(const Entry& entry) override;
    util::Status flush() override;

private:
    std::string m_folder;
    std::mutex m_mutex;
    std::map<std::string, util::AppendFile> m_files;  // by day
};

// What a read found besides entries.
struct ReadIssue {
    std::string file;
    std::size_t line = 0;  // 1-based
    std::string message;   // "torn last line", "bad JSON: ...", ...
};

struct ReadOptions {
    std::string from_day;  // "YYYY-MM-DD" inclusive, "" = no bound
    std::string to_day;    // inclusive
};

// Reads every day file in the folder (in day order) and calls on_entry for each good line.
// Bad and torn lines are reported in issues and skipped. A missing folder is an empty ledger.
util::Status read_ledger(const std::string& folder, const ReadOptions& options,
                         const std::function<void(const Entry&)>& on_entry,
                         std::vector<ReadIssue>* issues);

}  // namespace assetgen::ledger
