// VertexBatchClient over a scripted transport (the Vertex API) and a local folder as its
// staging store: the no-duplicate rule under lost answers, list pages, names in URLs, the
// staged input, and predictions streamed in bounded memory.

#include <catch2/catch.hpp>

#include <malloc.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "provider/vertex_batch.hpp"
#include "provider/vertex_batch_wire.hpp"
#include "storage/storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

const std::string k_token = "ya29.vertex-batch-test-token-0123456789";
const std::string k_jobs =
    "https://vertex.example/v1/projects/proj-1/locations/us-central1/batchPredictionJobs";

class StaticTokens final : public auth::TokenSource {
public:
    util::Result<std::string> token() override { return k_token; }
    std::string describe() const override { return "test token"; }
};

net::HttpResponse answer(int status, std::string body) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

nlohmann::json job(const std::string& id, const std::string& display,
                   const std::string& created = "2026-12-06T09:00:00.000000Z",
                   const std::string& state = "JOB_STATE_PENDING") {
    return {{"name", "projects/123/locations/us-central1/batchPredictionJobs/" + id},
            {"displayName", display},
            {"state", state},
            {"createTime", created}};
}

std::string page(std::vector<nlohmann::json> jobs, const std::string& next = "") {
    nlohmann::json body = nlohmann::json::object();
    if (!jobs.empty()) {
        body["batchPredictionJobs"] = jobs;
    }
    if (!next.empty()) {
        body["nextPageToken"] = next;
    }
    return body.dump();
}

// Answers each request with the next scripted answer and records it.
class ScriptedTransport final : public net::HttpTransport {
public:
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        requests.push_back(request);
        if (script.empty()) {
            return util::Status(Code::internal, "no answer scripted for " + request.describe());
        }
        auto r = std::move(script.front());
        script.pop_front();
        return r;
    }
    void then(util::Result<net::HttpResponse> r) { script.push_back(std::move(r)); }
    std::size_t count(const std::string& method, const std::string& url_part) const {
        return static_cast<std::size_t>(
            std::count_if(requests.begin(), requests.end(), [&](const net::HttpRequest& r) {
                return r.method == method && r.url.find(url_part) != std::string::npos;
            }));
    }
    std::size_t creates() const {
        return static_cast<std::size_t>(std::count_if(
            requests.begin(), requests.end(),
            [](const net::HttpRequest& r) { return r.method == "POST" && r.url == k_jobs; }));
    }
    std::vector<net::HttpRequest> requests;
    std::deque<util::Result<net::HttpResponse>> script;
};

struct Fixture {
    test::TempDir dir;
    test::FakeClock clock;
    ScriptedTransport transport;
    StaticTokens tokens;
    storage::LocalStorage local;
    VertexBatchClient client{options(), transport, clock, tokens, local};

    VertexBatchOptions options() const {
        VertexBatchOptions o;
        o.project = "proj-1";
        o.location = "us-central1";
        o.api_base = "https://vertex.example/";
        o.staging = dir.file("stage");
        o.retry = util::exponential_full_jitter(3, util::Millis(10), util::Millis(40));
        return o;
    }
    std::string input() const { return dir.file("stage/job-1-chunk-0/input.jsonl"); }
};

std::string header(const net::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return "";
}

std::size_t allocated_now() {
    return mallinfo2().uordblks;
}

}  // namespace

