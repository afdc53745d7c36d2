// JSON batches: an array of row objects, {"rows": [...], "global_refs": [...]}, or
// getValues()'s array of arrays under a header row.
//
// How this works: the file is never held whole, nor as a DOM. A small hand-written scanner
// walks the top level (`[ ... ]` or `{"rows": [ ... ], "global_refs": [...]}`) over a chunked
// reader and copies one element of the rows array at a time (capped at k_max_record_bytes)
// into a buffer; nlohmann::json::sax_parse then turns that element straight into cells through
// RowSax (json_row.hpp), without building a json value. The scanner only finds where elements
// begin and end (strings, escapes, bracket depth); nlohmann does the real syntax check, and
// its byte offsets are shifted by the element's start so that messages name the byte in the
// file.

#include <optional>

#include <nlohmann/json.hpp>

#include "batch/json_row.hpp"
#include "batch/reader_internal.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::batch::detail {
namespace {

using nlohmann::json;

class JsonSource final : public StickySource {
public:
    JsonSource(InputFd in, std::string display_name)
        : m_in(std::move(in)), m_name(std::move(display_name)) {}

    const std::vector<std::string>& columns() const override {
        return m_shape == Shape::arrays ? m_header : m_order.names();
    }
    std::string header_where() const override {
        return m_shape == Shape::arrays ? m_name + ": row 1" : std::string();
    }
    const std::vector<std::string>& global_refs() const override { return m_global_refs; }

private:
    enum class Stage { start, rows, tail, done };
    enum class Shape { unknown, objects, arrays };

    util::Status fail(const std::string& what) const {
        return util::error(util::Code::invalid_input, m_name + ": " + what);
    }
    util::Status syntax(std::uint64_t byte, const std::string& what) const {
        return fail("invalid JSON at byte " + std::to_string(byte) + ": " + what);
    }
    util::Status not_text() const { return fail(not_text_message(m_in, Format::json)); }

    util::Result<std::optional<RawRow>> read_next() override {
        if (m_stage == Stage::start) {
            if (auto what = sniff(m_in, Format::json); !what.empty()) {
                return fail(what);
            }
            TRY(open_top());
        }
        while (m_stage == Stage::rows) {
            TRY_ASSIGN(bool more, next_element());
            if (!more) {
                m_stage = Stage::tail;
                break;
            }
            ++m_index;
            RowSax sax;
            json::sax_parse(m_buf, &sax);
            if (sax.failed) {
                return syntax(m_elem_start + sax.error_byte, sax.error_text);
            }
            if (m_shape == Shape::unknown) {
                if (sax.kind == RowSax::Kind::scalar) {
                    return fail("row 1 is " + sax.scalar_name +
                                "; expected a row object {\"scene_id\": ..., \"prompt\": ...} or "
                                "an array of cells under a header row");
                }
                m_shape = sax.kind == RowSax::Kind::object ? Shape::objects : Shape::arrays;
            }
            if (m_shape == Shape::arrays && m_index == 1) {
                TRY(take_header(sax));
                continue;
            }
            auto row = make_row(sax);
            if (row) {
                return row;
            }
        }
        if (m_stage == Stage::tail) {
            TRY(finish_top());
            m_stage = Stage::done;
        }
        return std::optional<RawRow>();
    }

    util::Status take_header(RowSax& sax) {
        if (sax.kind != RowSax::Kind::array || !sax.problem.empty()) {
            return fail("row 1: the header row must be an array of column names");
        }
        for (std::size_t i = 0; i < sax.cells.size(); ++i) {
            std::string name = normalise_column(sax.cells[i].second);
            m_header.push_back(name.empty() ? unnamed_column(i) : name);
        }
        while (!m_header.empty() &&
               normalise_column(sax.cells[m_header.size() - 1].second).empty()) {
            m_header.pop_back();
        }
        return util::ok_status();
    }

    // The row for one parsed element; std::nullopt for a blank row.
    std::optional<RawRow> make_row(RowSax& sax) {
        RawRow row;
        row.where = m_name + ": row " + std::to_string(m_index);
        row.problem = std::move(sax.problem);
        if (m_shape == Shape::objects) {
            if (sax.kind != RowSax::Kind::object) {
                row.problem =
                    std::string("expected a row object {\"scene_id\": ..., ...}, found ") +
                    sax.kind_name();
            } else {
                row.cells = std::move(sax.cells);
                m_order.arrange(row.cells);
            }
        } else if (sax.kind != RowSax::Kind::array) {
            row.problem = std::string("expected an array of cells like the header row, found ") +
                          sax.kind_name();
        } else {
            for (std::size_t i = 0; i < m_header.size(); ++i) {
                row.cells.emplace_back(m_header[i],
                                       i < sax.cells.size() ? std::move(sax.cells[i].second) : "");
            }
            std::size_t extra = 0;
            for (std::size_t i = m_header.size(); i < sax.cells.size(); ++i) {
                if (!sax.cells[i].second.empty()) {
                    extra = i + 1;
                }
            }
            if (extra > 0 && row.problem.empty()) {
                row.problem = "the row has " + std::to_string(extra) +
                              " cells but the header has " + std::to_string(m_header.size());
            }
        }
        if (row.problem.empty() && all_empty(row.cells)) {
            return std::nullopt;
        }
        row.number = ++m_rows;
        return row;
    }

