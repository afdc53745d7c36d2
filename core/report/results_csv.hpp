#pragma once
// The results file (--results): the input rows plus status, image URIs (or signed URLs), cost
// and error, as CSV for the sheet to import. Cells a spreadsheet would read as a formula
// (starting with = + - @, tab or CR) are escaped with a leading apostrophe.

#include <ostream>
#include <string>
#include <vector>

namespace assetgen::report {

// One CSV line (RFC 4180 quoting where needed), ending in "\n".
std::string csv_line(const std::vector<std::string>& cells);
// Escapes a cell that a spreadsheet would evaluate as a formula by prefixing "'"; a plain
// negative number such as "-5" or "-0.5" is data, not a formula, and is returned unchanged.
std::string escape_formula(const std::string& cell);

struct ResultRow {
    std::vector<std::string> input;   // the input row's cells, in `input_columns` order
    std::string status;               // "ok", "failed", "blocked", "budget_exceeded", "skipped"...
    std::vector<std::string> images;  // URIs or signed URLs
    std::string cost_usd;             // "0.078000"
    std::string error_code;
    std::string error;  // message
};

// Streams results: the header (input columns, then status, images, cost_usd, error_code,
// error) is written by the constructor, then rows as they are given. Images are joined with a
// single space (URIs and signed URLs never contain one). An input column named like one of
// ours (a re-imported results sheet) is left out: the fresh value replaces the stale one.
// Every cell, header included, goes through escape_formula; the error message also through
// util::redact (image cells are left alone: a signed URL needs its signature).
class ResultsCsvWriter {
public:
    ResultsCsvWriter(std::ostream& out, std::vector<std::string> input_columns);
    // Writes one row; missing input cells are written empty, extra ones dropped.
    void write(const ResultRow& row);

private:
    std::ostream& m_out;
    std::vector<std::size_t> m_kept;  // indices of the input columns that are written
};

}  // namespace assetgen::report
