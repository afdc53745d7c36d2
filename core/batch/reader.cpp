#include "batch/reader.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/reader_internal.hpp"
#include "util/text.hpp"

namespace assetgen::batch {

namespace detail {

ByteReader::ByteReader(InputFd in) : m_in(in), m_buf(1 << 16) {}

ByteReader::~ByteReader() {
    if (m_in.owned && m_in.fd >= 0) {
        ::close(m_in.fd);
    }
}

bool ByteReader::refill() {
    if (m_failed || m_in.fd < 0) {
        return false;
    }
    for (;;) {
        ssize_t n = m_seekable
                        ? ::pread(m_in.fd, m_buf.data(), m_buf.size(), static_cast<off_t>(m_offset))
                        : ::read(m_in.fd, m_buf.data(), m_buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && m_seekable && errno == ESPIPE) {  // a pipe given by path: read it once
            m_seekable = false;
            continue;
        }
        if (n < 0) {
            m_failed = true;
            n = 0;
        }
        m_len = static_cast<std::size_t>(n);
        m_pos = 0;
        return m_len > 0;
    }
}

std::string_view ByteReader::head() {
    if (m_pos == m_len) {
        refill();
    }
    return std::string_view(m_buf.data() + m_pos, m_len - m_pos);
}

void ByteReader::skip(std::size_t n) {
    const std::size_t k = std::min(n, m_len - m_pos);
    m_pos += k;
    m_offset += k;
}

bool ByteReader::check_utf8(unsigned char c) {
    // Well-formed UTF-8 as in Unicode table 3-7: no overlong forms, no surrogates, <= U+10FFFF.
    if (m_need > 0) {
        if (c < m_lo || c > m_hi) {
            m_need = 0;
            m_bad_byte = m_lead;  // the byte that began the broken sequence, as a user sees it
            return false;
        }
        --m_need;
        m_lo = 0x80;
        m_hi = 0xBF;
        return true;
    }
    m_lo = 0x80;
    m_hi = 0xBF;
    m_lead = c;
    if (c >= 0xC2 && c <= 0xDF) {
        m_need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        m_need = 2;
        if (c == 0xE0) {
            m_lo = 0xA0;
        } else if (c == 0xED) {
            m_hi = 0x9F;
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        m_need = 3;
        if (c == 0xF0) {
            m_lo = 0x90;
        } else if (c == 0xF4) {
            m_hi = 0x8F;
        }
    } else {  // NUL, a stray continuation byte, or a byte that never occurs in UTF-8
        m_bad_byte = c;
        return false;
    }
    return true;
}

namespace {

std::string export_hint(Format format) {
    return format == Format::csv ? "is this a spreadsheet file rather than a CSV export?"
                                 : "is this really a JSON export?";
}

}  // namespace

std::string sniff(ByteReader& in, Format format) {
    std::string_view h = in.head();
    if (h.substr(0, 3) == "\xEF\xBB\xBF") {
        in.skip(3);
        return {};
    }
    if (h.substr(0, 2) == "\xFF\xFE" || h.substr(0, 2) == "\xFE\xFF") {
        return "this is UTF-16 text; save or export it as UTF-8";
    }
    if (h.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
        return "this is a ZIP archive (an .xlsx or .ods spreadsheet?), not a " +
               std::string(format == Format::csv ? "CSV" : "JSON") +
               " export; in Google Sheets use File > Download > Comma-separated values (.csv)";
    }
    if (h.substr(0, 4) == "\xD0\xCF\x11\xE0") {
        return "this is an Excel .xls file, not a CSV export; save it as CSV UTF-8";
    }
    return {};
}

std::string not_text_message(const ByteReader& in, Format format) {
    if (in.bad_byte() < 0) {
        return "not UTF-8 text (the file ends inside a multi-byte character; " +
               export_hint(format) + ")";
    }
    char byte[16];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned>(in.bad_byte()) & 0xFFu);
    const std::string what = in.bad_byte() == 0 ? "a NUL byte" : std::string("byte ") + byte;
    return "not UTF-8 text (" + what + "; " + export_hint(format) + " save or export it as UTF-8)";
}

bool all_empty(const std::vector<std::pair<std::string, std::string>>& cells) {
    for (const auto& cell : cells) {
        if (!cell.second.empty()) {
            return false;
        }
    }
    return true;
}

std::string unnamed_column(std::size_t i) {
    return "column_" + std::to_string(i + 1);
}

}  // namespace detail

util::Result<Format> parse_format(const std::string& name) {
    const std::string n = util::to_lower(util::trim(name));
    if (n == "csv") {
        return Format::csv;
    }
    if (n == "json") {
        return Format::json;
    }
    if (n == "jsonl" || n == "ndjson") {
        return Format::jsonl;
    }
    return util::error(util::Code::invalid_input,
                       "format \"" + name + "\" is not csv, json or jsonl");
}

util::Result<Format> format_from_path(const std::string& path) {
    const std::string ext = util::to_lower(std::filesystem::path(path).extension().string());
    if (ext == ".csv") {
        return Format::csv;
    }
    if (ext == ".json") {
        return Format::json;
    }
    if (ext == ".jsonl" || ext == ".ndjson") {
        return Format::jsonl;
    }
    return util::error(util::Code::invalid_input,
                       path +
                           ": cannot tell the format from the name (expected .csv, .json, "
                           ".jsonl or .ndjson); pass --format csv|json|jsonl");
}

std::string normalise_column(const std::string& name) {
    std::string_view s = util::trim(name);
    if (s.substr(0, 3) == "\xEF\xBB\xBF") {  // a BOM that slipped into a JSON key
        s = util::trim(s.substr(3));
    }
    std::string out;
    out.reserve(s.size());
    bool in_space = false;
    for (char c : s) {
        const bool space =
            c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (space) {
            in_space = true;
            continue;
        }
        if (in_space) {
            out += '_';
            in_space = false;
        }
        out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return out;
}

util::Status open_error(int e, const std::string& display_name) {
    if (e == ENOENT || e == ENOTDIR) {
        return util::error(util::Code::not_found, display_name + ": no such file");
    }
    if (e == EACCES || e == EPERM) {
        return util::error(
            util::Code::permission_denied,
            display_name + ": permission denied (the file is not readable by this user)");
    }
    return util::error(util::Code::storage_io, display_name + ": cannot open: " + std::strerror(e));
}

util::Result<std::unique_ptr<RowSource>> open_rows(const std::string& path, Format format,
                                                   const std::string& display_name) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return open_error(errno, display_name);
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return util::error(util::Code::invalid_input,
                           display_name + ": is a folder, not a CSV, JSON or JSONL file");
    }
    return open_rows(fd, format, display_name, true);
}

util::Result<std::unique_ptr<RowSource>> open_rows(int fd, Format format,
                                                   const std::string& display_name, bool owned) {
    const detail::InputFd in{fd, owned};
    switch (format) {
        case Format::csv:
            return detail::make_csv_source(in, display_name);
        case Format::json:
            return detail::make_json_source(in, display_name);
        case Format::jsonl:
            return detail::make_jsonl_source(in, display_name);
    }
    if (owned) {
        ::close(fd);
    }
    return util::error(util::Code::internal, "unknown batch format");
}

}  // namespace assetgen::batch