    // --- the top-level scanner ---------------------------------------------------------------

    void skip_ws() {
        for (;;) {
            const int c = m_in.peek();
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            m_in.get();
        }
    }

    static std::string shown(int c) {
        if (c == ByteReader::k_eof) {
            return "the end of the file";
        }
        if (c >= 0x20 && c < 0x7F) {
            return std::string("'") + static_cast<char>(c) + "'";
        }
        return "a control character";
    }

    util::Status open_top() {
        skip_ws();
        const int c = m_in.get();
        if (c == ByteReader::k_bad) {
            return not_text();
        }
        if (c == ByteReader::k_eof) {
            return fail("file is empty");
        }
        if (c == '[') {
            m_stage = Stage::rows;
            return util::ok_status();
        }
        if (c == '{') {
            m_top_object = true;
            return scan_members();
        }
        std::string found;
        if (c == '"') {
            found = "a string";
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            found = "a number";
        } else if (c == 't' || c == 'f') {
            found = "a boolean";
        } else if (c == 'n') {
            found = "null";
        } else {
            return syntax(m_in.offset(), "expected '[' or '{', found " + shown(c) +
                                             " (is this a CSV file? pass --format csv)");
        }
        return fail("expected an array of rows or an object with \"rows\": [...], found " + found);
    }

    // Reads members of the top-level object until "rows" opens (stage rows) or the object
    // ends (stage done, an error if there was no "rows").
    util::Status scan_members() {
        for (;;) {
            skip_ws();
            int c = m_in.get();
            if (m_members > 0 && c == ',') {
                skip_ws();
                c = m_in.get();
            } else if (c == '}') {
                if (!m_seen_rows) {
                    return fail(
                        "the JSON object has no \"rows\" (expected {\"rows\": [...]} or an "
                        "array of row objects)");
                }
                return util::ok_status();
            } else if (m_members > 0) {
                return c == ByteReader::k_bad
                           ? not_text()
                           : syntax(m_in.offset(), "expected ',' or '}', found " + shown(c));
            }
            if (c == ByteReader::k_bad) {
                return not_text();
            }
            if (c != '"') {
                return syntax(m_in.offset(), "expected a member name in quotes, found " + shown(c));
            }
            ++m_members;
            m_buf.assign(1, '"');
            TRY(scan_string(&m_buf, m_in.offset()));
            auto parsed = json::parse(m_buf, nullptr, false);
            const std::string key =
                parsed.is_string() ? normalise_column(parsed.get<std::string>()) : "";
            skip_ws();
            c = m_in.get();
            if (c != ':') {
                return c == ByteReader::k_bad
                           ? not_text()
                           : syntax(m_in.offset(), "expected ':', found " + shown(c));
            }
            skip_ws();
            if (key == "rows") {
                if (m_seen_rows) {
                    return fail("\"rows\" appears twice in the JSON object");
                }
                m_seen_rows = true;
                c = m_in.get();
                if (c != '[') {
                    return fail("\"rows\" must be an array of row objects, found " + shown(c));
                }
                m_stage = Stage::rows;
                return util::ok_status();
            }
            if (key == "global_refs") {
                TRY(read_global_refs());
            } else {
                TRY(scan_value(nullptr));
            }
        }
    }

    util::Status read_global_refs() {
        m_elem_start = m_in.offset();
        m_buf.clear();
        TRY(scan_value(&m_buf));
        auto v = json::parse(m_buf, nullptr, false);
        if (v.is_discarded()) {
            // Let the SAX parser name the broken byte.
            RowSax sax;
            json::sax_parse(m_buf, &sax);
            return syntax(m_elem_start + sax.error_byte, sax.error_text);
        }
        if (v.is_string()) {
            v = json::array({v});
        }
        if (!v.is_array()) {
            return fail("\"global_refs\" must be a list of reference URLs");
        }
        for (const auto& item : v) {
            if (!item.is_string()) {
                return fail("\"global_refs\" must be a list of reference URLs, found " +
                            std::string(item.type_name()) + " in it");
            }
            for (auto& url : util::split_any(item.get<std::string>(), " \t\r\n,;")) {
                m_global_refs.push_back(std::move(url));
            }
        }
        return util::ok_status();
    }

