#pragma once
// Turns raw records into Rows and collects every problem in the batch, with place and column,
// so that a user fixes the sheet in one pass. Nothing runs while any problem remains.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch/id_index.hpp"
#include "batch/reader.hpp"
#include "batch/row.hpp"
#include "util/status.hpp"

namespace assetgen::batch {

struct ValidationOptions {
    int max_variants = 3;
    RefMode default_ref_mode = RefMode::style_only;
    // Off for a second pass over rows already checked (the run's), which then keeps no ids.
    bool check_duplicate_ids = true;
    // Local refs: when confine_local_refs, a local ref (relative ones start in ref_base_dir)
    // must lie, after following every symbolic link, in ref_base_dir (the batch file's folder)
    // or one of local_ref_dirs (--allow-local-refs); others are problems of their row.
    bool confine_local_refs = false;
    std::string ref_base_dir;
    std::vector<std::string> local_ref_dirs;
};

// The scheme of a ref as written ("https", "gs", ...), "" for a local path.
std::string ref_scheme(const std::string& ref);

// The folder a batch's relative local refs start in: the batch file's, or the working folder
// for stdin ("-") and gs:// batches.
std::string ref_base_dir(const std::string& input_location);

// "" when ref is not a local path or lies where options allow local refs, else the message
// (batch/local_refs.cpp)
// ("\"../x.png\" is outside the batch's folder ...; move it there, or --allow-local-refs").
std::string local_ref_problem(const std::string& ref, const ValidationOptions& options);

// One problem: `<where>: <column>: <what> "<value>"`, e.g.
// `batch.csv:17: variants: "4" is above the maximum 3`.
struct Problem {
    std::string where;
    std::string column;  // may be empty for record-level problems
    std::string message;
    // The parts joined with ": ", empty parts left out; a message that already starts with
    // `<where>:` (a reader's error added as {display_name, "", status.message()}) is not
    // prefixed a second time.
    std::string text() const;
};

// Sanitises a scene id for file names: keeps [A-Za-z0-9._-], replaces others with '_';
// never returns "", ".", ".." or a name starting with '.'.
std::string sanitise_id(const std::string& scene_id);
// True for the names of a job folder's own records (manifest.jsonl, state.json, summary.json,
// state-<time>.json, shards, .lock; any case): images go to <job>/<safe_id>/, so a row so named
// could never be stored. The validator refuses such scene_ids.
bool is_job_record_name(const std::string& safe_id);

// Stateful: checks each row on its own and across rows (duplicate scene_id, two ids that
// sanitise alike). Memory grows with the number of distinct ids only, ~30 bytes each.
class Validator {
public:
    explicit Validator(ValidationOptions options);
    // Checks the header before any row (missing scene_id/prompt columns and a column named
    // twice are problems); later rows are then not blamed one by one for the missing column.
    void check_columns(const std::vector<std::string>& columns, const std::string& where);
    // Validates one record; returns the Row when it has no problem of its own.
    std::optional<Row> check(const RawRow& raw);
    // Records a problem found elsewhere (e.g. a reader's syntax error, an empty file).
    void add(Problem p);
    const std::vector<Problem>& problems() const { return m_problems; }
    std::size_t rows_seen() const { return m_rows; }

private:
    // Checks row.scene_id (set from the record) on its own and against earlier rows; sets
    // row.safe_id.
    void check_id(const RawRow& raw, Row& row, bool has_id);

    ValidationOptions m_options;
    std::vector<Problem> m_problems;
    // Sanitised scene_id → its first row. Equal ids sanitise alike, so one index finds both
    // repeats and different ids that would share files.
    IdIndex m_ids;
    std::size_t m_rows = 0;
    std::set<std::string> m_missing_columns;  // required columns check_columns found missing
};

// Streams every record of source through validator, which ends up holding every problem of
// the batch: the header is checked first when the format has one (source.header_where()), a
// reader error becomes a problem (reading stops there), and a batch without rows is the
// problem `<display_name>: no rows`. on_row, when given, receives each Row that has no problem
// of its own (in order). Returns the number of records read. Memory stays flat in the rows.
std::size_t validate_all(RowSource& source, Validator& validator, const std::string& display_name,
                         const std::function<void(Row&&)>& on_row = {});

}  // namespace assetgen::batch
