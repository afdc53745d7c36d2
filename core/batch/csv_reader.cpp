// CSV (RFC 4180) as Google Sheets, Excel and LibreOffice export it.
//
// How this works: a byte-at-a-time state machine over a 64 KiB chunked reader, so memory is
// one record at most (capped at k_max_record_bytes). The reader counts physical lines as it
// goes: a record's place is the line it starts on, and an unclosed quote is reported at the
// line where it opened. It is lenient where exports differ and strict where data would be
// lost: a '"' inside an unquoted cell is kept as a character; text after a closing quote, or
// more non-empty cells than the header, make that record's problem (reading goes on); an
// unclosed quote, a NUL byte or broken UTF-8 stop the reading. CRLF inside a quoted cell
// becomes LF. A lone CR ends a line too (old Mac exports).

#include <optional>

#include "batch/reader_internal.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::batch::detail {
namespace {

class CsvSource final : public StickySource {
public:
    CsvSource(InputFd in, std::string display_name)
        : m_in(std::move(in)), m_name(std::move(display_name)) {}

    const std::vector<std::string>& columns() const override { return m_columns; }
    std::string header_where() const override { return m_header_where; }
    const std::vector<std::string>& global_refs() const override { return m_no_refs; }

private:
    struct Record {
        std::vector<std::string> cells;
        std::size_t line = 0;
        std::string problem;
    };

    util::Status fail(std::size_t line, const std::string& what) const {
        return util::error(util::Code::invalid_input,
                           m_name + ":" + std::to_string(line) + ": " + what);
    }

    util::Result<std::optional<RawRow>> read_next() override {
        if (!m_started) {
            m_started = true;
            if (auto what = sniff(m_in, Format::csv); !what.empty()) {
                return fail(1, what);
            }
            TRY(read_header());
        }
        Record rec;
        for (;;) {
            TRY_ASSIGN(bool got, read_record(rec));
            if (!got) {
                return std::optional<RawRow>();
            }
            if (is_blank(rec.cells)) {
                continue;
            }
            break;
        }
        RawRow row;
        row.number = ++m_rows;
        row.where = m_name + ":" + std::to_string(rec.line);
        row.problem = std::move(rec.problem);
        std::size_t extra = 0;
        for (std::size_t i = m_columns.size(); i < rec.cells.size(); ++i) {
            if (!rec.cells[i].empty()) {
                extra = i + 1;
            }
        }
        if (extra > 0 && row.problem.empty()) {
            row.problem = "the record has " + std::to_string(extra) + " cells but the header has " +
                          std::to_string(m_columns.size()) +
                          " (quote cells that contain commas: \"a, b\")";
        }
        row.cells.reserve(m_columns.size());
        for (std::size_t i = 0; i < m_columns.size(); ++i) {
            row.cells.emplace_back(m_columns[i],
                                   i < rec.cells.size() ? std::move(rec.cells[i]) : "");
        }
        return std::optional<RawRow>(std::move(row));
    }

    util::Status read_header() {
        Record rec;
        for (;;) {
            auto got = read_record(rec);
            if (!got.ok()) {
                return got.status();
            }
            if (!*got) {
                return util::error(util::Code::invalid_input, m_name + ": file is empty");
            }
            if (!is_blank(rec.cells)) {
                break;
            }
        }
        for (std::size_t i = 0; i < rec.cells.size(); ++i) {
            std::string name = normalise_column(rec.cells[i]);
            if (name.empty()) {
                name = unnamed_column(i);
            }
            m_columns.push_back(std::move(name));
        }
        // Trailing unnamed columns are what a sheet with empty columns exports; drop them so
        // they do not show up as extra columns (their cells are ignored when empty).
        while (!m_columns.empty() && normalise_column(rec.cells[m_columns.size() - 1]).empty()) {
            m_columns.pop_back();
        }
        m_header_where = m_name + ":" + std::to_string(rec.line);
        return util::ok_status();
    }

    // Empty lines, ",,," lines and lines of spaces are not records.
    static bool is_blank(const std::vector<std::string>& cells) {
        for (const auto& c : cells) {
            if (!util::trim(c).empty()) {
                return false;
            }
        }
        return true;
    }

