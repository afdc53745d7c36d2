#pragma once
// The Gemini Batch API's wire format as pure functions (no I/O): the request file's lines, the
// batch resource (an Operation or a GenerateContentBatch), list pages, the Files API's File,
// and the result lines. gemini_batch.hpp adds URLs, the transport and the retry loop.
// Shapes: https://ai.google.dev/api/batch-api, https://ai.google.dev/api/files and
// https://ai.google.dev/gemini-api/docs/batch-api (read 2026-12-06; research notes §5).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provider/image_provider.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

// "<job>/<scene_id>/<variant>": the key of a request in the batch's file, echoed on its result.
std::string batch_request_key(std::string_view job_id, std::string_view scene_id, int variant);
// The parts of a key; std::nullopt when it is not "<job>/<scene>/<variant>" with variant ≥ 1
// (the scene is everything between the first and the last '/').
struct BatchKey {
    std::string job_id;
    std::string scene_id;
    int variant = 0;
};
std::optional<BatchKey> parse_batch_request_key(std::string_view key);

// One line of the request file, newline included: {"key":K,"request":<GenerateContentRequest>}.
// The request is the synchronous path's body (build_gemini_request: prompt, references,
// generationConfig with imageConfig, maxOutputTokens, thinkingConfig) without service_tier, which
// a batch has no use for: the batch is the tier. imageConfig stays inside generationConfig, in
// proto-JSON camelCase: the SDKs' dict form (`config` / `image_config` at the top of the request)
// is what users saw refused or ignored in batches (google-gemini/cookbook#1106, #1017).
std::string build_batch_line(std::string_view key, const ImageRequest& request,
                             bool image_only = true);

// The Batch API's states. The wire spells them BATCH_STATE_*; the docs and the SDKs say
// JOB_STATE_*; both are read (python-genai#1482).
enum class BatchState { unspecified, pending, running, succeeded, failed, cancelled, expired };
BatchState parse_batch_state(std::string_view text);
// "PENDING", "RUNNING", "SUCCEEDED", ... ("UNSPECIFIED" for an unknown one).
std::string_view batch_state_name(BatchState state);
// SUCCEEDED, FAILED, CANCELLED, EXPIRED: nothing will change any more.
bool is_terminal(BatchState state);

struct BatchStats {
    std::int64_t requests = 0;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
};

// A batch as batches.get, batchGenerateContent and batches.list describe it.
struct BatchInfo {
    std::string name;  // "batches/{id}"
    std::string display_name;
    std::string model;  // "models/{model}" as the API writes it
    BatchState state = BatchState::unspecified;
    BatchStats stats;
    std::string responses_file;     // "files/…" once SUCCEEDED with file input; else ""
    bool inline_responses = false;  // SUCCEEDED with inline input (results in the resource)
    bool done = false;              // the Operation's done
    // The Operation's error (FAILED, EXPIRED, CANCELLED): "STATUS: message"; "" when none.
    std::string error;
};

// Reads a long-running Operation whose metadata is a GenerateContentBatch (create, get, list)
// or a bare GenerateContentBatch. BAD_RESPONSE when it is not JSON, or has no batches/ name.
util::Result<BatchInfo> parse_batch(std::string_view body);

struct BatchPage {
    std::vector<BatchInfo> batches;
    std::string next_page_token;  // "" on the last page
};
// batches.list: {"operations":[…],"nextPageToken"} (also read: "batches").
util::Result<BatchPage> parse_batch_page(std::string_view body);

// A file of the Files API, from {"file":{…}} (the upload's answer) or a bare File (files.get).
struct FileInfo {
    std::string name;  // "files/{id}"
    std::int64_t size_bytes = 0;
    std::string mime_type;
    std::string state;  // "ACTIVE", "PROCESSING", "FAILED"
};
util::Result<FileInfo> parse_file(std::string_view body);

// One line of the results file (or one inline response): the key (top level, else
// metadata.key) and the outcome: the image with usage (parse_gemini_response: the fast
// reader, the image decoded from the line where it lies), the refusal it describes (BLOCKED,
// MODEL_ERROR with usage), or the request's own error ({"error":{code,message,status}}: the
// code as for an HTTP error of that number, e.g. 400 MODEL_ERROR, 429 MODEL_RATE_LIMIT).
// A line that is not JSON, or has neither response nor error, is BAD_RESPONSE with key "" when
// none can be read.
struct BatchResult {
    std::string key;
    util::Result<ImageResult> outcome = util::Status(util::Code::internal, "unset");
};
BatchResult parse_batch_result_line(std::string_view line);

}  // namespace assetgen::provider
