#pragma once
// The body of the three batch reader targets (batch_csv, batch_json, batch_jsonl): read every
// record the way `run` does (next() until the end or the first error), and check what a user
// would see: row numbers that count up from 1, a place for every row, cells and messages that
// are valid UTF-8, an error that stays (StickySource), and, for CSV, that the rows written back
// as RFC 4180 read back to the same cells.

#include <string>
#include <utility>
#include <vector>

#include "batch/reader.hpp"
#include "fuzz_support.hpp"

namespace assetgen::fuzz {

using Cells = std::vector<std::pair<std::string, std::string>>;

struct ReadAll {
    std::vector<std::string> columns;
    std::vector<batch::RawRow> rows;
    bool failed = false;
};

inline ReadAll read_all(const std::string& path, batch::Format format) {
    ReadAll out;
    auto source = batch::open_rows(path, format, "fuzz");
    if (!source.ok()) {
        check_dumps(source.status().message());
        return out;
    }
    auto& rows = **source;
    for (std::size_t guard = 0;; ++guard) {
        FUZZ_CHECK(guard < 1'000'000, "the reader never ends");
        auto next = rows.next();
        if (!next.ok()) {
            check_dumps(next.status().message());
            auto again = rows.next();  // sticky: the same error again
            FUZZ_CHECK(!again.ok() && again.status().message() == next.status().message(),
                       next.status().message());
            out.failed = true;
            break;
        }
        if (!next->has_value()) {
            break;
        }
        batch::RawRow& row = **next;
        FUZZ_CHECK(row.number == out.rows.size() + 1, row.where);
        FUZZ_CHECK(!row.where.empty(), "");
        check_dumps(row.where);
        check_dumps(row.problem);
        for (const auto& [k, v] : row.cells) {
            check_dumps(k);
            check_dumps(v);
        }
        out.rows.push_back(std::move(row));
    }
    out.columns = rows.columns();
    for (const auto& c : out.columns) {
        check_dumps(c);
    }
    for (const auto& r : rows.global_refs()) {
        check_dumps(r);
    }
    return out;
}

inline std::string csv_quote(const std::string& cell) {
    std::string out = "\"";
    for (char c : cell) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

inline bool blank(const Cells& cells) {
    for (const auto& [k, v] : cells) {
        if (v.find_first_not_of(" \t\r\n\f\v") != std::string::npos) {
            return false;
        }
    }
    return true;
}

// The well-formed rows written back as CSV read back to the same cells.
inline void check_csv_round_trip(const ReadAll& first) {
    if (first.failed || first.columns.empty()) {
        return;
    }
    // normalise_column drops one BOM at the start of a name (one that slipped into a JSON key),
    // so a name that still holds one (a file starting with several) reads back without it.
    for (const auto& c : first.columns) {
        if (c.find("\xEF\xBB\xBF") != std::string::npos) {
            return;
        }
    }
    std::string csv;
    for (std::size_t i = 0; i < first.columns.size(); ++i) {
        csv += (i ? "," : "") + csv_quote(first.columns[i]);
    }
    csv += "\r\n";
    std::vector<Cells> expected;
    for (const auto& row : first.rows) {
        if (!row.problem.empty() || blank(row.cells)) {
            continue;
        }
        FUZZ_CHECK(row.cells.size() == first.columns.size(), row.where);
        for (std::size_t i = 0; i < row.cells.size(); ++i) {
            csv += (i ? "," : "") + csv_quote(row.cells[i].second);
        }
        csv += "\r\n";
        expected.push_back(row.cells);
    }
    MemFile again(reinterpret_cast<const std::uint8_t*>(csv.data()), csv.size());
    const ReadAll second = read_all(again.path(), batch::Format::csv);
    FUZZ_CHECK(!second.failed, csv);
    FUZZ_CHECK(second.columns == first.columns, csv);
    FUZZ_CHECK(second.rows.size() == expected.size(), csv);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        FUZZ_CHECK(second.rows[i].problem.empty(), second.rows[i].problem);
        FUZZ_CHECK(second.rows[i].cells == expected[i], csv);
    }
}

}  // namespace assetgen::fuzz
