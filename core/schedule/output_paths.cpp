#include "schedule/output_paths.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "schedule/session.hpp"
#include "storage/storage.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace fs = std::filesystem;

namespace {

// The real path of the folder it is in, plus its own name (the name itself is not followed).
std::string resolve_output(const std::string& path) {
    std::error_code ec;
    const fs::path abs = fs::absolute(path, ec).lexically_normal();
    fs::path parent = abs.parent_path();
    const fs::path real_parent = fs::weakly_canonical(parent, ec);
    if (!ec) {
        parent = real_parent;
    }
    return (parent / abs.filename()).string();
}

// The real path of a record (every symlink followed, as far as it exists).
std::string resolve_kept(const std::string& path) {
    std::error_code ec;
    const fs::path abs = fs::absolute(path, ec).lexically_normal();
    const fs::path real = fs::weakly_canonical(abs, ec);
    std::string out = (ec ? abs : real).string();
    while (out.size() > 1 && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

bool inside(const std::string& path, const std::string& folder) {
    if (folder == "/") {
        return true;
    }
    return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 &&
           path[folder.size()] == '/';
}

std::string trim_slashes(std::string s) {
    while (s.size() > 5 && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

const char* kind_of(mode_t mode) {
    if (S_ISLNK(mode)) {
        return "a symbolic link";
    }
    if (S_ISDIR(mode)) {
        return "a folder";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return "a device";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    return "not a regular file";
}

util::Status refuse(const OutputPath& o, const std::string& why) {
    return util::error(util::Code::config, o.flag + ": \"" + o.value + "\" " + why);
}

}  // namespace

util::Status check_output_paths(const std::vector<OutputPath>& outputs,
                                const std::vector<KeptPlace>& kept) {
    std::vector<std::pair<const OutputPath*, std::string>> seen;
    for (const auto& o : outputs) {
        if (o.value.empty() || (o.flag == "--events" && o.value == "-")) {
            continue;
        }
        const bool gcs = storage::is_gcs(o.value);
        std::string mine;
        struct stat own {};
        bool exists = false;
        if (gcs) {
            mine = trim_slashes(o.value);
        } else {
            if (::lstat(o.value.c_str(), &own) == 0) {
                exists = true;
                if (!S_ISREG(own.st_mode)) {
                    return refuse(o, std::string("is ") + kind_of(own.st_mode) +
                                         ", not a regular file; assetgen replaces the file it "
                                         "writes, so give the "
                                         "path of a file" +
                                         (o.flag == "--events" ? " (or - for stdout)" : ""));
                }
            }
            mine = resolve_output(o.value);
        }
        for (const auto& k : kept) {
            if (k.value.empty() || k.value == "-" || storage::is_gcs(k.value) != gcs) {
                continue;
            }
            const std::string theirs = gcs ? trim_slashes(k.value) : resolve_kept(k.value);
            bool same = mine == theirs;
            if (!same && !gcs && exists && !k.folder) {  // a hard link
                struct stat st {};
                same = ::stat(k.value.c_str(), &st) == 0 && st.st_dev == own.st_dev &&
                       st.st_ino == own.st_ino;
            }
            if (same || (k.folder && inside(mine, theirs))) {
                return refuse(o,
                              std::string(same ? "is " : "is inside ") + k.what + " (" + k.value +
                                  "); writing there would destroy its records. Give another path");
            }
        }
        for (const auto& [other, path] : seen) {
            if (path == mine) {
                return refuse(
                    o, "is also given to " + other->flag + "; give each output its own path");
            }
        }
        seen.emplace_back(&o, mine);
    }
    return util::ok_status();
}

util::Status check_session_outputs(const SessionOptions& o, const JobPlace& place) {
    return check_output_paths({{"--results", o.results},
                               {"--report", o.report},
                               {"--metrics-file", o.metrics_file},
                               {"--events", o.events}},
                              {{"the input batch", o.input, false},
                               {"the ledger folder", o.ledger, true},
                               {"the job folder", place.dir, true},
                               {"the job's local folder", place.local_root, true},
                               {"the spool folder", o.spool_dir, true}});
}

util::Status check_job_folder(const std::string& ledger, const JobPlace& place) {
    const bool gcs = storage::is_gcs(place.dir);
    if (ledger.empty() || storage::is_gcs(ledger) != gcs) {
        return util::ok_status();
    }
    const std::string out = gcs ? trim_slashes(place.dir.substr(0, place.dir.rfind('/')))
                                : resolve_kept(fs::path(place.dir).parent_path().string());
    if (out != (gcs ? trim_slashes(ledger) : resolve_kept(ledger))) {
        return util::ok_status();
    }
    // The ledger folder's own entries (day files, day totals, the budget journal and the
    // gs:// budget documents), as a case-insensitive file system would match them. A job folder
    // on one of them mixes two locks on one file (the run waited for itself forever at its
    // end) or takes the day file's name (no ledger line could be written).
    const std::string name = util::to_lower(place.job_id);
    const bool taken = name == "totals" || name == ".budget" || name == "budget" ||
                       (name.size() > 6 && name.compare(name.size() - 6, 6, ".jsonl") == 0);
    if (!taken) {
        return util::ok_status();
    }
    return util::error(
        util::Code::usage,
        "--job-id: \"" + place.job_id +
            "\" is a name the ledger keeps in its folder, and --out and --ledger are the same "
            "folder (" +
            ledger + "); give another --job-id, or give --out and --ledger different folders");
}

}  // namespace assetgen::schedule
