#pragma once
// Pieces shared by the CSV, JSON and JSONL readers (not part of the module's public API): a
// chunked byte reader that checks UTF-8 as it goes, the sniffing of non-text files, and the
// factories open_rows() dispatches to.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "batch/reader.hpp"
#include "util/status.hpp"

namespace assetgen::batch::detail {

// A RowSource that stops for good at its first syntax error: every later next() returns that
// same error, so a caller that keeps asking cannot read past a broken record.
class StickySource : public RowSource {
public:
    util::Result<std::optional<RawRow>> next() final {
        if (!m_failure.ok()) {
            return m_failure;
        }
        auto r = read_next();
        if (!r.ok()) {
            m_failure = r.status();
        }
        return r;
    }

protected:
    // The next record, or the error after which nothing more can be read.
    virtual util::Result<std::optional<RawRow>> read_next() = 0;

private:
    util::Status m_failure;
};

// The largest record (CSV) or row element (JSON) read into memory; anything longer is almost
// surely an unclosed quote or string, and refusing it keeps memory flat whatever the input.
inline constexpr std::size_t k_max_record_bytes = 1 << 20;

// A file descriptor to read a batch from, from its first byte; closed by the reader when owned.
struct InputFd {
    int fd = -1;
    bool owned = false;
};

// Reads a file in 64 KiB chunks, with pread from its own offset when the descriptor can seek (so
// that the plan's pass and the run's pass share one descriptor), else with read. get() returns the
// next byte (0..255), k_eof at the end, or k_bad when the byte is a NUL or breaks UTF-8 (then
// bad_byte() tells which), so that every reader refuses binary data at the place where it starts.
class ByteReader {
public:
    static constexpr int k_eof = -1;
    static constexpr int k_bad = -2;

    explicit ByteReader(InputFd in);
    ~ByteReader();
    ByteReader(const ByteReader&) = delete;
    ByteReader& operator=(const ByteReader&) = delete;

    int get() {
        if (m_pos == m_len && !refill()) {
            if (m_need > 0) {  // the file ends inside a multi-byte sequence
                m_need = 0;
                m_bad_byte = -1;
                return k_bad;
            }
            return k_eof;
        }
        const auto c = static_cast<unsigned char>(m_buf[m_pos++]);
        ++m_offset;
        if (c >= 0x01 && c < 0x80 && m_need == 0) {
            return c;
        }
        return check_utf8(c) ? c : k_bad;
    }
    // The next byte without consuming it (k_eof at the end); not checked.
    int peek() {
        if (m_pos == m_len && !refill()) {
            return k_eof;
        }
        return static_cast<unsigned char>(m_buf[m_pos]);
    }
    // Bytes consumed so far (the 0-based offset of the next byte).
    std::uint64_t offset() const { return m_offset; }
    // The byte get() refused last, or -1 when the file ended inside a multi-byte sequence.
    int bad_byte() const { return m_bad_byte; }
    // True when reading failed for a reason other than the end of the file.
    bool io_failed() const { return m_failed; }
    // The first bytes of the file, for sniffing; valid before the first get().
    std::string_view head();
    void skip(std::size_t n);

private:
    bool refill();
    bool check_utf8(unsigned char c);

    InputFd m_in;
    bool m_seekable = true;  // pread works (a regular file); else read from the current offset
    bool m_failed = false;
    std::vector<char> m_buf;
    std::size_t m_pos = 0;
    std::size_t m_len = 0;
    std::uint64_t m_offset = 0;
    int m_need = 0;             // continuation bytes still expected
    unsigned char m_lo = 0x80;  // allowed range of the next continuation byte
    unsigned char m_hi = 0xBF;
    unsigned char m_lead = 0;  // the first byte of the sequence being checked
    int m_bad_byte = 0;
};

// Looks at the first bytes: skips a UTF-8 BOM and returns "" when the file may be text, or a
// message (without place) naming what the file is instead (UTF-16, a ZIP/xlsx, an old .xls).
std::string sniff(ByteReader& in, Format format);

// The message for a byte that ByteReader refused, without place.
std::string not_text_message(const ByteReader& in, Format format);

// True when every cell is empty (blank lines, ",,," rows and {} are skipped).
bool all_empty(const std::vector<std::pair<std::string, std::string>>& cells);

// Name for header cell index i (0-based) that is empty after normalising: "column_<i+1>".
std::string unnamed_column(std::size_t i);

std::unique_ptr<RowSource> make_csv_source(InputFd in, const std::string& display_name);
std::unique_ptr<RowSource> make_json_source(InputFd in, const std::string& display_name);
std::unique_ptr<RowSource> make_jsonl_source(InputFd in, const std::string& display_name);

}  // namespace assetgen::batch::detail
