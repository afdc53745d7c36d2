#pragma once
// A client of the Gemini API's Batch API (half price, results within 24 hours) and of the
// Files API it reads its input from and writes its results to. It writes the request file
// (BatchFileWriter), uploads it with Google's resumable protocol a chunk at a time, creates a
// batch under a display name without ever creating two (create_or_find), finds, polls, cancels
// and deletes batches, and streams the result file line by line. Memory stays flat: a chunk of
// the upload, and the longest result line of the download.
// The batch tier's engine (schedule/batch_run.hpp) drives it as a BatchService. Shapes and
// citations: gemini_batch_wire.hpp, tests/fakes/README.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/http.hpp"
#include "provider/batch_service.hpp"
#include "provider/gemini_batch_files.hpp"
#include "provider/gemini_batch_wire.hpp"
#include "util/clock.hpp"
#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

struct GeminiBatchOptions {
    std::string api_key;  // sent only as x-goog-api-key; never logged; not sent to upload URLs
    std::string api_base = "https://generativelanguage.googleapis.com";
    std::string api_version = "v1beta";
    std::chrono::milliseconds timeout{60'000};  // one API call (get, list, create, ...)
    // One upload chunk, or the whole download of a result file (which may be gigabytes).
    std::chrono::milliseconds transfer_timeout{6 * 3'600'000};
    // Upload chunk size; rounded down to a multiple of the server's
    // X-Goog-Upload-Chunk-Granularity (at least one granule).
    std::size_t upload_chunk_bytes = 8u << 20;
    int list_page_size = 100;
    int max_list_pages = 10'000;
    // A result line longer than this is BAD_RESPONSE (a 4K image is ~30 MB of base64).
    std::size_t max_result_line_bytes = 256u << 20;
    // Every idempotent call and each upload chunk and download resumption (create is never
    // retried; see create_or_find).
    util::RetryPolicy retry =
        util::exponential_full_jitter(6, util::Millis(1000), util::Millis(32'000));
};

class GeminiBatchClient final : public BatchService {
public:
    // The clock paces retries (tests pass a fake one that never sleeps).
    GeminiBatchClient(GeminiBatchOptions options, net::HttpTransport& transport, util::Clock& clock,
                      util::RetryHooks hooks = {});

    // Uploads the open file (its size read by fstat; read with pread from offset 0) through
    // the resumable protocol: start, then chunks ("upload", last "upload, finalize"), each
    // retried after a query of what the server kept. The File the server made.
    util::Result<FileInfo> upload_file(int fd, const std::string& display_name,
                                       const std::string& mime_type = "application/jsonl");
    util::Result<FileInfo> upload_file(const std::string& path, const std::string& display_name,
                                       const std::string& mime_type = "application/jsonl");
    util::Result<FileInfo> get_file(const std::string& name);
    util::Status delete_file(const std::string& name);

    // One batchGenerateContent call over an uploaded file; never retried (not idempotent: a
    // second call makes a second batch). Prefer create_or_find.
    util::Result<BatchInfo> create(const std::string& model, const std::string& display_name,
                                   const std::string& input_file);
    // The newest batch with this display name, looking through every page of batches.list;
    // std::nullopt when there is none.
    util::Result<std::optional<BatchInfo>> find(const std::string& display_name) override;
    // The no-duplicate rule: looks for display_name first and returns it when it exists;
    // else creates it once. When the create fails in a way that leaves unknown whether it was
    // made (no answer, a timeout, a 5xx, a 429), looks again and returns the batch if the list
    // shows it; else the create's error, and nothing is retried (the same call later looks
    // first again).
    util::Result<BatchInfo> create_or_find(const std::string& model,
                                           const std::string& display_name,
                                           const std::string& input_file) override;
    util::Result<BatchInfo> get(const std::string& name) override;
    util::Status cancel(const std::string& name) override;
    util::Status remove(const std::string& name);  // batches.delete

    // Streams the file's bytes (the download endpoint, never files.get: result files have ids
    // over files.get's 40 characters) and hands each line (without its newline) to on_line.
    // A broken transfer is taken up again after the last whole line delivered, with
    // Range: bytes=N- (a server that answers 200 instead has its first N bytes skipped), so
    // no line is delivered twice. on_line's failure stops the download with its status.
    util::Result<DownloadStats> download_lines(
        const std::string& file_name, const std::function<util::Status(std::string_view)>& on_line);
    // download_lines with each line read by parse_batch_result_line.
    util::Result<DownloadStats> download_results(
        const std::string& file_name, const std::function<util::Status(BatchResult&&)>& on_result);

    // BatchService: build_batch_line; upload_file's name; download_results of the batch's
    // responses file (BAD_RESPONSE for a batch without one); delete_file.
    std::string request_line(std::string_view key, const ImageRequest& request) const override;
    util::Result<std::string> stage_input(const std::string& path,
                                          const std::string& display_name) override;
    util::Result<DownloadStats> download_results(
        const BatchInfo& info,
        const std::function<util::Status(BatchResult&&)>& on_result) override;
    util::Status discard_input(const std::string& input) override;

    // "{api_base}/{api_version}/{path}".
    std::string url(const std::string& path) const;

private:
    util::Result<net::HttpResponse> call(net::HttpRequest request, const std::string& what);
    util::Result<net::HttpResponse> call_retried(const net::HttpRequest& request,
                                                 const std::string& what);
    util::Status scrub(const util::Status& status) const;
    // A non-2xx answer as a Status named after `what` (codes and hints of parse_gemini_error).
    util::Status answer_error(const net::HttpResponse& response, const std::string& what) const;

    GeminiBatchOptions m_options;
    net::HttpTransport& m_transport;
    util::Clock& m_clock;
    util::RetryHooks m_hooks;
};

}  // namespace assetgen::provider
