#include "schedule/policies.hpp"

#include <algorithm>

namespace assetgen::schedule {

std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

milliseconds BackoffPolicy::delay(int attempt, std::uint64_t random,
                                  std::optional<milliseconds> hint) const {
    int shift = std::clamp(attempt - 1, 0, 30);
    std::int64_t ceiling = std::min<std::int64_t>(cap.count(), base.count() << shift);
    if (ceiling < 0 || ceiling > cap.count()) {
        ceiling = cap.count();
    }
    milliseconds jitter(ceiling > 0 ? static_cast<std::int64_t>(random % static_cast<std::uint64_t>(ceiling + 1)) : 0);
    if (hint && *hint > jitter) {
        return *hint;
    }
    return jitter;
}

}  // namespace assetgen::schedule
