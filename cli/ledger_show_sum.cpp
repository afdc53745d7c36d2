// `assetgen ledger show` and `ledger sum`: entries, and their totals by a key, through the same
// filters.
#include "ledger_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/env.hpp"
#include "budget/amounts.hpp"
#include "budget/prices.hpp"
#include "budget/spend.hpp"
#include "commands.hpp"
#include "flag_checks.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/json_line.hpp"
#include "ledger/reservation_list.hpp"
#include "storage/storage.hpp"
#include "table.hpp"
#include "util/atomic_file.hpp"
#include "util/clock.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::cli::ledger_cmd {

using util::Code;

// --- show -----------------------------------------------------------------------------------

std::vector<Column> show_columns(const std::string& tz) {
    return {{"time (" + tz + ")", Align::left},
            {"user", Align::left},
            {"job", Align::left},
            {"scene_id", Align::left},
            {"variant", Align::right},
            {"model", Align::left},
            {"mode", Align::left},
            {"status", Align::left},
            {"images", Align::right},
            {"cost", Align::right}};
}

std::vector<std::string> show_cells(const ledger::Entry& e, const std::string& tz) {
    // The zone is checked before any entry is read, so the UTC fallback is never taken.
    auto time = ledger::local_time(e.ts, tz);
    std::vector<std::string> cells{time.ok() ? *time : util::utc_timestamp(e.ts),
                                   e.user_id,
                                   e.job_id,
                                   e.scene_id,
                                   std::to_string(e.variant),
                                   e.model,
                                   e.mode,
                                   e.status,
                                   std::to_string(e.images),
                                   util::format_usd(e.cost)};
    // A reservation's lines (pending batches): the batch in place of the scene, what was held
    // or settled in place of the cost, which is 0 on these lines.
    if (e.kind == ledger::k_kind_reserve) {
        cells[3] = "batch " + e.batch;
        cells[4] = std::to_string(e.requests) + " req";
        cells[9] = "held " + util::format_usd(e.reserved);
    } else if (e.kind == ledger::k_kind_settle) {
        cells[3] = "batch " + e.batch;
        cells[4] = "";
        cells[7] = e.error_code.empty() ? e.status : e.status + " " + e.error_code;
        cells[9] = "actual " + util::format_usd(e.settled);
    }
    return cells;
}

// --- show --reservations ---------------------------------------------------------------------

std::vector<Column> reservation_columns(const std::string& tz) {
    return {{"reserved at (" + tz + ")", Align::left},
            {"id", Align::left},
            {"batch", Align::left},
            {"job", Align::left},
            {"user", Align::left},
            {"reserved", Align::right},
            {"paid", Align::right},
            {"state", Align::left},
            {"age", Align::right}};
}

std::vector<std::string> reservation_cells(const ledger::ReservationRow& r, const std::string& tz) {
    auto time = ledger::local_time(r.reserved_ts, tz);
    const std::string state = !r.settled ? "open, holds " + util::format_usd(r.held)
                                         : "settled " + util::format_usd(r.settled_amount) +
                                               (r.reason.empty() ? std::string() : " " + r.reason);
    return {time.ok() ? *time : util::utc_timestamp(r.reserved_ts),
            r.id,
            r.batch,
            r.job_id,
            r.user_id,
            util::format_usd(r.reserved),
            util::format_usd(r.paid),
            state,
            util::format_duration(std::chrono::milliseconds(r.age_ms))};
}

std::string reservation_json(const ledger::ReservationRow& r) {
    ledger::JsonLineWriter w;
    w.add_string("id", r.id)
        .add_string("batch", r.batch)
        .add_string("jobId", r.job_id)
        .add_string("userId", r.user_id)
        .add_string("mode", r.mode)
        .add_string("model", r.model)
        .add_int("requests", r.requests)
        .add_string("reservedAt", util::utc_timestamp(r.reserved_ts))
        .add_money("reservedUsd", r.reserved)
        .add_money("paidUsd", r.paid)
        .add_money("heldUsd", r.held)
        .add_string("state", r.settled ? "settled" : "open");
    if (r.settled) {
        w.add_money("settledUsd", r.settled_amount).add_string("reason", r.reason);
    }
    w.add_int("ageSeconds", r.age_ms / 1000);
    return json_object(w) + "\n";
}

util::Result<ExitCode> show_reservations(const LedgerOptions& o, Console& console,
                                         const LedgerAccess& access, const ledger::Filter& filter,
                                         const ledger::DayOf& day_of) {
    std::vector<ledger::ReadIssue> issues;
    TRY_ASSIGN(const auto rows,
               ledger::list_reservations(access.location, filter, day_of,
                                         util::system_clock().unix_ms(), o.limit, &issues));
    if (o.json) {
        for (const auto& r : rows) {
            print(reservation_json(r));
        }
    } else {
        Table t(reservation_columns(o.tz));
        for (const auto& r : rows) {
            t.add_row(reservation_cells(r, o.tz));
        }
        print(stdout_is_tty() ? t.render_aligned() : t.render_tsv());
    }
    warn_skipped(console, issues);
    return ExitCode::ok;
}

