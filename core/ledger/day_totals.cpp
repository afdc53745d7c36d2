// How this works: a gs:// update reads the totals object's generation first, then the day's
// ledger, then writes with ifGenerationMatch on that generation. A writer that succeeds read the
// ledger after every earlier successful writer did (else the generation it read would be stale
// and its write refused), so the object only ever moves forward. A local update holds an flock
// for the same reason and replaces the file atomically.
#include "ledger/day_totals.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "ledger/audit.hpp"
#include "ledger/reservations.hpp"
#include "storage/gcs_client.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/atomic_file.hpp"
#include "util/money.hpp"
#include "util/retry.hpp"

namespace assetgen::ledger {
namespace {

constexpr int k_max_attempts = 8;

// An flock held for a scope; unlocked and closed by the destructor.
class FolderLock {
public:
    explicit FolderLock(int fd) : m_fd(fd) {}
    ~FolderLock() {
        if (m_fd >= 0) {
            ::flock(m_fd, LOCK_UN);
            ::close(m_fd);
        }
    }
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;

private:
    int m_fd;
};

util::Result<int> lock_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return util::io_error(path + ": cannot open", errno);
    }
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            const int e = errno;
            ::close(fd);
            return util::io_error(path + ": cannot lock", e);
        }
    }
    return fd;
}

}  // namespace

util::Result<DayTotals> compute_day_totals(const LedgerLocation& ledger, const std::string& day) {
    if (!is_day(day)) {
        return util::error(util::Code::invalid_input, "ledger totals: not a day \"" + day + "\"");
    }
    DayTotals totals;
    totals.day = day;
    ReservationBook reservations;  // the day's batches: what the open ones still hold
    Filter filter;
    filter.from_day = day;
    filter.to_day = day;
    TRY(for_each_matching(
        ledger, filter, utc_day,
        [&](const Entry& e) {
            DayTotalsCell& cell = totals.users[e.user_id][e.mode];
            cell.cost += e.cost;
            cell.images += e.images;
            cell.requests += is_reservation_line(e) ? 0 : 1;  // a batch's reserve, settle
            cell.last_ts_ms = std::max(cell.last_ts_ms, e.ts);
            ++totals.entries;
            reservations.add(e);
        },
        nullptr));
    for (const auto& [id, state] : reservations.states()) {
        if (state.outstanding() > 0) {
            DayTotalsCell& cell = totals.users[state.reserve.user_id][state.reserve.mode];
            cell.reserved_pending = util::add_capped(cell.reserved_pending, state.outstanding());
        }
    }
    return totals;
}

std::string day_totals_json(const DayTotals& totals, std::int64_t updated_ms) {
    nlohmann::json users = nlohmann::json::object();
    for (const auto& [user, modes] : totals.users) {
        nlohmann::json by_mode = nlohmann::json::object();
        for (const auto& [mode, c] : modes) {
            by_mode[mode] = {{"cost_micros", c.cost},
                             {"images", c.images},
                             {"requests", c.requests},
                             {"reserved_pending_micros", c.reserved_pending},
                             {"updated", util::utc_timestamp(c.last_ts_ms)}};
        }
        users[user] = std::move(by_mode);
    }
    nlohmann::json doc = {{"v", 1},
                          {"day", totals.day},
                          {"updated", util::utc_timestamp(updated_ms)},
                          {"entries", totals.entries},
                          {"users", std::move(users)}};
    return doc.dump() + "\n";
}

std::string day_totals_location(const std::string& ledger, const std::string& day) {
    std::string base = ledger;
    while (base.size() > 1 && base.back() == '/') {
        base.pop_back();
    }
    return base + "/totals/" + day + ".json";
}

util::Status update_day_totals(const LedgerLocation& ledger, const std::string& day,
                               util::Clock& clock) {
    if (!is_day(day)) {
        return util::error(util::Code::invalid_input, "ledger totals: not a day \"" + day + "\"");
    }
    const std::string where = day_totals_location(ledger.path, day);
    if (!util::starts_with(ledger.path, "gs://")) {
        TRY(util::make_dirs(ledger.path + "/totals"));
        TRY_ASSIGN(const int fd, lock_file(ledger.path + "/totals/.lock"));
        FolderLock held(fd);
        TRY_ASSIGN(const DayTotals totals, compute_day_totals(ledger, day));
        return util::write_file_atomic(where, day_totals_json(totals, clock.unix_ms()));
    }
    if (ledger.gcs == nullptr) {
        return util::error(util::Code::config, where + ": no Cloud Storage client");
    }
    TRY_ASSIGN(const storage::GcsUrl url, storage::parse_gcs_url(where));
    // A 412 means another run wrote it meanwhile: read again (its ledger view may lack our
    // lines) after 5 ms, doubling.
    util::RetryPolicy rounds;
    rounds.max_attempts = k_max_attempts;
    rounds.initial_backoff = std::chrono::milliseconds(5);
    rounds.max_backoff = std::chrono::milliseconds(5 << k_max_attempts);
    rounds.jitter = util::Jitter::none;
    auto round = [&](int) -> util::Status {
        std::int64_t generation = 0;
        auto meta = ledger.gcs->stat(url);
        if (meta.ok()) {
            generation = meta->generation;
        } else if (meta.status().code() != util::Code::not_found) {
            return util::error(meta.status().code(), where + ": " + meta.status().message());
        }
        TRY_ASSIGN(const DayTotals totals, compute_day_totals(ledger, day));
        storage::Preconditions pre;
        pre.if_generation_match = generation;
        auto written = ledger.gcs->upload(url, day_totals_json(totals, clock.unix_ms()),
                                          "application/json", pre);
        if (written.ok() || storage::is_precondition_failed(written.status())) {
            return written.status();
        }
        return util::error(written.status().code(), where + ": " + written.status().message());
    };
    auto updated = util::retry_loop(clock, rounds, round, [](const util::Status& st) {
        return util::RetryClass{storage::is_precondition_failed(st), true, std::nullopt};
    });
    if (updated.ok() || !storage::is_precondition_failed(updated.value)) {
        return updated.value;
    }
    return util::error(
        util::Code::unavailable,
        where + ": changed by other runs " + std::to_string(k_max_attempts) + " times in a row");
}

util::Status update_run_day_totals(const LedgerLocation& ledger, std::int64_t since_ms,
                                   util::Clock& clock) {
    constexpr std::int64_t k_day_ms = 86'400'000;
    const std::int64_t now = clock.unix_ms();
    const std::string today = utc_day(now);
    std::int64_t t = since_ms > 0 && since_ms < now ? std::max(since_ms, now - 7 * k_day_ms) : now;
    for (std::string day = utc_day(t); day < today; t += k_day_ms, day = utc_day(t)) {
        TRY(update_day_totals(ledger, day, clock));
    }
    return update_day_totals(ledger, today, clock);
}

}  // namespace assetgen::ledger