TEST_CASE("vertex create_or_find: a lost create answer is looked up, never repeated",
          "[provider][vertex-batch]") {
    Fixture f;
    SECTION("the job shows up in the list: it is the one returned") {
        f.transport.then(answer(200, page({})));  // find: none yet
        f.transport.then(util::Status(Code::unavailable, "connection reset by peer"));
        f.transport.then(answer(200, page({job("77", "job-1-chunk-0")})));
        auto got = f.client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", f.input());
        REQUIRE(got.ok());
        CHECK(got->name == "projects/123/locations/us-central1/batchPredictionJobs/77");
        CHECK(f.transport.creates() == 1);
        // The create body names the staged input and an output beside it.
        auto body = nlohmann::json::parse(f.transport.requests.at(1).body);
        CHECK(body.at("displayName") == "job-1-chunk-0");
        CHECK(body.at("model") == "publishers/google/models/gemini-2.5-flash-image");
        CHECK(body.at("inputConfig").at("gcsSource").at("uris").at(0) == f.input());
        CHECK(body.at("outputConfig").at("gcsDestination").at("outputUriPrefix") ==
              f.dir.file("stage/job-1-chunk-0/output/"));
        CHECK(header(f.transport.requests.at(1), "Authorization") == "Bearer " + k_token);
    }
    SECTION("not in the list yet: an error, and the next call finds it without a create") {
        f.transport.then(answer(200, page({})));
        f.transport.then(answer(503, R"({"error":{"code":503,"status":"UNAVAILABLE",)"
                                     R"("message":"The service is currently unavailable."}})"));
        f.transport.then(answer(200, page({})));
        auto first = f.client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", f.input());
        REQUIRE_FALSE(first.ok());
        CHECK(first.status().code() == Code::unavailable);
        CHECK_THAT(first.status().message(), Catch::Contains("not created again"));
        f.transport.then(answer(200, page({job("78", "job-1-chunk-0")})));
        auto second = f.client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", f.input());
        REQUIRE(second.ok());
        CHECK(second->name == "projects/123/locations/us-central1/batchPredictionJobs/78");
        CHECK(f.transport.creates() == 1);
    }
    SECTION("the list cannot be read: nothing is created") {
        for (int i = 0; i < 3; ++i) {
            f.transport.then(util::Status(Code::unavailable, "connection refused"));
        }
        auto got = f.client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", f.input());
        REQUIRE_FALSE(got.ok());
        CHECK(f.transport.creates() == 0);
        CHECK(f.transport.requests.size() == 3);  // the one retry loop's attempts
    }
    SECTION("a refused create (400) is the answer: no second look") {
        f.transport.then(answer(200, page({})));
        f.transport.then(answer(400, R"({"error":{"code":400,"status":"INVALID_ARGUMENT",)"
                                     R"("message":"Invalid model."}})"));
        auto got = f.client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", f.input());
        REQUIRE_FALSE(got.ok());
        CHECK(got.status().http_status() == 400);
        CHECK(f.transport.requests.size() == 2);
    }
}

TEST_CASE("vertex find pages through the list with a display_name filter, newest wins",
          "[provider][vertex-batch]") {
    Fixture f;
    f.transport.then(answer(200, page({job("1", "other")}, "p2")));
    f.transport.then(
        answer(200, page({job("2", "job-1-chunk-0", "2026-12-06T09:00:00.000000Z")}, "p3")));
    f.transport.then(answer(200, page({job("3", "job-1-chunk-0", "2026-12-06T11:00:00.000000Z"),
                                       job("4", "job-1-chunk-0", "2026-12-06T10:00:00.000000Z")})));
    auto found = f.client.find("job-1-chunk-0");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->name == "projects/123/locations/us-central1/batchPredictionJobs/3");
    REQUIRE(f.transport.requests.size() == 3);
    CHECK(f.transport.requests[0].url ==
          k_jobs + "?pageSize=100&filter=display_name%3D%22job-1-chunk-0%22");
    CHECK(f.transport.requests[1].url ==
          k_jobs + "?pageSize=100&filter=display_name%3D%22job-1-chunk-0%22&pageToken=p2");
    CHECK(f.transport.requests[2].url.find("&pageToken=p3") != std::string::npos);

    f.transport.then(answer(200, page({job("1", "other")})));
    auto none = f.client.find("job-1-chunk-0");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
}

TEST_CASE("vertex get and cancel name the job in the URL; bad names are not sent",
          "[provider][vertex-batch]") {
    Fixture f;
    const std::string name = "projects/123/locations/us-central1/batchPredictionJobs/456";
    f.transport.then(answer(200, job("456", "d", "", "JOB_STATE_RUNNING").dump()));
    auto got = f.client.get(name);
    REQUIRE(got.ok());
    CHECK(got->state == BatchState::running);
    CHECK(f.transport.requests.back().url == "https://vertex.example/v1/" + name);
    f.transport.then(answer(200, "{}"));
    REQUIRE(f.client.cancel(name).ok());
    CHECK(f.transport.requests.back().method == "POST");
    CHECK(f.transport.requests.back().url == "https://vertex.example/v1/" + name + ":cancel");
    CHECK(f.client.get("projects/1/locations/l/batchPredictionJobs/../x").status().code() ==
          Code::invalid_input);
    CHECK(f.client.cancel("batches/1").code() == Code::invalid_input);
    CHECK(f.transport.requests.size() == 2);
    // A server that echoes the token in an error does not get it into a message.
    f.transport.then(answer(403, R"({"error":{"code":403,"status":"PERMISSION_DENIED",)"
                                 R"("message":"token )" +
                                     k_token + R"( lacks aiplatform.batchPredictionJobs.get"}})"));
    auto denied = f.client.get(name);
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.status().code() == Code::permission_denied);
    CHECK(denied.status().message().find(k_token) == std::string::npos);
}

