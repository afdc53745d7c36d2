#include "ledger/audit.hpp"

// Selecting and summing (`ledger show`, `ledger sum`): one streaming pass over the day files
// through read_ledger, so memory grows with the number of groups (or the --limit), not with
// lines. The day files read are the filter's days widened by one on each side, so that any
// --tz sees its whole days; matches() then decides exactly.

#include <date/tz.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <iterator>

#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

using util::Code;

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
    if (!is_day_file_name(std::string(text) + ".jsonl")) {
        return std::nullopt;
    }
    auto num = [&](std::size_t at, std::size_t len) {
        int v = 0;
        for (std::size_t i = at; i < at + len; ++i) {
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    const std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                          std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                          std::chrono::day{static_cast<unsigned>(num(8, 2))}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days{ymd};
}

std::string format_day(std::chrono::sys_days days) {
    const std::chrono::year_month_day ymd{days};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

// day moved by delta days; unchanged when it is not a valid day (the CLI validates first).
std::string shift_day(const std::string& day, int delta) {
    auto parsed = parse_day(day);
    if (!parsed) {
        return day;
    }
    return format_day(*parsed + std::chrono::days{delta});
}

void add_to(Totals& t, const Entry& e) {
    t.entries += 1;
    t.images += e.images;
    t.cost = util::add_sat(t.cost, e.cost);
    t.estimated = util::add_sat(t.estimated, e.estimated);
}

}  // namespace

std::string utc_day(std::int64_t ts_ms) {
    return util::utc_date(ts_ms);
}

bool is_day(std::string_view text) {
    return parse_day(text).has_value();
}

bool matches(const Entry& entry, const Filter& filter, const DayOf& day_of) {
    auto field_ok = [](const std::string& want, const std::string& have) {
        return want.empty() || want == have;
    };
    if (!field_ok(filter.user, entry.user_id) || !field_ok(filter.job, entry.job_id) ||
        !field_ok(filter.model, entry.model) || !field_ok(filter.mode, entry.mode) ||
        !field_ok(filter.status, entry.status)) {
        return false;
    }
    if (filter.from_day.empty() && filter.to_day.empty()) {
        return true;
    }
    const std::string day = day_of(entry.ts);
    return (filter.from_day.empty() || day >= filter.from_day) &&
           (filter.to_day.empty() || day <= filter.to_day);
}

ReadOptions read_options_for(const Filter& filter) {
    ReadOptions options;
    if (!filter.from_day.empty()) {
        options.from_day = shift_day(filter.from_day, -1);
    }
    if (!filter.to_day.empty()) {
        options.to_day = shift_day(filter.to_day, +1);
    }
    return options;
}

util::Status for_each_matching(const LedgerLocation& folder, const Filter& filter,
                               const DayOf& day_of,
                               const std::function<void(const Entry&)>& on_entry,
                               std::vector<ReadIssue>* issues) {
    return read_ledger(
        folder, read_options_for(filter),
        [&](const Entry& entry) {
            if (matches(entry, filter, day_of)) {
                on_entry(entry);
            }
        },
        issues);
}

util::Result<std::string> local_time(std::int64_t ts_ms, const std::string& tz) {
    const date::time_zone* zone = nullptr;
    try {
        zone = date::locate_zone(tz);
    } catch (const std::exception&) {
        return util::error(Code::config, "--tz: \"" + tz +
                                             "\" is not a time zone (use an IANA name such as UTC "
                                             "or America/Los_Angeles)");
    }
    const date::sys_time<std::chrono::milliseconds> at{std::chrono::milliseconds{ts_ms}};
    // Whole seconds: a table column wants the minute that matters, not the millisecond.
    return date::format("%F %T", date::floor<std::chrono::seconds>(zone->to_local(at)));
}

util::Result<Selection> select_entries(const LedgerLocation& folder, const Filter& filter,
                                       const DayOf& day_of, std::size_t limit) {
    Selection out;
    // A ring of the last `limit` matches, so a limited look at a large ledger stays small.
    std::deque<Entry> kept;
    TRY(for_each_matching(
        folder, filter, day_of,
        [&](const Entry& e) {
            ++out.matched;
            kept.push_back(e);
            if (limit > 0 && kept.size() > limit) {
                kept.pop_front();
            }
        },
        &out.issues));
    out.entries.assign(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    return out;
}

std::optional<GroupBy> group_by_from_name(std::string_view name) {
    for (GroupBy by : {GroupBy::day, GroupBy::user, GroupBy::job, GroupBy::model, GroupBy::mode}) {
        if (group_by_name(by) == name) {
            return by;
        }
    }
    return std::nullopt;
}

std::string_view group_by_name(GroupBy by) {
    switch (by) {
        case GroupBy::day:
            return "day";
        case GroupBy::user:
            return "user";
        case GroupBy::job:
            return "job";
        case GroupBy::model:
            return "model";
        case GroupBy::mode:
            return "mode";
    }
    return "day";
}

Summer::Summer(GroupBy by, DayOf day_of) : m_by(by), m_day_of(std::move(day_of)) {}

std::string Summer::key_of(const Entry& entry) const {
    std::string key;
    switch (m_by) {
        case GroupBy::day:
            key = m_day_of(entry.ts);
            break;
        case GroupBy::user:
            key = entry.user_id;
            break;
        case GroupBy::job:
            key = entry.job_id;
            break;
        case GroupBy::model:
            key = entry.model;
            break;
        case GroupBy::mode:
            key = entry.mode;
            break;
    }
    return key;
}

void Summer::add(const Entry& entry) {
    const std::string key = key_of(entry);
    add_to(m_groups[key], entry);
    add_to(m_total, entry);
    m_reservations.add(entry);
}

std::vector<Group> Summer::groups() const {
    std::map<std::string, Totals> groups = m_groups;
    for (const auto& [id, state] : m_reservations.states()) {
        if (state.outstanding() > 0) {
            Totals& t = groups[key_of(state.reserve)];
            t.reserved = util::add_sat(t.reserved, state.outstanding());
        }
    }
    std::vector<Group> out;
    out.reserve(groups.size());
    for (const auto& [key, totals] : groups) {
        out.push_back(Group{key, totals});
    }
    return out;
}

Totals Summer::total() const {
    Totals t = m_total;
    t.reserved = m_reservations.outstanding();
    return t;
}

util::Result<SumResult> sum(const LedgerLocation& folder, const Filter& filter, GroupBy by,
                            const DayOf& day_of) {
    Summer summer(by, day_of);
    SumResult result;
    TRY(for_each_matching(
        folder, filter, day_of, [&](const Entry& e) { summer.add(e); }, &result.issues));
    result.groups = summer.groups();
    result.total = summer.total();
    return result;
}

}  // namespace assetgen::ledger