util::Result<ExitCode> run_show(const LedgerOptions& o, Console& console,
                                const context::Context& ctx) {
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder_name, o.folder, ctx));
    TRY_ASSIGN(const ledger::Filter filter, filter_from(o));
    TRY_ASSIGN(const ledger::DayOf day_of, day_of_zone(o.tz));
    note_missing(console, o.folder);
    if (o.reservations) {
        return show_reservations(o, console, access, filter, day_of);
    }
    const bool table = !o.json && stdout_is_tty();

    // Without a limit or a table to align, entries stream straight to stdout.
    if (o.limit == 0 && !table) {
        std::vector<ledger::ReadIssue> issues;
        if (!o.json) {
            print(Table(show_columns(o.tz)).render_tsv());
        }
        TRY(ledger::for_each_matching(
            access.location, filter, day_of,
            [&](const ledger::Entry& e) {
                print(o.json ? ledger::to_line(e) : Table::tsv_row(show_cells(e, o.tz)));
            },
            &issues));
        warn_skipped(console, issues);
        return ExitCode::ok;
    }

    TRY_ASSIGN(const ledger::Selection selection,
               ledger::select_entries(access.location, filter, day_of, o.limit));
    if (o.json) {
        for (const auto& e : selection.entries) {
            print(ledger::to_line(e));
        }
    } else {
        Table t(show_columns(o.tz));
        for (const auto& e : selection.entries) {
            t.add_row(show_cells(e, o.tz));
        }
        print(table ? t.render_aligned() : t.render_tsv());
    }
    warn_skipped(console, selection.issues);
    if (selection.matched > static_cast<std::int64_t>(selection.entries.size())) {
        console.info("showing the last " + std::to_string(selection.entries.size()) + " of " +
                     std::to_string(selection.matched) + " matching entries");
    }
    return ExitCode::ok;
}

// --- sum ------------------------------------------------------------------------------------

std::string totals_json(ledger::JsonLineWriter& w, const ledger::Totals& t) {
    w.add_int("entries", t.entries)
        .add_int("images", t.images)
        .add_money("costUsd", t.cost)
        .add_money("estimatedUsd", t.estimated)
        .add_money("reservedPendingUsd", t.reserved);
    return json_object(w);
}

std::vector<std::string> totals_cells(std::string key, const ledger::Totals& t,
                                      bool with_reserved) {
    std::vector<std::string> cells{std::move(key), std::to_string(t.entries),
                                   std::to_string(t.images), util::format_usd(t.cost),
                                   util::format_usd(t.estimated)};
    if (with_reserved) {
        cells.push_back(util::format_usd(t.reserved));
    }
    return cells;
}

util::Result<ExitCode> run_sum(const LedgerOptions& o, Console& console,
                               const context::Context& ctx) {
    TRY_ASSIGN(const LedgerAccess access, open_ledger(o.folder_name, o.folder, ctx));
    TRY_ASSIGN(const ledger::Filter filter, filter_from(o));
    TRY_ASSIGN(const ledger::DayOf day_of, day_of_zone(o.tz));
    // --by is checked by the parser; this only turns the name into the enum.
    const ledger::GroupBy by = ledger::group_by_from_name(o.by).value_or(ledger::GroupBy::day);
    note_missing(console, o.folder);
    TRY_ASSIGN(const ledger::SumResult result, ledger::sum(access.location, filter, by, day_of));
    warn_skipped(console, result.issues);

    if (o.json) {
        std::string text =
            "{\"by\":\"" + std::string(ledger::group_by_name(by)) + "\",\"groups\":[";
        for (std::size_t i = 0; i < result.groups.size(); ++i) {
            ledger::JsonLineWriter w;
            w.add_string("key", result.groups[i].key);
            text += (i > 0 ? "," : "") + totals_json(w, result.groups[i].totals);
        }
        ledger::JsonLineWriter total;
        text += "],\"total\":" + totals_json(total, result.total) +
                ",\"skippedLines\":" + std::to_string(result.issues.size()) + "}\n";
        print(text);
        return ExitCode::ok;
    }
    std::vector<Column> columns{{std::string(ledger::group_by_name(by)), Align::left},
                                {"entries", Align::right},
                                {"images", Align::right},
                                {"cost", Align::right},
                                {"estimated", Align::right}};
    // Open reservations (pending batches) are not in cost: their own column, when there are.
    const bool with_reserved = result.total.reserved > 0;
    if (with_reserved) {
        columns.push_back({"reserved (pending)", Align::right});
    }
    Table t(columns);
    for (const auto& g : result.groups) {
        t.add_row(totals_cells(g.key.empty() ? "(none)" : g.key, g.totals, with_reserved));
    }
    t.add_rule();
    t.add_row(totals_cells("TOTAL", result.total, with_reserved));
    print(t.render_aligned());
    return ExitCode::ok;
}

}  // namespace assetgen::cli::ledger_cmd
