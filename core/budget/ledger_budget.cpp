#include "budget/ledger_budget.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "budget/spend.hpp"
#include "ledger/entry.hpp"
#include "storage/storage.hpp"
#include "util/append_file.hpp"
#include "util/atomic_file.hpp"
#include "util/money.hpp"
#include "util/safe_dir.hpp"

namespace assetgen::budget {
namespace {

constexpr std::uint64_t k_compact_journal_bytes = 1u << 20;

// The start time of a process (field 22 of /proc/<pid>/stat), 0 if unknown. With the pid it
// names one process even after the pid is reused.
std::uint64_t process_start(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    // After "pid (comm) " the state is field 3; the start time is field 22.
    for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 22) {
            return std::strtoull(field.c_str(), nullptr, 10);
        }
    }
    return 0;
}

bool alive(const std::pair<long, std::uint64_t>& p) {
    if (::kill(static_cast<pid_t>(p.first), 0) != 0 && errno != EPERM) {
        return false;
    }
    const std::uint64_t start = process_start(p.first);
    return start == 0 || p.second == 0 || start == p.second;
}

std::string safe_name(const std::string& s) {
    std::string out;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out += ok ? c : '_';
    }
    return out.empty() ? "_" : out;
}

class FlockGuard {
public:
    explicit FlockGuard(int fd) : m_fd(fd) {
        while (::flock(m_fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    ~FlockGuard() { ::flock(m_fd, LOCK_UN); }
    FlockGuard(const FlockGuard&) = delete;
    FlockGuard& operator=(const FlockGuard&) = delete;

private:
    int m_fd;
};

}  // namespace

std::string LedgerBudget::journal_line(const std::pair<long, std::uint64_t>& who, const Held& h) {
    return nlohmann::json{{"pid", who.first},
                          {"start", who.second},
                          {"held", h.amount},
                          {"day", h.day},
                          {"place", h.place}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
}

LedgerBudget::LedgerBudget(LedgerBudgetOptions options, util::Clock& clock)
    : m_options(std::move(options)), m_clock(clock) {}

util::Result<std::unique_ptr<LedgerBudget>> LedgerBudget::open(LedgerBudgetOptions options,
                                                               util::Clock& clock) {
    std::unique_ptr<LedgerBudget> b(new LedgerBudget(std::move(options), clock));
    const LedgerBudgetOptions& o = b->m_options;
    TRY_ASSIGN(b->m_day, day_in_zone(clock.unix_ms(), o.tz));
    if (storage::is_gcs(o.ledger_folder)) {
        return util::error(util::Code::config, o.ledger_folder +
                                                   ": a gs:// ledger's budget is shared through "
                                                   "leases (GcsLeaseBudget), not a local journal");
    }
    const std::string dir = o.ledger_folder + "/.budget";
    // Temp files a killed writer left in the ledger folder (a compaction) or the journals'.
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    util::remove_orphan_temps(o.ledger_folder, now, false);
    util::remove_orphan_temps(dir, now, false);
    const std::string base = dir + "/" + safe_name(b->m_options.user) + "." +
                             safe_name(std::string(ledger::run_mode_name(b->m_options.mode)));
    b->m_lock_path = base + ".lock";
    b->m_journal_path = base + ".jsonl";
    TRY_ASSIGN(util::UniqueFd lock_file, util::open_file(b->m_lock_path, O_RDWR | O_CREAT));
    b->m_lock_fd = lock_file.release();
    const long pid = static_cast<long>(::getpid());
    b->m_self = {pid, process_start(pid)};
    std::lock_guard lock(b->m_mutex);
    FlockGuard flock(b->m_lock_fd);
    TRY(b->refresh_locked());
    TRY(b->release_dead_of_place_locked());
    return b;
}

LedgerBudget::~LedgerBudget() {
    if (m_lock_fd >= 0) {
        {
            std::lock_guard lock(m_mutex);
            FlockGuard flock(m_lock_fd);
            // Unwritten, the journal keeps saying this process holds money: that counts only
            // while the process lives or, for its day, until a run of its place releases it.
            write_held_locked(0).ignore_error();
        }
        ::close(m_lock_fd);
    }
}

util::Status LedgerBudget::read_ledger_file(const std::string& name) {
    Tail& t = m_ledger_tails[name];
    return t.file.read(
        m_options.ledger_folder + "/" + name,
        [&] {
            m_spent -= t.contribution;
            t.contribution = 0;
            t.reservations.clear();
        },
        [&](std::string_view line) {
            auto e = ledger::parse_line(line);
            if (!e.ok() || e->user_id != m_options.user) {
                return;
            }
            if (!ledger::counts_in(*e, m_options.mode)) {
                return;
            }
            auto d = day_in_zone(e->ts, m_options.tz);
            if (d.ok() && *d == m_day) {
                // Capped, so that taking a file's contribution back out stays exact.
                const util::Micros before = t.contribution;
                t.contribution = util::add_capped(t.contribution, e->cost);
                m_spent = util::add_sat(m_spent, t.contribution - before);
                t.reservations.add(*e);
            }
        });
}

util::Status LedgerBudget::read_journal() {
    return m_journal_tail.read(
        m_journal_path, [&] { m_held.clear(); },
        [&](std::string_view line) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_object()) {
                return;
            }
            auto key = std::make_pair(j.value("pid", 0L), j.value("start", std::uint64_t{0}));
            m_held[key] = Held{j.value("held", util::Micros{0}), j.value("day", std::string()),
                               j.value("place", std::string())};
        });
}

util::Status LedgerBudget::refresh_locked() {
    const std::int64_t now = m_clock.unix_ms();
    const std::int64_t day_ms = 86'400'000;
    for (std::int64_t t : {now - day_ms, now, now + day_ms}) {
        TRY(read_ledger_file(util::utc_date(t) + ".jsonl"));
    }
    TRY(read_journal());
    return util::ok_status();
}

util::Micros LedgerBudget::others_held_locked() const {
    util::Micros sum = 0;
    for (const auto& [who, held] : m_held) {
        if (who != m_self && held.amount > 0 && counts(who, held)) {
            sum = util::add_capped(sum, held.amount);
        }
    }
    return sum;
}

util::Micros LedgerBudget::live_others_held_locked() const {
    util::Micros sum = 0;
    for (const auto& [who, held] : m_held) {
        if (who != m_self && held.amount > 0 && alive(who)) {
            sum = util::add_capped(sum, held.amount);
        }
    }
    return sum;
}

// A live process's holdings count; a dead one's count for its day until a run of its place
// releases them (it may have stored paid images whose ledger lines it never wrote).
bool LedgerBudget::counts(const std::pair<long, std::uint64_t>& who, const Held& held) const {
    return (!held.day.empty() && held.day == m_day) || alive(who);
}

util::Status LedgerBudget::release_dead_of_place_locked() {
    if (m_options.place.empty()) {
        return util::ok_status();
    }
    std::string lines;
    std::vector<std::pair<long, std::uint64_t>> released;
    for (const auto& [who, held] : m_held) {
        const bool ours = held.place == m_options.place ||
                          std::find(m_options.more_places.begin(), m_options.more_places.end(),
                                    held.place) != m_options.more_places.end();
        if (who != m_self && held.amount > 0 && ours && !alive(who)) {
            lines += journal_line(who, Held{0, m_day, held.place});
            released.push_back(who);
        }
    }
    if (lines.empty()) {
        return util::ok_status();
    }
    TRY(append_journal_locked(lines));
    for (const auto& who : released) {
        m_held[who].amount = 0;
    }
    return util::ok_status();
}

void LedgerBudget::note_overshoot_locked() {
    // Spent only grows within a day, so the largest excess seen is the final one. (Adding
    // reservations here would count a cost twice between its ledger line and its settle.)
    m_overshoot = std::max(m_overshoot, m_spent - m_options.limit);
}

util::Status LedgerBudget::append_journal_locked(std::string_view lines) {
    // Kept open between writes (a reopen costs a walk of the folders per image); a compaction
    // (by any process, under the file lock this caller holds) replaces the file, so the path
    // must still name the file held. Held open, its inode cannot be reused meanwhile.
    if (m_journal_out.is_open()) {
        struct stat named {};
        auto held = m_journal_out.identity();
        if (::stat(m_journal_path.c_str(), &named) != 0 || !held.ok() ||
            held->device != static_cast<std::uint64_t>(named.st_dev) ||
            held->inode != static_cast<std::uint64_t>(named.st_ino)) {
            m_journal_out = util::AppendFile();
        }
    }
    if (!m_journal_out.is_open()) {
        TRY_ASSIGN(m_journal_out, util::AppendFile::open(m_journal_path));
    }
    return m_journal_out.append(lines);
}

util::Status LedgerBudget::write_held_locked(util::Micros held) {
    // Rewrite a long journal with only what is still held, so reads stay cheap.
    if (m_journal_tail.offset() > k_compact_journal_bytes) {
        std::string keep;
        for (const auto& [who, h] : m_held) {
            if (who != m_self && h.amount > 0 && counts(who, h)) {
                keep += journal_line(who, h);
            }
        }
        TRY(util::write_file_atomic(m_journal_path, keep));
    }
    const Held mine{held, m_day, m_options.place};
    TRY(append_journal_locked(journal_line(m_self, mine)));
    m_held[m_self] = mine;
    m_unwritten = false;  // what settle_later() lowered is in this line
    return util::ok_status();
}

bool LedgerBudget::reserve(util::Micros amount) {
    for (;;) {
        {
            std::lock_guard lock(m_mutex);
            FlockGuard flock(m_lock_fd);
            if (!refresh_locked().ok()) {
                return false;
            }
            const util::Micros held_elsewhere = others_held_locked();
            const util::Micros batches = held_by_reservations_locked();
            const util::Micros others = util::add_sat(held_elsewhere, batches);
            if (util::add_sat(util::add_sat(m_spent, m_mine), util::add_sat(others, amount)) <=
                m_options.limit) {
                if (!write_held_locked(m_mine + amount).ok()) {
                    return false;
                }
                m_mine += amount;
                return true;
            }
            // Only requests in flight, here or in a live process, can free room by settling
            // below their reservations. What is spent, what pending batches hold (settled when
            // their run collects them, which may be this thread after this call) and a dead
            // run's holdings stay: when they alone leave no room for amount, waiting would never
            // end (an overrun past the limit, this process's own batch), so refuse at once.
            const util::Micros live = live_others_held_locked();
            const util::Micros dead = std::max<util::Micros>(0, held_elsewhere - live);
            const util::Micros stays = util::add_sat(util::add_sat(m_spent, batches), dead);
            if (util::add_sat(stays, amount) > m_options.limit || m_mine + live == 0) {
                return false;
            }
        }
        // Someone's requests are in flight: their settling may free room.
        m_clock.sleep_for(std::chrono::milliseconds(20));
    }
}

void LedgerBudget::settle(util::Micros reserved, util::Micros /*actual: already in the ledger*/) {
    std::lock_guard lock(m_mutex);
    m_mine -= reserved;
    write_settled_locked();
}

void LedgerBudget::settle_later(util::Micros reserved, util::Micros /*actual: in the ledger*/) {
    std::lock_guard lock(m_mutex);
    m_mine -= reserved;
    m_unwritten = true;
}

void LedgerBudget::flush_settles() {
    std::lock_guard lock(m_mutex);
    if (m_unwritten) {
        write_settled_locked();
    }
}

void LedgerBudget::write_settled_locked() {
    FlockGuard flock(m_lock_fd);
    // Unwritten, the journal says this process holds more than it does: others see less room
    // (never more) until its next write.
    write_held_locked(m_mine).ignore_error();
    // Unread, the overshoot below is noted from the last read; the next reserve() reads again
    // and refuses when it still cannot.
    refresh_locked().ignore_error();
    note_overshoot_locked();
}

util::Micros LedgerBudget::held_by_reservations_locked() const {
    util::Micros sum = 0;
    for (const auto& [name, tail] : m_ledger_tails) {
        sum = util::add_capped(sum, tail.reservations.outstanding());
    }
    return sum;
}

util::Micros LedgerBudget::spent() const {
    std::lock_guard lock(m_mutex);
    return util::add_sat(m_spent, held_by_reservations_locked());
}

util::Micros LedgerBudget::reserved() const {
    std::lock_guard lock(m_mutex);
    return m_mine + others_held_locked();
}

util::Micros LedgerBudget::overshoot() const {
    std::lock_guard lock(m_mutex);
    return std::max<util::Micros>(0, m_overshoot);
}

}  // namespace assetgen::budget