    // Reads one record into rec; false at the end of the file.
    util::Result<bool> read_record(Record& rec) {
        enum class State { cell_start, unquoted, quoted, quote_in_quoted };
        rec.cells.clear();
        rec.problem.clear();
        rec.line = m_line;
        State state = State::cell_start;
        std::string cell;
        std::size_t bytes = 0;
        std::size_t quote_line = 0;
        bool started = false;

        for (;;) {
            const int c = m_in.get();
            if (c == ByteReader::k_bad) {
                return fail(m_line, not_text_message(m_in, Format::csv));
            }
            if (c == ByteReader::k_eof) {
                if (m_in.io_failed()) {
                    return util::error(util::Code::storage_io, m_name + ": read failed");
                }
                if (state == State::quoted) {
                    return fail(quote_line,
                                "unterminated quoted field (the quote opened on this "
                                "line is never closed)");
                }
                if (!started) {
                    return false;
                }
                rec.cells.push_back(std::move(cell));
                return true;
            }
            started = true;
            if (++bytes > k_max_record_bytes) {
                if (state == State::quoted) {
                    return over_limit_in_quotes(rec, quote_line);
                }
                return fail(rec.line, "the record is over 1 MiB, the limit of one row");
            }
            const char ch = static_cast<char>(c);
            const bool line_end = ch == '\n' || ch == '\r';
            switch (state) {
                case State::quoted:
                    if (ch == '"') {
                        state = State::quote_in_quoted;
                    } else if (line_end) {
                        end_line(ch);
                        cell += '\n';
                    } else {
                        cell += ch;
                    }
                    continue;
                case State::quote_in_quoted:
                    if (ch == '"') {
                        cell += '"';
                        state = State::quoted;
                        continue;
                    }
                    if (ch != ',' && !line_end) {
                        if (rec.problem.empty()) {
                            rec.problem = "text after the closing quote of cell " +
                                          std::to_string(rec.cells.size() + 1) +
                                          " (write \"\" for a quote inside a quoted cell)";
                        }
                        cell += ch;
                        state = State::unquoted;
                        continue;
                    }
                    break;
                case State::cell_start:
                    if (ch == '"') {
                        state = State::quoted;
                        quote_line = m_line;
                        continue;
                    }
                    break;
                case State::unquoted:
                    break;
            }
            // Here ch is outside quotes.
            if (ch == ',') {
                rec.cells.push_back(std::move(cell));
                cell.clear();
                state = State::cell_start;
            } else if (line_end) {
                end_line(ch);
                rec.cells.push_back(std::move(cell));
                return true;
            } else {
                cell += ch;
                state = State::unquoted;
            }
        }
    }

    // A quoted cell ran past the record limit: reads on (keeping nothing) to tell a cell that is
    // merely too long from a quote that is never closed, and says which it is.
    util::Status over_limit_in_quotes(const Record& rec, std::size_t quote_line) {
        const std::size_t cell = rec.cells.size() + 1;
        for (;;) {
            const int c = m_in.get();
            if (c == ByteReader::k_bad) {
                return fail(m_line, not_text_message(m_in, Format::csv));
            }
            if (c == ByteReader::k_eof) {
                if (m_in.io_failed()) {
                    return util::error(util::Code::storage_io, m_name + ": read failed");
                }
                return fail(
                    quote_line,
                    "unterminated quoted field (the quote opened on this line is never closed)");
            }
            if (c == '\n' || (c == '\r' && m_in.peek() != '\n')) {
                ++m_line;
            }
            if (c == '"') {
                if (m_in.peek() == '"') {
                    m_in.get();
                    continue;
                }
                return fail(rec.line,
                            "cell " + std::to_string(cell) +
                                " is over 1 MiB, the limit of one row (its quote opened on line " +
                                std::to_string(quote_line) +
                                " and is closed properly); shorten the cell, e.g. keep long text "
                                "in a file and put its path in the sheet");
            }
        }
    }

    // Counts a line break, taking the '\n' of a CRLF with it.
    void end_line(char ch) {
        if (ch == '\r' && m_in.peek() == '\n') {
            m_in.get();
        }
        ++m_line;
    }

    ByteReader m_in;
    std::string m_name;
    std::vector<std::string> m_columns;
    std::vector<std::string> m_no_refs;
    std::string m_header_where;
    std::size_t m_line = 1;
    std::size_t m_rows = 0;
    bool m_started = false;
};

}  // namespace

std::unique_ptr<RowSource> make_csv_source(InputFd in, const std::string& display_name) {
    return std::make_unique<CsvSource>(std::move(in), display_name);
}

}  // namespace assetgen::batch::detail