    // Finds the next element of the rows array and copies it into m_buf; false after ']'.
    util::Result<bool> next_element() {
        skip_ws();
        if (m_index == 0 && m_in.peek() == ']') {
            m_in.get();
            return false;
        }
        if (m_index > 0) {
            const int c = m_in.get();
            if (c == ']') {
                return false;
            }
            if (c == ByteReader::k_bad) {
                return not_text();
            }
            if (c != ',') {
                return syntax(m_in.offset(), "expected ',' or ']' after row " +
                                                 std::to_string(m_index) + ", found " + shown(c));
            }
            skip_ws();
            if (m_in.peek() == ']') {
                return syntax(m_in.offset() + 1, "a ',' after the last row (JSON allows none)");
            }
        }
        m_elem_start = m_in.offset();
        m_buf.clear();
        TRY(scan_value(&m_buf));
        return true;
    }

    // Copies (or, with out == nullptr, skips) one JSON value: a string, a bracketed value with
    // everything inside, or a bare literal, which the SAX parser checks afterwards.
    util::Status scan_value(std::string* out) {
        const std::uint64_t start = m_in.offset() + 1;
        const int first = m_in.get();
        if (first == ByteReader::k_bad) {
            return not_text();
        }
        if (first == ByteReader::k_eof) {
            return syntax(start, "unexpected end of the file (a value is missing)");
        }
        TRY(put(out, static_cast<char>(first)));
        if (first == '"') {
            return scan_string(out, start);
        }
        if (first != '[' && first != '{') {
            for (int c = m_in.peek(); c != ByteReader::k_eof && c != ',' && c != ']' && c != '}' &&
                                      c != ' ' && c != '\t' && c != '\n' && c != '\r';
                 c = m_in.peek()) {
                const int got = m_in.get();
                if (got == ByteReader::k_bad) {
                    return not_text();
                }
                TRY(put(out, static_cast<char>(got)));
            }
            return util::ok_status();
        }
        int depth = 1;
        while (depth > 0) {
            const int c = m_in.get();
            if (c == ByteReader::k_bad) {
                return not_text();
            }
            if (c == ByteReader::k_eof) {
                return syntax(m_in.offset(), std::string("unexpected end of the file: the '") +
                                                 static_cast<char>(first) + "' at byte " +
                                                 std::to_string(start) + " is never closed");
            }
            TRY(put(out, static_cast<char>(c)));
            if (c == '"') {
                TRY(scan_string(out, m_in.offset()));
            } else if (c == '[' || c == '{') {
                ++depth;
            } else if (c == ']' || c == '}') {
                --depth;
            }
        }
        return util::ok_status();
    }

    // The rest of a string whose opening quote (at byte opened) was read already.
    util::Status scan_string(std::string* out, std::uint64_t opened) {
        for (;;) {
            int c = m_in.get();
            if (c == ByteReader::k_bad) {
                return not_text();
            }
            if (c == ByteReader::k_eof) {
                return syntax(m_in.offset(),
                              "unexpected end of the file: the string opened at byte " +
                                  std::to_string(opened) + " is never closed");
            }
            TRY(put(out, static_cast<char>(c)));
            if (c == '"') {
                return util::ok_status();
            }
            if (c == '\\') {
                c = m_in.get();
                if (c == ByteReader::k_bad) {
                    return not_text();
                }
                if (c != ByteReader::k_eof) {
                    TRY(put(out, static_cast<char>(c)));
                }
            }
        }
    }

    util::Status put(std::string* out, char c) {
        if (out == nullptr) {
            return util::ok_status();
        }
        if (out->size() >= k_max_record_bytes) {
            return fail("row " + std::to_string(m_index + 1) + " (at byte " +
                        std::to_string(m_elem_start + 1) +
                        ") is over 1 MiB; is a string or bracket left open?");
        }
        *out += c;
        return util::ok_status();
    }

    // After the rows array: the rest of the top-level object, then nothing but white space.
    util::Status finish_top() {
        if (m_top_object) {
            TRY(scan_members());
        }
        skip_ws();
        const int c = m_in.get();
        if (c == ByteReader::k_bad) {
            return not_text();
        }
        if (c != ByteReader::k_eof) {
            return syntax(m_in.offset(), "text after the end of the JSON value, " + shown(c));
        }
        return util::ok_status();
    }

    ByteReader m_in;
    std::string m_name;
    Stage m_stage = Stage::start;
    Shape m_shape = Shape::unknown;
    bool m_top_object = false;
    bool m_seen_rows = false;
    std::size_t m_members = 0;
    std::string m_buf;               // the element being read
    std::uint64_t m_elem_start = 0;  // its 0-based offset in the file
    std::size_t m_index = 0;         // elements of the rows array read so far
    std::size_t m_rows = 0;          // rows returned so far
    std::vector<std::string> m_header;
    ColumnOrder m_order;
    std::vector<std::string> m_global_refs;
};

}  // namespace

std::unique_ptr<RowSource> make_json_source(InputFd in, const std::string& display_name) {
    return std::make_unique<JsonSource>(std::move(in), display_name);
}

}  // namespace assetgen::batch::detail
