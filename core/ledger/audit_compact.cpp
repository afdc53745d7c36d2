#include "ledger/audit.hpp"

// `ledger compact`: the only writer among the ledger commands; see compact() for how it keeps
// concurrent appenders safe.

#include <filesystem>
#include <unordered_set>

#include "ledger/pinned_file.hpp"
#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

namespace fs = std::filesystem;
using util::Code;

}  // namespace

// Compaction holds the lock of the day file it read while it renames the rewritten file over
// it. Appenders lock before they write, so none writes between the read and the rename; one
// that had the old file open finds, under its lock, that the path names another file now
// (PinnedFile) and reopens, so its line lands in the new file. The limit: a writer that
// appends without that check (another tool using plain O_APPEND) would write into the
// unlinked old file after the rename, and that line would be lost.
util::Result<CompactResult> compact(const std::string& folder, const std::string& day) {
    if (util::starts_with(folder, "gs://")) {
        return util::error(Code::config,
                           folder +
                               ": compact works on local ledger folders only; a gs:// ledger "
                               "needs none (its writer never appends a line twice)");
    }
    if (!is_day(day)) {
        return util::error(Code::invalid_input, "compact: \"" + day + "\" is not a day YYYY-MM-DD");
    }
    const std::string path = folder + "/" + day + ".jsonl";
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) {
        return util::error(Code::not_found, path + ": no such day file");
    }
    if (!fs::is_regular_file(st)) {
        // A FIFO or a folder under a day file's name is there, just not a file to rewrite.
        const char* kind = fs::is_fifo(st)        ? "is a FIFO"
                           : fs::is_directory(st) ? "is a folder"
                                                  : "is a device or socket";
        return util::error(Code::storage_io,
                           path + ": " + kind + ", not a regular file; move it out of the folder");
    }
    ReplacedRetry retry;
    while (retry.again()) {
        TRY_ASSIGN(auto file, PinnedFile::open(path));
        CompactResult result;
        bool replaced = false;
        TRY(file.with_current_lock(
            [&]() -> util::Status {
                TRY_ASSIGN(std::string content, util::read_file(path));
                std::string out;
                out.reserve(content.size());
                std::unordered_set<std::string_view> seen;
                std::size_t start = 0;
                while (start < content.size()) {
                    const std::size_t nl = content.find('\n', start);
                    if (nl == std::string::npos) {
                        // A torn last line is not a whole line: kept as it is.
                        out.append(content, start, std::string::npos);
                        ++result.lines;
                        break;
                    }
                    const std::string_view line(content.data() + start, nl - start);
                    ++result.lines;
                    if (seen.insert(line).second) {
                        out.append(line);
                        out.push_back('\n');
                    } else {
                        ++result.dropped;
                    }
                    start = nl + 1;
                }
                if (result.dropped == 0) {
                    return util::ok_status();
                }
                return util::write_file_atomic(path, out);
            },
            &replaced));
        if (!replaced) {
            return result;
        }
    }
    return util::error(Code::storage_io, path + ": cannot compact: the file keeps being replaced");
}

}  // namespace assetgen::ledger
