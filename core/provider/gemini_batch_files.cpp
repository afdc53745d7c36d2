// How this works: the writer builds each line with build_batch_line (the synchronous request
// body under its key) and writes them a megabyte at a time, fsync'd at the end. The splitter
// finds newlines in each arriving piece; a line wholly inside a piece is handed on as a view
// of it, only a line cut by a piece boundary is gathered in a buffer (at most the longest
// line).

#include "provider/gemini_batch_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "provider/gemini_batch_wire.hpp"

namespace assetgen::provider {

using util::Code;
using util::Status;

void LineSplitter::restart(std::int64_t skip) {
    m_pending.clear();
    m_skip = skip;
}

Status LineSplitter::feed(std::string_view data) {
    if (m_skip > 0) {
        const auto n = static_cast<std::size_t>(
            std::min<std::int64_t>(m_skip, static_cast<std::int64_t>(data.size())));
        data.remove_prefix(n);
        m_skip -= static_cast<std::int64_t>(n);
    }
    while (!data.empty()) {
        const auto nl = data.find('\n');
        if (nl == std::string_view::npos) {
            if (m_pending.size() + data.size() > m_max) {
                return too_long();
            }
            m_pending.append(data);
            return util::ok_status();
        }
        Status s;
        if (m_pending.empty()) {
            s = deliver(data.substr(0, nl), nl + 1);
        } else {
            if (m_pending.size() + nl > m_max) {
                return too_long();
            }
            m_pending.append(data.substr(0, nl));
            s = deliver(m_pending, m_pending.size() + 1);
            m_pending.clear();
        }
        if (!s.ok()) {
            return s;
        }
        data.remove_prefix(nl + 1);
    }
    return util::ok_status();
}

Status LineSplitter::end() {
    if (m_pending.empty()) {
        return util::ok_status();
    }
    Status s = deliver(m_pending, m_pending.size());
    m_pending.clear();
    return s;
}

Status LineSplitter::deliver(std::string_view line, std::size_t consumed) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    m_stats.bytes += static_cast<std::int64_t>(consumed);
    if (line.empty()) {
        return util::ok_status();
    }
    m_stats.lines += 1;
    m_stats.longest_line = std::max(m_stats.longest_line, line.size());
    Status s = m_on_line(line);
    m_sink_failed = !s.ok();
    return s;
}

Status LineSplitter::too_long() {
    m_sink_failed = true;  // the same bytes would come again: not retried
    return Status(Code::bad_response, "batch results: a line longer than " + std::to_string(m_max) +
                                          " bytes at byte " + std::to_string(m_stats.bytes));
}

BatchFileWriter::~BatchFileWriter() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

Status BatchFileWriter::open(const std::string& path, std::int64_t max_bytes) {
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        return util::io_error(path + ": cannot create the batch request file", errno);
    }
    m_path = path;
    m_max = max_bytes;
    m_bytes = m_lines = 0;
    return util::ok_status();
}

Status BatchFileWriter::add(std::string_view key, const ImageRequest& request) {
    return add_line(key, build_batch_line(key, request));
}

Status BatchFileWriter::add_line(std::string_view key, std::string line) {
    if (m_fd < 0) {
        return Status(Code::internal, "batch request file: add before open");
    }
    if (m_bytes + static_cast<std::int64_t>(line.size()) > m_max) {
        return Status(Code::invalid_input, m_path + ": request \"" + std::string(key) +
                                               "\" would take the batch file past " +
                                               std::to_string(m_max) +
                                               " bytes (the Batch API's input file limit); " +
                                               "split the batch into smaller chunks");
    }
    m_buffer += line;
    m_bytes += static_cast<std::int64_t>(line.size());
    m_lines += 1;
    return m_buffer.size() >= (1u << 20) ? flush() : util::ok_status();
}

Status BatchFileWriter::flush() {
    std::string_view rest = m_buffer;
    while (!rest.empty()) {
        const ssize_t n = ::write(m_fd, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return util::io_error(m_path + ": cannot write", errno);
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    m_buffer.clear();
    return util::ok_status();
}

Status BatchFileWriter::finish() {
    if (m_fd < 0) {
        return Status(Code::internal, "batch request file: finish before open");
    }
    Status s = flush();
    if (s.ok() && ::fsync(m_fd) != 0) {
        s = util::io_error(m_path + ": cannot fsync", errno);
    }
    if (::close(m_fd) != 0 && s.ok()) {
        s = util::io_error(m_path + ": cannot close", errno);
    }
    m_fd = -1;
    return s;
}

}  // namespace assetgen::provider
