#pragma once
// Vertex AI batch prediction's wire format for Gemini models as pure functions (no I/O): the
// input file's lines, the create body, the BatchPredictionJob resource and list pages, and the
// lines of the predictions file. vertex_batch.hpp adds URLs, the transport, the retry loop and
// the staging prefix in Cloud Storage. The types are the Gemini Batch API's (BatchInfo,
// BatchResult): the engine sees one kind of batch.
//
// Shapes (read 2026-12-06; tests/fakes/README.md cites each again):
//  - input line {"request": <GenerateContentRequest, contents[].role "user">}:
//    https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage
//  - create body (displayName, model "publishers/google/models/<id>", inputConfig
//    {instancesFormat "jsonl", gcsSource {uris}}, outputConfig {predictionsFormat "jsonl",
//    gcsDestination {outputUriPrefix}}):
//    https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/batch-prediction-api
//  - BatchPredictionJob (state JOB_STATE_*, completionStats {successfulCount, failedCount,
//    incompleteCount}, outputInfo.gcsOutputDirectory, error): REST reference
//    projects.locations.batchPredictionJobs (get, list with filter and nextPageToken, cancel).
//  - output: <outputUriPrefix>/prediction-model-<timestamp>/predictions.jsonl, one line per
//    request: {"status": "", "processed_time", "request": <the request as sent>, "response":
//    <GenerateContentResponse>}; a failed row has no response and its error in "status" (same
//    guide, "Retrieve batch output").
//
// The key. Vertex does not pass extra top-level fields of an input line through to its output
// line (BerriAI/litellm#22723, googleapis/python-aiplatform#2621: "the predicted results ... do
// not contain the specified ID"); it echoes the request. So the key travels inside the request,
// in its `labels` (a documented GenerateContentRequest field on Vertex, echoed with the request):
// label values allow only [a-z0-9_-] and 63 characters, so the key is escaped (a byte outside
// [a-z0-9-] becomes "_" and two hex digits) and cut into labels "assetgen-key-00", "-01", ...
// A top-level "key" on an output line, should Vertex ever write one, is read first.

#include <string>
#include <string_view>
#include <vector>

#include "provider/gemini_batch_wire.hpp"
#include "provider/image_provider.hpp"
#include "util/status.hpp"

namespace assetgen::provider {

// The labels that carry key (name, value), in order; at most 63 characters each.
std::vector<std::pair<std::string, std::string>> vertex_key_labels(std::string_view key);
// The key back from the labels (name, value) of a request; "" when they carry none or are
// malformed.
std::string vertex_key_from_labels(const std::vector<std::pair<std::string, std::string>>& labels);

// One line of the input file, newline included: {"request": <build_gemini_request's body with
// the key's labels>}. The body is the synchronous path's (role "user", generationConfig with
// imageConfig), without service_tier.
std::string build_vertex_batch_line(std::string_view key, const ImageRequest& request,
                                    bool image_only = true);

// "publishers/google/models/<id>" for "<id>", "models/<id>" or a name already in that form;
// INVALID_INPUT when the id is not plain ([A-Za-z0-9._-]).
util::Result<std::string> vertex_publisher_model(std::string_view model);

// The batchPredictionJobs.create body.
std::string build_vertex_job_body(std::string_view display_name, std::string_view publisher_model,
                                  std::string_view input_uri, std::string_view output_uri_prefix);

// A BatchPredictionJob as BatchInfo: name "projects/…/batchPredictionJobs/…", state from
// JOB_STATE_* (QUEUED and PAUSED pending, UPDATING and CANCELLING running, PARTIALLY_SUCCEEDED
// succeeded: its results are there), stats from completionStats (requests = successful + failed
// + incomplete; pending = incomplete), responses_file = outputInfo.gcsOutputDirectory ("gs://…"),
// done = a terminal state, error "STATUS: message" (the canonical code's name when the error
// has no status). BAD_RESPONSE when not JSON or without a batchPredictionJobs name.
util::Result<BatchInfo> parse_vertex_job(std::string_view body);

// batchPredictionJobs.list: {"batchPredictionJobs":[…],"nextPageToken"}; create_time of each
// job beside it (to pick the newest of several with one display name).
struct VertexJobPage {
    std::vector<BatchInfo> jobs;
    std::vector<std::string> create_times;  // RFC 3339, as the API writes it; "" when absent
    std::string next_page_token;            // "" on the last page
};
util::Result<VertexJobPage> parse_vertex_job_page(std::string_view body);

// One line of a predictions file: the key (top-level "key", else the request's labels), and the
// outcome: a non-empty "status" is the request's error (its embedded {"error":{code,status,
// message}} when there is one, else the HTTP reason phrase it starts with, e.g. "Bad Request"
// 400 MODEL_ERROR, "Too Many Requests" 429 MODEL_RATE_LIMIT; an unknown text is 500
// MODEL_UNAVAILABLE); otherwise the response as parse_batch_result_line reads it.
BatchResult parse_vertex_prediction_line(std::string_view line);

// True for the name of a predictions file in an output directory: "predictions*.jsonl" (the
// last path segment).
bool is_vertex_predictions_file(std::string_view location);

}  // namespace assetgen::provider
