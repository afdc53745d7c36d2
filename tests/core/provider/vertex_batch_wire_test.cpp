// Vertex batch prediction's wire shapes (vertex_batch_wire.hpp cites each document).

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "provider/vertex_batch_wire.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

ImageRequest cube() {
    ImageRequest r;
    r.model = "gemini-2.5-flash-image";
    r.prompt = "a red cube";
    r.aspect_ratio = "16:9";
    return r;
}

std::string image_response(const std::string& png) {
    return nlohmann::json{
        {"candidates",
         {{{"content",
            {{"role", "model"},
             {"parts",
              {{{"inlineData",
                 {{"mimeType", "image/png"}, {"data", util::base64_encode(png)}}}}}}}},
           {"finishReason", "STOP"}}}},
        {"usageMetadata", {{"promptTokenCount", 12}, {"candidatesTokenCount", 1290}}}}
        .dump();
}

// An output line as Vertex writes it: the request echoed, then response or status.
std::string prediction_line(const std::string& key, const std::string& response,
                            const std::string& status = "") {
    nlohmann::json input = nlohmann::json::parse(build_vertex_batch_line(key, cube()))["request"];
    nlohmann::json line = {{"status", status},
                           {"processed_time", "2026-12-06T10:00:00.000+00:00"},
                           {"request", input}};
    if (!response.empty()) {
        line["response"] = nlohmann::json::parse(response);
    }
    return line.dump();
}

}  // namespace

TEST_CASE("vertex input line: the request with role user and the key in its labels",
          "[provider][vertex-batch]") {
    const std::string text = build_vertex_batch_line("job-1/Scene 7/2", cube());
    REQUIRE(text.back() == '\n');
    auto line = nlohmann::json::parse(text);
    REQUIRE(line.size() == 1);  // Vertex reads "request"; nothing else is sent
    const auto& request = line.at("request");
    CHECK(request.at("contents").at(0).at("role") == "user");
    CHECK(request.at("contents").at(0).at("parts").at(0).at("text") == "a red cube");
    CHECK(request.at("generationConfig").at("imageConfig").at("aspectRatio") == "16:9");
    CHECK_FALSE(request.contains("serviceTier"));
    CHECK_FALSE(request.contains("service_tier"));
    const auto& labels = request.at("labels");
    REQUIRE(labels.size() == 1);
    const std::string value = labels.at("assetgen-key-00");
    CHECK(value == "job-1_2f_53cene_207_2f2");
    // Only what label values allow.
    for (char c : value) {
        CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'));
    }
}

TEST_CASE("vertex key labels: long and odd keys round-trip in 63-character labels",
          "[provider][vertex-batch]") {
    for (const std::string& key :
         {std::string("j/s/1"), std::string("JOB_upper/scène é/12"),
          "job-" + std::string(150, 'x') + "/" + std::string(40, '/') + "/3", std::string()}) {
        const auto labels = vertex_key_labels(key);
        for (const auto& [name, value] : labels) {
            CHECK(value.size() <= 63);
            CHECK(name.size() <= 63);
        }
        CHECK(vertex_key_from_labels(labels) == key);
    }
    CHECK(vertex_key_labels("job-" + std::string(150, 'x') + "/s/1").size() == 3);
    // Labels of others are ignored; a gap in the numbering is not a key.
    auto labels = vertex_key_labels("job/" + std::string(100, 'a') + "/1");
    labels.emplace_back("team", "art");
    CHECK(vertex_key_from_labels(labels) == "job/" + std::string(100, 'a') + "/1");
    labels.erase(labels.begin());
    CHECK(vertex_key_from_labels(labels).empty());
    CHECK(vertex_key_from_labels({{"assetgen-key-00", "bad_zz"}}).empty());
}

