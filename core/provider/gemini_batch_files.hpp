#pragma once
// The files of a Gemini batch on this side: the request file (BatchFileWriter: one line per
// request, fsync'd) and the reading of a result file as it streams in (LineSplitter: whole
// lines, memory bounded by the longest one, resumable at a line boundary), with the documented
// limits a chunker must stay under.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "provider/image_provider.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

// The documented limits a chunker must stay under (https://ai.google.dev/gemini-api/docs/
// rate-limits, "Batch API"; https://ai.google.dev/gemini-api/docs/batch-api; read 2026-12-06).
inline constexpr std::int64_t k_batch_input_file_max_bytes = std::int64_t{2} << 30;  // 2 GB
inline constexpr std::int64_t k_batch_file_storage_max_bytes = std::int64_t{20} << 30;
inline constexpr int k_batch_concurrent_max = 100;
inline constexpr std::int64_t k_batch_inline_max_bytes = std::int64_t{20} << 20;  // 20 MB

// Writes the request file: one build_batch_line per request, a buffered write at a time,
// fsync'd by finish(). Refuses (INVALID_INPUT) a line that would take the file past max_bytes.
class BatchFileWriter {
public:
    BatchFileWriter() = default;
    ~BatchFileWriter();
    BatchFileWriter(const BatchFileWriter&) = delete;
    BatchFileWriter& operator=(const BatchFileWriter&) = delete;

    // Creates (truncates) path, mode 0600.
    util::Status open(const std::string& path,
                      std::int64_t max_bytes = k_batch_input_file_max_bytes);
    // Appends the request's line under its key.
    util::Status add(std::string_view key, const ImageRequest& request);
    // Appends a line already built for the key (BatchService::request_line: the service's own
    // input format; newline included).
    util::Status add_line(std::string_view key, std::string line);
    // Flushes, fsyncs and closes.
    util::Status finish();
    std::int64_t bytes() const { return m_bytes; }
    std::int64_t lines() const { return m_lines; }

private:
    util::Status flush();
    int m_fd = -1;
    std::string m_path;
    std::string m_buffer;
    std::int64_t m_bytes = 0;
    std::int64_t m_lines = 0;
    std::int64_t m_max = 0;
};

struct DownloadStats {
    std::int64_t bytes = 0;  // bytes of the file delivered (each once)
    std::int64_t lines = 0;  // lines delivered
    int resumed = 0;         // times the download was taken up again after a failure
    std::size_t longest_line = 0;
};

// Splits a byte stream into lines (without their newline, a trailing CR dropped, empty lines
// skipped); a line that lies inside one piece is passed on without a copy. stats.bytes is the
// end of the last whole line delivered: where a broken download takes up again.
class LineSplitter {
public:
    LineSplitter(const std::function<util::Status(std::string_view)>& on_line, std::size_t max_line,
                 DownloadStats& stats)
        : m_on_line(on_line), m_max(max_line), m_stats(stats) {}

    // Drops a partial line, and the first `skip` bytes of what arrives next (a resumed
    // download that was answered from the start).
    void restart(std::int64_t skip);
    // Hands on every whole line in data; the first failure of on_line (or a line over
    // max_line: BAD_RESPONSE) is returned.
    util::Status feed(std::string_view data);
    // The last line when the stream does not end with a newline.
    util::Status end();
    // The last failure came from on_line or the line limit (a retry would not cure it).
    bool sink_failed() const { return m_sink_failed; }

private:
    util::Status deliver(std::string_view line, std::size_t consumed);
    util::Status too_long();

    const std::function<util::Status(std::string_view)>& m_on_line;
    std::size_t m_max;
    DownloadStats& m_stats;
    std::string m_pending;
    std::int64_t m_skip = 0;
    bool m_sink_failed = false;
};

}  // namespace assetgen::provider
