#pragma once
// A batch row as the rest of assetgen sees it, after header normalisation and validation.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace assetgen::batch {

enum class Format { csv, json, jsonl };

// One record as read from the file, before validation: cells keyed by normalised header name
// (trimmed, lower-case, spaces to '_'), in header order.
struct RawRow {
    std::size_t number = 0;  // 1-based data row number (the header is not counted)
    std::string where;  // "batch.csv:17" (line where the record starts) or "batch.json: row 17"
    std::vector<std::pair<std::string, std::string>> cells;
    // Set by the reader when the record is malformed on its own (more cells than the header, a
    // JSONL line that is not JSON); Validator::check reports it as the record's only problem.
    std::string problem;
};

enum class RefMode { style_only, style_and_composition };

struct Row {
    std::size_t number = 0;  // as in RawRow
    std::string where;       // as in RawRow, for messages
    std::string scene_id;    // as typed (trimmed)
    std::string safe_id;     // scene_id sanitised to [A-Za-z0-9._-], used in file names
    std::string prompt;
    int variants = 1;
    std::vector<std::string> refs;  // in the order typed
    RefMode ref_mode = RefMode::style_only;
    std::string aspect_ratio;  // "" = model default
    std::string model;         // "" = the run's model
    // Columns assetgen does not know, in header order, copied to the results file.
    std::vector<std::pair<std::string, std::string>> extra;
};

}  // namespace assetgen::batch
