#pragma once
// Helpers for the batch tests: read a whole (small) batch file into memory.

#include <optional>
#include <string>
#include <vector>

#include "batch/reader.hpp"

namespace assetgen::test {

struct ReadAll {
    std::vector<batch::RawRow> rows;
    std::string error;  // the reader's error message, "" when it read to the end
    std::vector<std::string> columns;
    std::vector<std::string> global_refs;
    std::string header_where;
};

inline ReadAll read_all(const std::string& path, batch::Format format,
                        const std::string& display_name) {
    ReadAll out;
    auto source = batch::open_rows(path, format, display_name);
    if (!source.ok()) {
        out.error = source.status().message();
        return out;
    }
    for (;;) {
        auto r = (*source)->next();
        if (!r.ok()) {
            out.error = r.status().message();
            break;
        }
        if (!r->has_value()) {
            break;
        }
        out.rows.push_back(std::move(**r));
    }
    out.columns = (*source)->columns();
    out.global_refs = (*source)->global_refs();
    out.header_where = (*source)->header_where();
    return out;
}

// The value of a cell, or std::nullopt when the row has no such column.
inline std::optional<std::string> cell(const batch::RawRow& row, const std::string& name) {
    for (const auto& [k, v] : row.cells) {
        if (k == name) {
            return v;
        }
    }
    return std::nullopt;
}

}  // namespace assetgen::test
