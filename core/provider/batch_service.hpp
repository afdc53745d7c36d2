#pragma once
// A batch service as the batch tier's engine sees it: the Gemini API's Batch API
// (GeminiBatchClient) or Vertex AI batch prediction. Both take a file of requests, one JSON
// line each under its key, run them within a day at half price, and give back one result line
// per request. The engine writes the request file, stages it, creates the batch under a display
// name it recorded first (never two batches for one name), polls, and streams the results.
//
// The types are the Gemini client's (gemini_batch_wire.hpp): a Vertex job's states and counts
// map onto BatchInfo, and its prediction lines onto BatchResult.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "provider/gemini_batch_files.hpp"
#include "provider/gemini_batch_wire.hpp"
#include "provider/image_provider.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

// Failures after which a create may or may not have happened (a transient failure: no answer,
// a timeout, a 5xx, a 429; or the request abandoned).
bool create_outcome_unknown(const util::Status& s);

// The no-duplicate rule over a service's own find and create: what find returns when it shows
// the batch; else one create; when that create's outcome is unknown, find again and return
// what it shows, else the create's error saying that nothing was created again (`what` names
// the batch in it, e.g. `batch "assetgen-job-c1"`). A find that fails creates nothing.
util::Result<BatchInfo> find_or_create_once(
    const std::function<util::Result<std::optional<BatchInfo>>()>& find,
    const std::function<util::Result<BatchInfo>()>& create, std::string_view what);

// A batch API call's non-2xx answer as a Status named after the call (`what`, e.g.
// "batches.get"): the codes and retry hints of parse_gemini_error (both APIs answer errors in
// Google's shape); now_ms reads a Retry-After date.
util::Status batch_call_error(int http_status, std::string_view body, std::string_view retry_after,
                              std::int64_t now_ms, const std::string& what);

class BatchService {
public:
    virtual ~BatchService() = default;

    // One line of the request file (newline included) for the request under key, in the
    // service's input format.
    virtual std::string request_line(std::string_view key, const ImageRequest& request) const = 0;
    // Makes the request file at path available to the service under display_name: the Gemini
    // API uploads it through the Files API ("files/…"); Vertex writes it to its staging prefix
    // ("gs://…"). What create_or_find takes as input. Safe to repeat.
    virtual util::Result<std::string> stage_input(const std::string& path,
                                                  const std::string& display_name) = 0;
    // The no-duplicate rule: the batch named display_name when one exists (looked up first),
    // else one created once. A create whose outcome is unknown is looked up again, never
    // repeated blindly.
    virtual util::Result<BatchInfo> create_or_find(const std::string& model,
                                                   const std::string& display_name,
                                                   const std::string& input) = 0;
    // The newest batch named display_name; std::nullopt when there is none.
    virtual util::Result<std::optional<BatchInfo>> find(const std::string& display_name) = 0;
    virtual util::Result<BatchInfo> get(const std::string& name) = 0;
    virtual util::Status cancel(const std::string& name) = 0;
    // Streams the results of a SUCCEEDED batch (info as get returned it), one BatchResult per
    // request, memory bounded by the longest line; a broken transfer resumes without handing a
    // line twice. on_result's failure stops the download with its status.
    virtual util::Result<DownloadStats> download_results(
        const BatchInfo& info, const std::function<util::Status(BatchResult&&)>& on_result) = 0;
    // Removes what stage_input made (best effort once the results are in).
    virtual util::Status discard_input(const std::string& input) = 0;
};

}  // namespace assetgen::provider
