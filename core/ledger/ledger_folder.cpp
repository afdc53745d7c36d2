#include "ledger/ledger_folder.hpp"

#include <algorithm>
#include <filesystem>

#include "ledger/gcs_ledger_store.hpp"
#include "storage/gcs_client.hpp"
#include "storage/storage.hpp"
#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

namespace fs = std::filesystem;

namespace {

// The bucket and prefix of a gs:// location, and the client to read it with.
util::Result<storage::GcsUrl> gcs_location(const LedgerLocation& location) {
    TRY_ASSIGN(storage::GcsUrl url, storage::parse_gcs_prefix(location.path));
    if (location.gcs == nullptr) {
        return util::error(util::Code::config,
                           location.path + ": reading a gs:// ledger needs a Cloud Storage client");
    }
    return url;
}

// Calls on_line for each complete line of data and on_torn for a last line without '\n', as
// util::read_lines does for a file.
void split_lines(std::string_view data, const std::function<void(std::string_view)>& on_line,
                 const std::function<void(std::string_view)>& on_torn) {
    std::size_t start = 0;
    for (std::size_t nl = data.find('\n'); nl != std::string_view::npos;
         nl = data.find('\n', start)) {
        on_line(data.substr(start, nl - start));
        start = nl + 1;
    }
    if (start < data.size()) {
        on_torn(data.substr(start));
    }
}

}  // namespace

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

util::Result<std::vector<std::string>> list_day_files(const LedgerLocation& location,
                                                      const ReadOptions& options) {
    if (storage::is_gcs(location.path)) {
        TRY_ASSIGN(const storage::GcsUrl url, gcs_location(location));
        TRY_ASSIGN(const auto objects, list_day_objects(*location.gcs, url, options));
        std::vector<std::string> out;
        for (const auto& o : objects) {
            out.push_back(o.url.to_string());
        }
        return out;
    }
    const std::string& folder = location.path;
    std::vector<std::pair<std::string, std::string>> days;  // (day, path)
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
        return std::vector<std::string>{};
    }
    fs::directory_iterator it(folder, ec);
    if (ec) {
        return util::io_error(folder + ": cannot list", ec.value());
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

util::Status read_ledger_at(const LedgerLocation& folder, const ReadOptions& options,
                            const std::function<void(const Entry&, const LinePlace&)>& on_entry,
                            std::vector<ReadIssue>* issues) {
    TRY_ASSIGN(auto paths, list_day_files(folder, options));
    const bool gcs = storage::is_gcs(folder.path);
    for (const auto& path : paths) {
        std::size_t line_no = 0;
        auto report = [&](std::size_t line, std::string message) {
            if (issues != nullptr) {
                issues->push_back(ReadIssue{path, line, std::move(message)});
            }
        };
        auto on_line = [&](std::string_view line) {
            ++line_no;
            auto entry = parse_line(line);
            if (entry.ok()) {
                on_entry(*entry, LinePlace{path, line_no});
            } else {
                report(line_no, entry.status().message());
            }
        };
        auto on_torn = [&](std::string_view) { report(line_no + 1, k_torn_line_message); };
        util::Status status;
        if (gcs) {
            TRY_ASSIGN(const storage::GcsUrl url, storage::parse_gcs_url(path));
            auto data = folder.gcs->read(url, k_max_day_object_bytes);
            status = data.status();
            if (data.ok()) {
                split_lines(data->data, on_line, on_torn);
            }
        } else {
            status = util::read_lines(path, on_line, on_torn);
        }
        // A day file removed between listing and reading (a compaction renames, never
        // removes) is simply gone.
        if (!status.ok() && status.code() != util::Code::not_found) {
            return status;
        }
    }
    return util::ok_status();
}

util::Status read_ledger(const LedgerLocation& folder, const ReadOptions& options,
                         const std::function<void(const Entry&)>& on_entry,
                         std::vector<ReadIssue>* issues) {
    return read_ledger_at(
        folder, options, [&](const Entry& entry, const LinePlace&) { on_entry(entry); }, issues);
}

}  // namespace assetgen::ledger
