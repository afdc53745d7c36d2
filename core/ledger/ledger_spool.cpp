#include "ledger/ledger_spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "ledger/entry.hpp"
#include "util/atomic_file.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using util::Code;

constexpr std::string_view k_spool_suffix = ".jsonl";

std::string safe(std::string_view s) {
    std::string out;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        out += ok ? c : '_';
    }
    return out.empty() ? "_" : out;
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "host";
    }
    // The short name is enough and keeps object names short.
    std::string name(buf);
    return name.substr(0, std::min(name.find('.'), std::size_t{40}));
}

}  // namespace

std::string new_writer_id(std::int64_t now_ms) {
    std::random_device rd;
    char random[9];
    std::snprintf(random, sizeof random, "%08x", rd());
    return safe(host_name()) + "-" + std::to_string(::getpid()) + "-" + std::to_string(now_ms) +
           "-" + random;
}

std::string spool_file(const std::string& dir, const std::string& writer) {
    return dir + "/" + writer + std::string(k_spool_suffix);
}

std::string spool_lock_file(const std::string& dir, const std::string& writer) {
    return dir + "/" + writer + ".lock";
}

std::string spool_state_file(const std::string& dir, const std::string& writer) {
    return dir + "/" + writer + ".state";
}

util::Result<SpoolState> read_spool_state(const std::string& path) {
    auto text = util::read_file(path);
    if (!text.ok()) {
        if (text.status().code() == Code::not_found) {
            return SpoolState{};
        }
        return text.status();
    }
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("committed") ||
        !j["committed"].is_number_unsigned()) {
        return util::error(Code::storage_io, path + ": not a spool state");
    }
    SpoolState s;
    s.committed = j["committed"].get<std::uint64_t>();
    if (auto it = j.find("inflight"); it != j.end() && it->is_object()) {
        SpoolIntent i;
        i.day = it->value("day", "");
        i.part = it->value("part", "");
        i.first = it->value("first", std::uint64_t{0});
        i.end = it->value("end", std::uint64_t{0});
        i.base_seq = it->value("base_seq", std::int64_t{0});
        if (i.day.empty() || i.part.empty() || i.end <= i.first) {
            return util::error(Code::storage_io, path + ": bad push in flight");
        }
        s.inflight = std::move(i);
    }
    return s;
}

util::Status write_spool_state(const std::string& path, const SpoolState& state) {
    json j = {{"v", 1}, {"committed", state.committed}};
    if (state.inflight) {
        const auto& i = *state.inflight;
        j["inflight"] = {{"day", i.day},
                         {"part", i.part},
                         {"first", i.first},
                         {"end", i.end},
                         {"base_seq", i.base_seq}};
    }
    return util::write_file_atomic(
        path, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

util::Result<std::vector<SpoolLine>> read_spool_lines(const std::string& path, std::uint64_t offset,
                                                      std::size_t* skipped) {
    std::vector<SpoolLine> out;
    auto file = util::open_file(path, O_RDONLY);
    if (!file.ok()) {
        if (file.status().code() == Code::not_found) {
            return out;
        }
        return file.status();
    }
    const int fd = file->release();
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return util::io_error(path + ": cannot stat", errno);
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::string buf(size > offset ? size - offset : 0, '\0');
    std::size_t got = 0;
    while (got < buf.size()) {
        ssize_t n =
            ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ::close(fd);
            return util::io_error(path + ": read failed", errno);
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buf.resize(got);
    std::size_t start = 0;
    for (std::size_t nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n', start)) {
        std::string_view text = std::string_view(buf).substr(start, nl - start);
        auto entry = parse_line(text);
        if (entry.ok()) {
            out.push_back(SpoolLine{offset + start, std::string(text) + "\n",
                                    util::utc_date(entry->ts), entry->id});
        } else if (skipped != nullptr && !util::trim(text).empty()) {
            ++*skipped;
        }
        start = nl + 1;
    }
    return out;
}

util::Result<std::string> spool_folder_id(const std::string& dir) {
    const std::string path = dir + "/.id";
    auto existing = util::read_file(path);
    if (existing.ok() && !util::trim(*existing).empty()) {
        return std::string(util::trim(*existing));
    }
    if (!existing.ok() && existing.status().code() != Code::not_found) {
        return existing.status();
    }
    TRY(util::make_dirs(dir));
    std::random_device rd;
    char id[33];
    std::snprintf(id, sizeof id, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
    // Written whole beside it, then linked into place: the first one made wins, never a torn one.
    const std::string mine = dir + "/.id-" + id;
    TRY(util::write_file_atomic(mine, std::string(id) + "\n"));
    const int linked = ::link(mine.c_str(), path.c_str());
    const int err = errno;
    ::unlink(mine.c_str());
    if (linked != 0 && err != EEXIST) {
        return util::io_error(path + ": cannot create", err);
    }
    TRY_ASSIGN(std::string text, util::read_file(path));
    if (util::trim(text).empty()) {
        return util::error(Code::storage_io, path + ": empty; delete it");
    }
    return std::string(util::trim(text));
}

util::Result<std::vector<std::string>> list_spools(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return out;
    }
    fs::directory_iterator it(dir, ec);
    if (ec) {
        return util::io_error(dir + ": cannot list", ec.value());
    }
    for (const auto& dirent : it) {
        const std::string name = dirent.path().filename().string();
        if (name.size() > k_spool_suffix.size() && name[0] != '.' &&
            name.compare(name.size() - k_spool_suffix.size(), k_spool_suffix.size(),
                         k_spool_suffix) == 0) {
            out.push_back(name.substr(0, name.size() - k_spool_suffix.size()));
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

util::Result<std::optional<SpoolLock>> SpoolLock::acquire(const std::string& path, bool wait) {
    TRY_ASSIGN(util::UniqueFd file, util::open_file(path, O_RDWR | O_CREAT));
    int rc = 0;
    while ((rc = ::flock(file.get(), LOCK_EX | (wait ? 0 : LOCK_NB))) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
        const int err = errno;
        if (err == EWOULDBLOCK) {
            return std::optional<SpoolLock>();
        }
        return util::io_error(path + ": cannot lock", err);
    }
    // A recoverer removes the lock file last, while holding it: a lock taken on a file that
    // is no longer at the path guards nothing.
    struct stat held {};
    struct stat named {};
    if (::fstat(file.get(), &held) != 0 || ::stat(path.c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
        return std::optional<SpoolLock>();
    }
    return std::optional<SpoolLock>(SpoolLock(std::move(file), path));
}

}  // namespace assetgen::ledger
