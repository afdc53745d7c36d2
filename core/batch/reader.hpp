#pragma once
// Streaming readers for batch files: CSV (RFC 4180), JSON (an array of row objects,
// {"rows": [...], "global_refs": [...]}, or getValues()'s array of arrays with a header row)
// and JSONL (one row object a line). Rows are produced one at a time so that memory stays flat
// in the number of rows; JSON is read with a SAX parser for the same reason.
//
// Empty input: a file with no bytes (or only a BOM and white space) makes the first next()
// fail with INVALID_INPUT `<name>: file is empty`. A file with a header but no records (or
// `[]`, `{"rows": []}`) is not a reader error: next() returns std::nullopt at once and the
// caller reports "no rows" (validate_all() in validate.hpp does). Blank records (empty lines,
// `,,,` lines, rows whose cells are all empty) are skipped. A record the reader could read but
// that is malformed on its own (more non-empty cells than the header, a JSONL line that is not
// JSON, a JSON row that is not an object) comes back with RawRow::problem set, and reading
// goes on, so that every such record is reported in one pass.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/row.hpp"
#include "util/status.hpp"

namespace assetgen::batch {

class RowSource {
public:
    virtual ~RowSource() = default;
    // The next record; std::nullopt at the end. A syntax error after which nothing more can be
    // read (unterminated quote, broken JSON, binary data) is INVALID_INPUT with a message that
    // names the place, e.g. `batch.csv:12: unterminated quoted field (opened here)`.
    virtual util::Result<std::optional<RawRow>> next() = 0;
    // Normalised column names in order (for JSON shapes: in order of first appearance so far).
    virtual const std::vector<std::string>& columns() const = 0;
    // Where the header row is ("batch.csv:1", "batch.json: row 1") once next() has been called
    // once; "" for shapes without a header row (JSON row objects, JSONL), whose columns are only
    // known row by row, so that a column missing from one row is that row's problem.
    virtual std::string header_where() const { return {}; }
    // Global reference URLs given inside the file ({"global_refs": [...]}); complete only after
    // next() has returned std::nullopt.
    virtual const std::vector<std::string>& global_refs() const = 0;
};

// Picks the format from the file extension (.csv, .json, .jsonl/.ndjson); INVALID_INPUT when
// it cannot tell (name the --format flag in the message).
util::Result<Format> format_from_path(const std::string& path);
util::Result<Format> parse_format(const std::string& name);  // "csv" | "json" | "jsonl"

// Opens a local file for streaming. display_name is what messages call the file. NOT_FOUND
// if missing, PERMISSION_DENIED ("permission denied") if unreadable, INVALID_INPUT for a folder.
util::Result<std::unique_ptr<RowSource>> open_rows(const std::string& path, Format format,
                                                   const std::string& display_name);

// Streams an open descriptor from its first byte (pread, so several sources may share one
// seekable descriptor, one after the other or at once); closes it at the end when owned.
util::Result<std::unique_ptr<RowSource>> open_rows(int fd, Format format,
                                                   const std::string& display_name, bool owned);

// The error for a failed open() of a batch file: NOT_FOUND "no such file", PERMISSION_DENIED
// "permission denied", else STORAGE_IO with the system's reason.
util::Status open_error(int error_number, const std::string& display_name);

// Header normalisation: trimmed, lower-case, inner spaces to '_' ("Scene ID" → "scene_id").
std::string normalise_column(const std::string& name);

}  // namespace assetgen::batch
