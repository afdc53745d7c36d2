#include "util/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

namespace assetgen::util {

namespace {

int open_descriptors() {
    std::error_code ec;
    int n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++n;
    }
    return ec || n == 0 ? 16 : n;  // no /proc: a guess for stdio, logs and the like
}

}  // namespace

FdFit fit_concurrency_to_fds(int wanted) {
    FdFit fit;
    wanted = std::max(1, wanted);
    fit.concurrency = wanted;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return fit;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            rl = raised;
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY) {
        return fit;
    }
    fit.limit = static_cast<std::int64_t>(rl.rlim_cur);
    fit.open = open_descriptors();
    const std::int64_t free = fit.limit - fit.open - k_fds_reserved;
    const std::int64_t fits = std::max<std::int64_t>(1, free / k_fds_per_request);
    if (fits < wanted) {
        fit.concurrency = static_cast<int>(fits);
        fit.lowered = true;
    }
    return fit;
}

}  // namespace assetgen::util
