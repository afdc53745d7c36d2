#pragma once
// The local spool of a GcsLedgerWriter. Every line goes to <spool_dir>/<writer>.jsonl before it
// goes to Cloud Storage, so no appended line is lost with the process. Beside it:
//   <writer>.lock   flock'd by the writer for its whole life: a lock anyone can take means the
//                   writer is gone and its spool may be recovered
//   <writer>.state  JSON, written atomically: how far the spool is committed to GCS, and the
//                   push in flight, recorded before its compose is sent
// Budgets of the same machine read the spool files to count lines not yet in GCS, so a spool
// is removed only once it is committed and has been left alone for a while (see
// GcsLedgerWriterOptions::spool_retention).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/safe_dir.hpp"
#include "util/status.hpp"

namespace assetgen::ledger {

// A push that may have reached GCS: the lines [first, end) of the spool, for `day`, uploaded
// as `part` and composed (if at all) onto a day object whose assetgen-seq was base_seq or more.
struct SpoolIntent {
    std::string day;
    std::string part;  // object name
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    std::int64_t base_seq = 0;
    bool operator==(const SpoolIntent&) const = default;
};

// What <writer>.state says.
struct SpoolState {
    std::uint64_t committed = 0;  // every line before this offset is in GCS
    std::optional<SpoolIntent> inflight;
    bool operator==(const SpoolState&) const = default;
};

// One complete line of a spool file.
struct SpoolLine {
    std::uint64_t offset = 0;  // of its first byte in the spool file
    std::string text;          // with its '\n'
    std::string day;           // UTC day of its ts: the day object it belongs to
    std::string id;
};

// A new writer id, unique across hosts, processes and instances: host-pid-ms-random, with only
// [A-Za-z0-9._-] so that it can be part of file and object names.
std::string new_writer_id(std::int64_t now_ms);

// <dir>/<writer>.jsonl, .lock and .state.
std::string spool_file(const std::string& dir, const std::string& writer);
std::string spool_lock_file(const std::string& dir, const std::string& writer);
std::string spool_state_file(const std::string& dir, const std::string& writer);

// The state file's content; a missing file is the empty state. STORAGE_IO when it cannot be
// read or is not a state.
util::Result<SpoolState> read_spool_state(const std::string& path);
// Writes the state atomically (temp file, fsync, rename, fsync of the folder). STORAGE_IO.
util::Status write_spool_state(const std::string& path, const SpoolState& state);

// The complete lines of a spool file from offset on, with what parse_line makes of them; lines
// that are not entries (a torn fragment sealed by AppendFile) are skipped and counted in
// *skipped. A missing file has none. STORAGE_IO when it cannot be read.
util::Result<std::vector<SpoolLine>> read_spool_lines(const std::string& path, std::uint64_t offset,
                                                      std::size_t* skipped = nullptr);

// The id of the spool folder dir: random, made once and kept in <dir>/.id. Runs that share it
// see each other's spools (one machine, or one shared disk). STORAGE_IO when it cannot be made.
util::Result<std::string> spool_folder_id(const std::string& dir);

// The writer ids that have a spool file in dir, sorted; none when dir does not exist.
util::Result<std::vector<std::string>> list_spools(const std::string& dir);

// An exclusive flock on a writer's lock file, held until destruction.
class SpoolLock {
public:
    // Takes the lock, creating the file; without wait, std::nullopt when someone holds it (the
    // writer is alive). Also std::nullopt when the file was removed meanwhile (someone else
    // recovered that spool). STORAGE_IO when the file cannot be opened.
    static util::Result<std::optional<SpoolLock>> acquire(const std::string& path, bool wait);
    const std::string& path() const { return m_path; }

private:
    SpoolLock(util::UniqueFd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
    util::UniqueFd m_fd;  // holds the flock until it is closed
    std::string m_path;
};

}  // namespace assetgen::ledger