TEST_CASE("vertex stage_input writes the request file under the staging prefix",
          "[provider][vertex-batch]") {
    Fixture f;
    const std::string lines = f.client.request_line("job-1/s1/1", ImageRequest{}) +
                              f.client.request_line("job-1/s2/1", ImageRequest{});
    const std::string path = f.dir.write("in.jsonl", lines);
    auto staged = f.client.stage_input(path, "job-1-chunk-0");
    REQUIRE(staged.ok());
    CHECK(*staged == f.input());
    CHECK(f.dir.read("stage/job-1-chunk-0/input.jsonl") == lines);
    auto again = f.client.stage_input(path, "job-1-chunk-0");  // safe to repeat
    REQUIRE(again.ok());
    CHECK(f.client.stage_input(path, "../escape").status().code() == Code::invalid_input);
    REQUIRE(f.client.discard_input(*staged).ok());
    CHECK_FALSE(std::filesystem::exists(f.input()));
    CHECK(f.transport.requests.empty());
}

TEST_CASE("vertex download streams a 50 MB predictions file in bounded memory",
          "[provider][vertex-batch]") {
    Fixture f;
    const std::string out = f.dir.file("stage/job-1-chunk-0/output/prediction-model-2026");
    std::filesystem::create_directories(out);
    const std::string png(540'000, '\x42');
    const std::string blob = util::base64_encode(png);
    std::int64_t size = 0;
    {
        std::ofstream file(out + "/predictions.jsonl", std::ios::binary);
        for (int i = 0; i < 84; ++i) {
            nlohmann::json request = nlohmann::json::parse(build_vertex_batch_line(
                "job-1/s" + std::to_string(i) + "/1", ImageRequest{}))["request"];
            std::string line;
            if (i % 7 == 3) {
                line = nlohmann::json{{"status",
                                       "Bad Request: {\"error\": {\"code\": 400, "
                                       "\"message\": \"bad\", \"status\": "
                                       "\"INVALID_ARGUMENT\"}}"},
                                      {"processed_time", "2026-12-06T10:00:00Z"},
                                      {"request", request}}
                           .dump();
            } else {
                line =
                    R"({"status":"","processed_time":"2026-12-06T10:00:00Z","request":)" +
                    request.dump() +
                    R"(,"response":{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":")" +
                    blob +
                    R"("}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1290}}})";
            }
            line += "\n";
            size += static_cast<std::int64_t>(line.size());
            file << line;
        }
    }
    REQUIRE(size > 50'000'000);
    // A second predictions file is read after the first; other files are not predictions.
    {
        std::ofstream(out + "/predictions_00002.jsonl")
            << R"({"key":"job-1/s84/1","status":"Too Many Requests"})"
            << "\n";
        std::ofstream(out + "/errors.jsonl") << "not json\n";
    }
    BatchInfo info;
    info.name = "projects/123/locations/us-central1/batchPredictionJobs/456";
    info.state = BatchState::succeeded;
    info.responses_file = out;
    const std::size_t before = allocated_now();
    std::size_t peak = 0;
    int images = 0;
    int model_errors = 0;
    int rate_limited = 0;
    std::vector<std::string> keys;
    auto stats = f.client.download_results(info, [&](BatchResult&& r) {
        peak = std::max(peak, allocated_now() - std::min(before, allocated_now()));
        keys.push_back(r.key);
        if (r.outcome.ok()) {
            images += r.outcome->data == png ? 1 : 0;
        } else if (r.outcome.status().code() == Code::model_error) {
            ++model_errors;
        } else if (r.outcome.status().code() == Code::rate_limited) {
            ++rate_limited;
        }
        return util::ok_status();
    });
    REQUIRE(stats.ok());
    CHECK(stats->lines == 85);
    CHECK(stats->bytes > size);
    CHECK(images == 72);
    CHECK(model_errors == 12);
    CHECK(rate_limited == 1);
    REQUIRE(keys.size() == 85);
    CHECK(keys.front() == "job-1/s0/1");
    CHECK(keys[83] == "job-1/s83/1");
    CHECK(keys.back() == "job-1/s84/1");
    INFO("peak allocation growth " << peak);
    CHECK(peak < 8'000'000);  // a line and its image at a time, never the 50 MB file

    // A failing callback stops the download with its status.
    int seen = 0;
    auto stopped = f.client.download_results(info, [&](BatchResult&&) {
        return ++seen == 2 ? util::Status(Code::storage_io, "disk full") : util::ok_status();
    });
    REQUIRE_FALSE(stopped.ok());
    CHECK(stopped.status().code() == Code::storage_io);
    CHECK(seen == 2);
    // A job without an output directory, or an empty one, is a named error.
    info.responses_file.clear();
    CHECK(f.client.download_results(info, [](BatchResult&&) { return util::ok_status(); })
              .status()
              .code() == Code::bad_response);
    CHECK(f.transport.requests.empty());
}
