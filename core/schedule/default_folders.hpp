#pragma once
// The folders a run writes on its own unless told where: the spool (--spool-dir) and the
// reference cache (--ref-cache). Their defaults must work for any uid (util/user_dirs.hpp).

#include "context/context.hpp"
#include "schedule/session.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// Fills in options.spool_dir when empty (default_spool_dir) and replaces options.refs.cache_dir
// when it is the default refs::default_cache_dir() by a folder that can be written; a fallback is
// told on log.info in one line. A spool folder that cannot be had is the error (PERMISSION_DENIED
// or STORAGE_IO, naming the folder); a cache that cannot be had turns the cache off with a notice.
// places: the environment's folders, as the Context read them.
util::Status resolve_default_folders(SessionOptions& options, const SessionLog& log,
                                     const context::Places& places);

}  // namespace assetgen::schedule
