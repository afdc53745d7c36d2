#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "provider/gemini_batch_wire.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

ImageRequest sample_request() {
    ImageRequest r;
    r.model = "gemini-3.1-flash-image";
    r.prompt = "a red cube\non a table";
    r.scene_id = "s1";
    r.aspect_ratio = "16:9";
    r.image_size = "2K";
    r.max_output_tokens = 1800;
    r.refs.push_back({"image/png", std::string("\x89PNG\r\n\x1a\n", 8)});
    return r;
}

std::string image_line(const std::string& key, const std::string& bytes) {
    nlohmann::json line = {
        {"key", key},
        {"response",
         {{"candidates",
           {{{"content",
              {{"role", "model"},
               {"parts",
                {{{"inlineData",
                   {{"mimeType", "image/png"}, {"data", util::base64_encode(bytes)}}}}}}}},
             {"finishReason", "STOP"}}}},
          {"usageMetadata",
           {{"promptTokenCount", 12}, {"candidatesTokenCount", 1120}, {"totalTokenCount", 1132}}},
          {"modelVersion", "gemini-3.1-flash-image"}}}};
    return line.dump();
}

}  // namespace

TEST_CASE("batch request keys are job/scene/variant and read back", "[provider][batch]") {
    CHECK(batch_request_key("job-1", "scene/with/slash", 2) == "job-1/scene/with/slash/2");
    auto key = parse_batch_request_key("job-1/scene/with/slash/2");
    REQUIRE(key);
    CHECK(key->job_id == "job-1");
    CHECK(key->scene_id == "scene/with/slash");
    CHECK(key->variant == 2);
    CHECK_FALSE(parse_batch_request_key("job-1/s1/0"));
    CHECK_FALSE(parse_batch_request_key("job-1/s1/x"));
    CHECK_FALSE(parse_batch_request_key("job-1/2"));
    CHECK_FALSE(parse_batch_request_key("/s1/2"));
}

TEST_CASE("a batch line is the synchronous request under its key, without service_tier",
          "[provider][batch]") {
    const std::string line = build_batch_line("job/s1/1", sample_request());
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);  // one line: the prompt's newline is escaped
    auto j = nlohmann::json::parse(line);
    CHECK(j["key"] == "job/s1/1");
    const auto& req = j["request"];
    CHECK(req["contents"][0]["parts"][0]["text"] == "a red cube\non a table");
    CHECK(req["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/png");
    // imageConfig inside generationConfig, camelCase: the form batches honour
    CHECK(req["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9");
    CHECK(req["generationConfig"]["imageConfig"]["imageSize"] == "2K");
    CHECK(req["generationConfig"]["maxOutputTokens"] == 1800);
    CHECK_FALSE(req.contains("config"));
    CHECK_FALSE(req.contains("service_tier"));
    CHECK_FALSE(req.contains("serviceTier"));
}

TEST_CASE("batch states are read in both spellings", "[provider][batch]") {
    CHECK(parse_batch_state("BATCH_STATE_PENDING") == BatchState::pending);
    CHECK(parse_batch_state("JOB_STATE_RUNNING") == BatchState::running);
    CHECK(parse_batch_state("BATCH_STATE_SUCCEEDED") == BatchState::succeeded);
    CHECK(parse_batch_state("JOB_STATE_EXPIRED") == BatchState::expired);
    CHECK(parse_batch_state("BATCH_STATE_CANCELLED") == BatchState::cancelled);
    CHECK(parse_batch_state("JOB_STATE_FAILED") == BatchState::failed);
    CHECK(parse_batch_state("BATCH_STATE_WHATEVER") == BatchState::unspecified);
    CHECK(is_terminal(BatchState::expired));
    CHECK_FALSE(is_terminal(BatchState::running));
    CHECK(batch_state_name(BatchState::succeeded) == "SUCCEEDED");
}

TEST_CASE("a batch Operation is read with its counts and output", "[provider][batch]") {
    auto pending = parse_batch(R"({"name":"batches/abc","metadata":{
        "@type":"type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        "model":"models/m","name":"batches/abc","displayName":"job-1-chunk-0",
        "state":"BATCH_STATE_PENDING","batchStats":{"requestCount":"199","pendingRequestCount":"199"}}})");
    REQUIRE(pending.ok());
    CHECK(pending->name == "batches/abc");
    CHECK(pending->display_name == "job-1-chunk-0");
    CHECK(pending->state == BatchState::pending);
    CHECK(pending->stats.requests == 199);
    CHECK(pending->stats.pending == 199);
    CHECK_FALSE(pending->done);

    auto done = parse_batch(R"({"name":"batches/abc","done":true,"metadata":{"name":"batches/abc",
        "displayName":"d","state":"JOB_STATE_SUCCEEDED","batchStats":{"requestCount":"3",
        "successfulRequestCount":"2","failedRequestCount":"1"}},
        "response":{"@type":"x","responsesFile":"files/batch-0123456789abcdef0123456789abcdef01234567"}})");
    REQUIRE(done.ok());
    CHECK(done->done);
    CHECK(done->state == BatchState::succeeded);
    CHECK(done->stats.succeeded == 2);
    CHECK(done->stats.failed == 1);
    CHECK(done->responses_file == "files/batch-0123456789abcdef0123456789abcdef01234567");

    auto expired = parse_batch(R"({"name":"batches/x","done":true,"metadata":{"state":
        "BATCH_STATE_EXPIRED"},"error":{"code":4,"status":"DEADLINE_EXCEEDED","message":"expired"}})");
    REQUIRE(expired.ok());
    CHECK(expired->state == BatchState::expired);
    CHECK(expired->error == "DEADLINE_EXCEEDED: expired");
    CHECK(expired->responses_file.empty());

    CHECK(parse_batch("<html>").status().code() == Code::bad_response);
    CHECK(parse_batch(R"({"name":"operations/1"})").status().code() == Code::bad_response);
}