TEST_CASE("vertex create body and model names", "[provider][vertex-batch]") {
    CHECK(*vertex_publisher_model("gemini-2.5-flash-image") ==
          "publishers/google/models/gemini-2.5-flash-image");
    CHECK(*vertex_publisher_model("models/gemini-3-pro-image-preview") ==
          "publishers/google/models/gemini-3-pro-image-preview");
    CHECK(vertex_publisher_model("../x").status().code() == Code::invalid_input);
    auto body = nlohmann::json::parse(build_vertex_job_body(
        "job-1-chunk-0", "publishers/google/models/gemini-2.5-flash-image",
        "gs://b/stage/job-1-chunk-0/input.jsonl", "gs://b/stage/job-1-chunk-0/output/"));
    CHECK(body == nlohmann::json::parse(R"({
        "displayName": "job-1-chunk-0",
        "model": "publishers/google/models/gemini-2.5-flash-image",
        "inputConfig": {"instancesFormat": "jsonl",
                        "gcsSource": {"uris": ["gs://b/stage/job-1-chunk-0/input.jsonl"]}},
        "outputConfig": {"predictionsFormat": "jsonl",
                         "gcsDestination": {"outputUriPrefix": "gs://b/stage/job-1-chunk-0/output/"}}
    })"));
}

TEST_CASE("vertex job resource: states, completion stats, output directory, error",
          "[provider][vertex-batch]") {
    auto job = parse_vertex_job(R"({
        "name": "projects/123/locations/us-central1/batchPredictionJobs/456",
        "displayName": "job-1-chunk-0",
        "model": "publishers/google/models/gemini-2.5-flash-image",
        "state": "JOB_STATE_SUCCEEDED",
        "completionStats": {"successfulCount": "7", "failedCount": "2", "incompleteCount": "1"},
        "outputInfo": {"gcsOutputDirectory": "gs://b/out/prediction-model-2026-12-06T10:00:00.000000Z"},
        "createTime": "2026-12-06T09:00:00.000000Z"})");
    REQUIRE(job.ok());
    CHECK(job->name == "projects/123/locations/us-central1/batchPredictionJobs/456");
    CHECK(job->display_name == "job-1-chunk-0");
    CHECK(job->state == BatchState::succeeded);
    CHECK(job->done);
    CHECK(job->stats.requests == 10);
    CHECK(job->stats.succeeded == 7);
    CHECK(job->stats.failed == 2);
    CHECK(job->stats.pending == 1);
    CHECK(job->responses_file == "gs://b/out/prediction-model-2026-12-06T10:00:00.000000Z");

    const std::pair<const char*, BatchState> states[] = {
        {"JOB_STATE_QUEUED", BatchState::pending},
        {"JOB_STATE_PENDING", BatchState::pending},
        {"JOB_STATE_RUNNING", BatchState::running},
        {"JOB_STATE_CANCELLING", BatchState::running},
        {"JOB_STATE_PARTIALLY_SUCCEEDED", BatchState::succeeded},
        {"JOB_STATE_FAILED", BatchState::failed},
        {"JOB_STATE_CANCELLED", BatchState::cancelled},
        {"JOB_STATE_EXPIRED", BatchState::expired},
    };
    for (const auto& [text, state] : states) {
        auto j = parse_vertex_job(
            std::string(R"({"name":"projects/p/locations/l/batchPredictionJobs/1","state":")") +
            text + "\"}");
        REQUIRE(j.ok());
        CHECK(j->state == state);
    }
    auto failed = parse_vertex_job(
        R"({"name":"projects/p/locations/l/batchPredictionJobs/1","state":"JOB_STATE_FAILED",)"
        R"("error":{"code":3,"message":"Invalid input file."}})");
    REQUIRE(failed.ok());
    CHECK(failed->error == "INVALID_ARGUMENT: Invalid input file.");
    CHECK(parse_vertex_job(R"({"name":"batches/1"})").status().code() == Code::bad_response);
    CHECK(parse_vertex_job("not json").status().code() == Code::bad_response);
}

