#include "util/clock.hpp"

#include <thread>

namespace assetgen::util {

std::int64_t SystemClock::unix_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void SystemClock::sleep_for(std::chrono::nanoseconds d) {
    if (d.count() > 0) {
        std::this_thread::sleep_for(d);
    }
}

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

}  // namespace assetgen::util
