// JSONL batches: one row object a line.
//
// How this works: lines are read through the chunked, UTF-8-checking reader (capped at
// k_max_record_bytes) and each is parsed by RowSax (json_row.hpp). Lines are independent, so a
// line that is not JSON, or not an object, is that row's problem and reading goes on.

#include <optional>

#include <nlohmann/json.hpp>

#include "batch/json_row.hpp"
#include "batch/reader_internal.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::batch::detail {
namespace {

using nlohmann::json;

class JsonlSource final : public StickySource {
public:
    JsonlSource(InputFd in, std::string display_name)
        : m_in(std::move(in)), m_name(std::move(display_name)) {}

    const std::vector<std::string>& columns() const override { return m_order.names(); }
    const std::vector<std::string>& global_refs() const override { return m_no_refs; }

private:
    util::Status fail(std::size_t line, const std::string& what) const {
        return util::error(util::Code::invalid_input,
                           m_name + ":" + std::to_string(line) + ": " + what);
    }

    util::Result<std::optional<RawRow>> read_next() override {
        if (!m_started) {
            m_started = true;
            if (auto what = sniff(m_in, Format::jsonl); !what.empty()) {
                return fail(1, what);
            }
        }
        std::string line;
        for (;;) {
            TRY_ASSIGN(bool got, read_line(line));
            if (!got) {
                if (m_lines_with_text == 0) {
                    return util::error(util::Code::invalid_input, m_name + ": file is empty");
                }
                return std::optional<RawRow>();
            }
            if (util::trim(line).empty()) {
                continue;
            }
            ++m_lines_with_text;
            RowSax sax;
            json::sax_parse(line, &sax);
            RawRow row;
            row.where = m_name + ":" + std::to_string(m_line);
            if (sax.failed) {
                row.problem = "invalid JSON at column " + std::to_string(sax.error_byte) + ": " +
                              sax.error_text;
            } else if (sax.kind != RowSax::Kind::object) {
                row.problem = std::string(
                                  "expected a row object {\"scene_id\": ..., ...} on each "
                                  "line, found ") +
                              sax.kind_name();
            } else {
                row.problem = std::move(sax.problem);
                row.cells = std::move(sax.cells);
                m_order.arrange(row.cells);
                if (row.problem.empty() && all_empty(row.cells)) {
                    continue;
                }
            }
            row.number = ++m_rows;
            return std::optional<RawRow>(std::move(row));
        }
    }

    // Reads the next line (without its line break) and sets m_line to its number.
    util::Result<bool> read_line(std::string& line) {
        line.clear();
        m_line = ++m_lines;
        for (;;) {
            const int c = m_in.get();
            if (c == ByteReader::k_bad) {
                return fail(m_line, not_text_message(m_in, Format::jsonl));
            }
            if (c == ByteReader::k_eof) {
                if (m_in.io_failed()) {
                    return util::error(util::Code::storage_io, m_name + ": read failed");
                }
                return !line.empty();
            }
            if (c == '\n') {
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                return true;
            }
            if (line.size() >= k_max_record_bytes) {
                return fail(m_line, "the line is over 1 MiB");
            }
            line += static_cast<char>(c);
        }
    }

    ByteReader m_in;
    std::string m_name;
    ColumnOrder m_order;
    std::vector<std::string> m_no_refs;
    std::size_t m_lines = 0;  // lines read so far
    std::size_t m_line = 0;   // the number of the current line
    std::size_t m_lines_with_text = 0;
    std::size_t m_rows = 0;
    bool m_started = false;
};

}  // namespace

std::unique_ptr<RowSource> make_jsonl_source(InputFd in, const std::string& display_name) {
    return std::make_unique<JsonlSource>(std::move(in), display_name);
}

}  // namespace assetgen::batch::detail
