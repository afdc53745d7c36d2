#include "ledger/ledger_folder.hpp"

#include <algorithm>
#include <filesystem>

#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

namespace fs = std::filesystem;

LocalLedgerWriter::LocalLedgerWriter(std::string folder) : m_folder(std::move(folder)) {}

util::Status LocalLedgerWriter::append(const Entry& entry) {
    const std::string day = util::utc_date(entry.ts);
    const std::string line = to_line(entry);
    std::lock_guard<std::mutex> lock(m_mutex);
    auto& file = m_files[day];
    const bool was_open = file.has_value();
    TRY(append_to_current(m_folder + "/" + day + ".jsonl", file, line));
    // A reopen (first use, or after a compaction) may have created the file.
    if (!was_open) {
        m_folder_unsynced = true;
    }
    m_unsynced.insert(day);
    return util::ok_status();
}

util::Status LocalLedgerWriter::flush() {
    std::lock_guard<std::mutex> lock(m_mutex);
    // A day reopened since (after a compaction) lost nothing by not syncing the old file:
    // the compaction read it under the lock and wrote the new one with fsync.
    for (auto it = m_unsynced.begin(); it != m_unsynced.end();) {
        auto found = m_files.find(*it);
        if (found != m_files.end() && found->second) {
            TRY(found->second->file().sync());
        }
        it = m_unsynced.erase(it);
    }
    if (m_folder_unsynced) {
        TRY(util::fsync_dir(m_folder));
        m_folder_unsynced = false;
    }
    return util::ok_status();
}

bool is_day_file_name(std::string_view name, std::string* day) {
    constexpr std::string_view k_pattern = "dddd-dd-dd.jsonl";
    if (name.size() != k_pattern.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const bool digit = name[i] >= '0' && name[i] <= '9';
        if (k_pattern[i] == 'd' ? !digit : name[i] != k_pattern[i]) {
            return false;
        }
    }
    if (day != nullptr) {
        *day = std::string(name.substr(0, 10));
    }
    return true;
}

util::Result<std::vector<std::string>> list_day_files(const std::string& folder,
                                                      const ReadOptions& options) {
    std::vector<std::pair<std::string, std::string>> days;  // (day, path)
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
        return std::vector<std::string>{};
    }
    fs::directory_iterator it(folder, ec);
    if (ec) {
        return util::error(util::Code::storage_io, folder + ": cannot list: " + ec.message());
    }
    for (const auto& dirent : it) {
        std::string day;
        if (!is_day_file_name(dirent.path().filename().string(), &day)) {
            continue;
        }
        if (!options.from_day.empty() && day < options.from_day) {
            continue;
        }
        if (!options.to_day.empty() && day > options.to_day) {
            continue;
        }
        days.emplace_back(day, dirent.path().string());
    }
    std::sort(days.begin(), days.end());
    std::vector<std::string> paths;
    paths.reserve(days.size());
    for (auto& d : days) {
        paths.push_back(std::move(d.second));
    }
    return paths;
}

util::Status read_ledger_at(const std::string& folder, const ReadOptions& options,
                            const std::function<void(const Entry&, const LinePlace&)>& on_entry,
                            std::vector<ReadIssue>* issues) {
    TRY_ASSIGN(auto paths, list_day_files(folder, options));
    for (const auto& path : paths) {
        std::size_t line_no = 0;
        auto report = [&](std::size_t line, std::string message) {
            if (issues != nullptr) {
                issues->push_back(ReadIssue{path, line, std::move(message)});
            }
        };
        auto status = util::read_lines(
            path,
            [&](std::string_view line) {
                ++line_no;
                auto entry = parse_line(line);
                if (entry.ok()) {
                    on_entry(*entry, LinePlace{path, line_no});
                } else {
                    report(line_no, entry.status().message());
                }
            },
            [&](std::string_view) { report(line_no + 1, k_torn_line_message); });
        // A day file removed between listing and reading (a compaction renames, never
        // removes) is simply gone.
        if (!status.ok() && status.code() != util::Code::not_found) {
            return status;
        }
    }
    return util::ok_status();
}

util::Status read_ledger(const std::string& folder, const ReadOptions& options,
                         const std::function<void(const Entry&)>& on_entry,
                         std::vector<ReadIssue>* issues) {
    return read_ledger_at(
        folder, options, [&](const Entry& entry, const LinePlace&) { on_entry(entry); }, issues);
}

}  // namespace assetgen::ledger