TEST_CASE("a batches.list page and a File are read", "[provider][batch]") {
    auto page = parse_batch_page(
        R"({"operations":[{"name":"batches/a","metadata":{"displayName":"one","state":"BATCH_STATE_RUNNING"}},
        {"name":"batches/b","metadata":{"displayName":"two"}}],"nextPageToken":"t2"})");
    REQUIRE(page.ok());
    REQUIRE(page->batches.size() == 2);
    CHECK(page->batches[0].display_name == "one");
    CHECK(page->batches[0].state == BatchState::running);
    CHECK(page->next_page_token == "t2");
    auto last = parse_batch_page("{}");
    REQUIRE(last.ok());
    CHECK(last->batches.empty());
    CHECK(last->next_page_token.empty());

    auto file = parse_file(R"({"file":{"name":"files/abc","sizeBytes":"1234","mimeType":
        "application/jsonl","state":"ACTIVE"}})");
    REQUIRE(file.ok());
    CHECK(file->name == "files/abc");
    CHECK(file->size_bytes == 1234);
    CHECK(parse_file(R"({"name":"nope"})").status().code() == Code::bad_response);
}

TEST_CASE("result lines: image, request error, refusal, garbage", "[provider][batch]") {
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(5000, 'x');
    BatchResult ok = parse_batch_result_line(image_line("job/s1/1", png));
    CHECK(ok.key == "job/s1/1");
    REQUIRE(ok.outcome.ok());
    CHECK(ok.outcome->data == png);
    CHECK(ok.outcome->mime_type == "image/png");
    CHECK(ok.outcome->usage.prompt_tokens == 12);
    CHECK(ok.outcome->usage.output_tokens == 1120);

    BatchResult err = parse_batch_result_line(
        R"({"key":"job/s2/1","error":{"code":400,"message":"bad row","status":"INVALID_ARGUMENT"}})");
    CHECK(err.key == "job/s2/1");
    REQUIRE_FALSE(err.outcome.ok());
    CHECK(err.outcome.status().code() == Code::model_error);
    CHECK(err.outcome.status().message() ==
          "batch request \"job/s2/1\": INVALID_ARGUMENT \"bad row\"");

    // a canonical gRPC code (8 RESOURCE_EXHAUSTED) without a status name
    BatchResult grpc = parse_batch_result_line(
        R"({"metadata":{"key":"job/s3/1"},"error":{"code":8,"message":"q"}})");
    CHECK(grpc.key == "job/s3/1");
    CHECK(grpc.outcome.status().code() == Code::rate_limited);

    BatchResult blocked = parse_batch_result_line(
        R"({"key":"job/s4/1","response":{"candidates":[{"content":{"role":"model"},
        "finishReason":"IMAGE_SAFETY"}],"usageMetadata":{"promptTokenCount":9,"thoughtsTokenCount":240}}})");
    CHECK(blocked.outcome.status().code() == Code::blocked);
    REQUIRE(blocked.outcome.status().usage());
    CHECK(blocked.outcome.status().usage()->thoughts_tokens == 240);

    CHECK(parse_batch_result_line("{\"key\":\"job/s5/1\"").outcome.status().code() ==
          Code::bad_response);
    BatchResult neither = parse_batch_result_line(R"({"key":"job/s6/1"})");
    CHECK(neither.key == "job/s6/1");
    CHECK(neither.outcome.status().code() == Code::bad_response);
}
