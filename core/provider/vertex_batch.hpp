#pragma once
// Vertex AI batch prediction (projects.locations.batchPredictionJobs) as a BatchService: the
// request file goes to a staging prefix in Cloud Storage (`--batch-staging gs://…`), a job is
// created under a display name without ever creating two (create_or_find), found, polled and
// cancelled, and its predictions are streamed back from the output directory line by line.
// Memory stays flat: a chunk of the upload and of each ranged read, and the longest line.
// Shapes and citations: vertex_batch_wire.hpp, tests/fakes/README.md.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "auth/token_source.hpp"
#include "net/http.hpp"
#include "provider/batch_service.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"
#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

struct VertexBatchOptions {
    std::string project;              // Google Cloud project id
    std::string location = "global";  // as VertexOptions::location
    std::string api_base;             // "" = vertex_default_base(location)
    std::string api_version = "v1";
    // Where input files go ("<staging>/<display name>/input.jsonl") and where jobs write their
    // output ("<staging>/<display name>/output/"): a gs:// prefix in real use; any location the
    // storage takes in tests.
    std::string staging;
    std::chrono::milliseconds timeout{60'000};  // one API call
    int list_page_size = 100;
    int max_list_pages = 10'000;
    // A predictions line longer than this is BAD_RESPONSE (a 4K image is ~30 MB of base64).
    std::size_t max_result_line_bytes = 256u << 20;
    // Every idempotent call, and each ranged read of the predictions (create is never retried;
    // see create_or_find).
    util::RetryPolicy retry =
        util::exponential_full_jitter(6, util::Millis(1000), util::Millis(32'000));
};

class VertexBatchClient final : public BatchService {
public:
    // The clock paces retries; tokens authorise the Vertex API calls (the storage brings its
    // own credentials). All must outlive the client.
    VertexBatchClient(VertexBatchOptions options, net::HttpTransport& transport, util::Clock& clock,
                      auth::TokenSource& tokens, storage::Storage& staging,
                      util::RetryHooks hooks = {});

    // build_vertex_batch_line.
    std::string request_line(std::string_view key, const ImageRequest& request) const override;
    // Writes the file to "<staging>/<display_name>/input.jsonl" (Storage::put_from_fd: a
    // resumable upload a chunk at a time; the same bytes again are left alone) and returns
    // that location.
    util::Result<std::string> stage_input(const std::string& path,
                                          const std::string& display_name) override;
    // One batchPredictionJobs.create, never retried (a second call makes a second job); its
    // output goes beside the input ("<input's folder>/output/"). Prefer create_or_find.
    util::Result<BatchInfo> create(const std::string& model, const std::string& display_name,
                                   const std::string& input);
    // The no-duplicate rule, as GeminiBatchClient::create_or_find.
    util::Result<BatchInfo> create_or_find(const std::string& model,
                                           const std::string& display_name,
                                           const std::string& input) override;
    // The newest job (by createTime) with this display name: batchPredictionJobs.list with a
    // display_name filter, every page read, the name checked again here.
    util::Result<std::optional<BatchInfo>> find(const std::string& display_name) override;
    util::Result<BatchInfo> get(const std::string& name) override;
    util::Status cancel(const std::string& name) override;  // POST {name}:cancel
    // Lists info.responses_file (the job's gcsOutputDirectory), and streams every
    // predictions*.jsonl in it, in name order, through parse_vertex_prediction_line. Each
    // object is read in ranged reads pinned to one generation; a broken read is taken up
    // again at its offset, so no line is handed on twice.
    util::Result<DownloadStats> download_results(
        const BatchInfo& info,
        const std::function<util::Status(BatchResult&&)>& on_result) override;
    // Deletes the staged input (best effort: a missing one is fine).
    util::Status discard_input(const std::string& input) override;

    // "{api_base}/{api_version}/projects/{project}/locations/{location}/batchPredictionJobs".
    std::string jobs_url() const;

private:
    util::Result<net::HttpResponse> call(net::HttpRequest request, const std::string& what);
    util::Result<net::HttpResponse> call_retried(const net::HttpRequest& request,
                                                 const std::string& what);
    util::Status check_config() const;

    VertexBatchOptions m_options;
    net::HttpTransport& m_transport;
    util::Clock& m_clock;
    auth::TokenSource& m_tokens;
    storage::Storage& m_staging;
    util::RetryHooks m_hooks;
};

}  // namespace assetgen::provider
