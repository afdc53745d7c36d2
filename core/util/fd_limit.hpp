#pragma once
// File descriptors for requests in flight. Each request holds a connection while it waits, then
// writes its image (a temp file, its folder for the fsync) and reads references; running out of
// descriptors after the model answered would lose a paid answer. So the concurrency is fitted to
// the open-file limit before the run starts: the soft limit is raised to the hard one when it
// is lower, and if that is still not enough, fewer requests run at once (the caller says so).

#include <cstdint>

namespace assetgen::util {

// Descriptors one request in flight may hold at once, and those kept for the run's own files
// (ledger, manifest, journal, spool, events, the GCS and OAuth connections).
constexpr int k_fds_per_request = 5;
constexpr int k_fds_reserved = 64;

struct FdFit {
    int concurrency = 1;     // what may run at once (≤ wanted, ≥ 1)
    std::int64_t limit = 0;  // RLIMIT_NOFILE's soft limit after raising it
    int open = 0;            // descriptors open when it was measured
    bool lowered = false;    // concurrency < wanted
};

// Raises the soft RLIMIT_NOFILE to the hard limit when it is lower, then fits `wanted`.
FdFit fit_concurrency_to_fds(int wanted);

}  // namespace assetgen::util
