#include "schedule/default_folders.hpp"

#include "refs/ref_cache.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::schedule {

util::Status resolve_default_folders(SessionOptions& options, const SessionLog& log,
                                     const context::Places& places) {
    auto tell = [&](const std::string& line) {
        if (log.info && !line.empty()) {
            log.info(line);
        }
    };
    if (options.spool_dir.empty()) {
        auto spool = default_spool_dir(places.spool_dir, places.state_dirs);
        if (!spool.ok()) {
            return util::error(spool.status().code(), "spool: " + spool.status().message());
        }
        tell(spool->notice.empty() ? "" : "spool: " + spool->notice);
        options.spool_dir = spool->path;
    }
    std::string& cache = options.refs.cache_dir;
    if (!cache.empty() && cache == refs::default_cache_dir(places.cache_dirs)) {
        auto dir =
            util::resolve_user_dir(util::UserDirKind::cache, "assetgen/refs", places.cache_dirs);
        if (!dir.ok()) {
            tell("ref cache: off (" + dir.status().message() + ")");
            cache.clear();
        } else {
            tell(dir->notice.empty() ? "" : "ref cache: " + dir->notice);
            cache = dir->path;
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::schedule
