#pragma once
// Turns raw records into Rows and collects every problem in the batch, with place and column,
// so that a user fixes the sheet in one pass. Nothing runs while any problem remains.

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch/row.hpp"
#include "util/status.hpp"

namespace assetgen::batch {

struct ValidationOptions {
    int max_variants = 3;
    RefMode default_ref_mode = RefMode::style_only;
};

// One problem: `<where>: <column>: <what> "<value>"`, e.g.
// `batch.csv:17: variants: "4" is above the maximum 3`.
struct Problem {
    std::string where;
    std::string column;  // may be empty for record-level problems
    std::string message;
    std::string text() const;
};

// Sanitises a scene id for file names: keeps [A-Za-z0-9._-], replaces others with '_';
// never returns "", ".", ".." or a name starting with '.'.
std::string sanitise_id(const std::string& scene_id);

// Stateful: checks each row on its own and across rows (duplicate scene_id, two ids that
// sanitise alike). Memory grows with the number of distinct ids only.
class Validator {
public:
    explicit Validator(ValidationOptions options);
    // Checks the header before any row (missing scene_id/prompt columns are problems).
    void check_columns(const std::vector<std::string>& columns, const std::string& where);
    // Validates one record; returns the Row when it has no problem of its own.
    std::optional<Row> check(const RawRow& raw);
    // Records a problem found elsewhere (e.g. a reader's syntax error, an empty file).
    void add(Problem p);
    const std::vector<Problem>& problems() const { return m_problems; }
    std::size_t rows_seen() const { return m_rows; }

private:
    ValidationOptions m_options;
    std::vector<Problem> m_problems;
    std::unordered_map<std::string, std::string> m_ids;       // scene_id → where
    std::unordered_map<std::string, std::string> m_safe_ids;  // sanitised → scene_id
    std::size_t m_rows = 0;
};

}  // namespace assetgen::batch