TEST_CASE("vertex list page: jobs, create times, next page token", "[provider][vertex-batch]") {
    auto page = parse_vertex_job_page(R"({"batchPredictionJobs":[
        {"name":"projects/p/locations/l/batchPredictionJobs/1","displayName":"a","state":"JOB_STATE_RUNNING",
         "createTime":"2026-12-06T09:00:00Z"},
        {"name":"projects/p/locations/l/batchPredictionJobs/2","displayName":"b"}],
        "nextPageToken":"tok-2"})");
    REQUIRE(page.ok());
    REQUIRE(page->jobs.size() == 2);
    CHECK(page->jobs[0].state == BatchState::running);
    CHECK(page->create_times[0] == "2026-12-06T09:00:00Z");
    CHECK(page->create_times[1].empty());
    CHECK(page->next_page_token == "tok-2");
    auto empty = parse_vertex_job_page("{}");
    REQUIRE(empty.ok());
    CHECK(empty->jobs.empty());
    CHECK(parse_vertex_job_page(R"({"batchPredictionJobs":{}})").status().code() ==
          Code::bad_response);
}

TEST_CASE("vertex predictions line: the image under its key, a failed row's named code",
          "[provider][vertex-batch]") {
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, '\x11');
    auto ok = parse_vertex_prediction_line(prediction_line("job-1/s1/1", image_response(png)));
    CHECK(ok.key == "job-1/s1/1");
    REQUIRE(ok.outcome.ok());
    CHECK(ok.outcome->data == png);
    CHECK(ok.outcome->usage.output_tokens == 1290);

    auto bad_request = parse_vertex_prediction_line(prediction_line(
        "job-1/s2/1", "",
        R"(Bad Request: {"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}})"));
    CHECK(bad_request.key == "job-1/s2/1");
    REQUIRE_FALSE(bad_request.outcome.ok());
    CHECK(bad_request.outcome.status().code() == Code::model_error);
    CHECK(bad_request.outcome.status().http_status() == 400);
    CHECK_THAT(bad_request.outcome.status().message(),
               Catch::Contains("job-1/s2/1") && Catch::Contains("invalid argument"));

    auto limited = parse_vertex_prediction_line(
        prediction_line("job-1/s3/1", "", "Too Many Requests: quota exceeded"));
    CHECK(limited.outcome.status().code() == Code::rate_limited);
    auto named = parse_vertex_prediction_line(
        prediction_line("job-1/s4/1", "", "PERMISSION_DENIED: no access to the model"));
    CHECK(named.outcome.status().code() == Code::permission_denied);
    auto unknown = parse_vertex_prediction_line(prediction_line("job-1/s5/1", "", "something odd"));
    CHECK(unknown.outcome.status().code() == Code::unavailable);
    CHECK(unknown.key == "job-1/s5/1");

    // A top-level key wins; a line that is not JSON is BAD_RESPONSE.
    auto keyed = parse_vertex_prediction_line(
        R"({"key":"k/s/1","status":"","request":{},"response":)" + image_response(png) + "}");
    CHECK(keyed.key == "k/s/1");
    CHECK(keyed.outcome.ok());
    CHECK(parse_vertex_prediction_line("{oops").outcome.status().code() == Code::bad_response);
    auto neither = parse_vertex_prediction_line(prediction_line("job-1/s6/1", ""));
    CHECK(neither.outcome.status().code() == Code::bad_response);
}

TEST_CASE("vertex predictions files are told apart in an output directory",
          "[provider][vertex-batch]") {
    CHECK(is_vertex_predictions_file("gs://b/o/prediction-model-x/predictions.jsonl"));
    CHECK(is_vertex_predictions_file("gs://b/o/prediction-model-x/predictions_00001.jsonl"));
    CHECK_FALSE(is_vertex_predictions_file("gs://b/o/prediction-model-x/errors.jsonl"));
    CHECK_FALSE(is_vertex_predictions_file("gs://b/o/prediction-model-x/predictions.json"));
    CHECK_FALSE(is_vertex_predictions_file("gs://b/predictions.jsonl/x"));
}
