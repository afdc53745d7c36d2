// VertexBatchClient against tests/fakes/gemini_fake.py (its Vertex batch prediction routes) and
// tests/fakes/gcs_fake.py (the staging bucket the job reads its input from and writes its
// predictions to), over real loopback HTTP: write, stage, create_or_find, poll, stream results.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "core/storage/gcs_fake_process.hpp"
#include "net/curl_transport.hpp"
#include "provider/gemini_batch_files.hpp"
#include "provider/vertex_batch.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_process.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

const std::string k_token = "tok-1";

class Tokens final : public auth::TokenSource {
public:
    util::Result<std::string> token() override { return k_token; }
    std::string describe() const override { return "test token"; }
};

class VertexFake : public test::FakeProcess {
public:
    explicit VertexFake(const std::string& gcs)
        : FakeProcess("gemini_fake.py",
                      {"--bearer", k_token, "--gcs-base", gcs, "--png-bytes", "100000"}) {}
    nlohmann::json call(net::HttpTransport& t, const std::string& method, const std::string& path,
                        const nlohmann::json& body = nullptr) const {
        net::HttpRequest r;
        r.method = method;
        r.url = base_url() + path;
        if (!body.is_null()) {
            r.body = body.dump();
            r.headers.emplace_back("Content-Type", "application/json");
        }
        auto answer = t.send(r);
        REQUIRE(answer.ok());
        REQUIRE(answer->status == 200);
        return nlohmann::json::parse(answer->body);
    }
};

ImageRequest request(const std::string& prompt, const std::string& ratio) {
    ImageRequest r;
    r.model = "gemini-2.5-flash-image";
    r.prompt = prompt;
    r.aspect_ratio = ratio;
    return r;
}

// Width and height from a PNG's IHDR.
std::pair<int, int> png_size(const std::string& png) {
    auto be = [&](std::size_t at) {
        return (static_cast<unsigned char>(png[at]) << 24) |
               (static_cast<unsigned char>(png[at + 1]) << 16) |
               (static_cast<unsigned char>(png[at + 2]) << 8) |
               static_cast<unsigned char>(png[at + 3]);
    };
    return png.size() > 24 ? std::pair<int, int>(be(16), be(20)) : std::pair<int, int>(0, 0);
}

}  // namespace

TEST_CASE("vertex batch against the fakes: stage, create once, poll, stream the predictions",
          "[provider][vertex-batch][integration]") {
    test::gcs::FakeGcsProcess gcs;
    VertexFake fake(gcs.base_url());
    net::CurlTransport transport;
    test::FakeClock clock;
    test::TempDir dir;
    Tokens tokens;
    fake.call(transport, "POST", "/_fake/vertex-batch",
              {{"schedule", {"PENDING", "RUNNING", "SUCCEEDED"}},
               {"errors", {{"job-1/S 2/1", {{"code", 400}, {"message", "bad row"}}}}}});

    storage::GcsClientOptions gcs_options;
    gcs_options.endpoint =
        storage::resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", gcs.host()}}));
    gcs_options.timeout = std::chrono::seconds(20);
    gcs_options.read_chunk = 64u << 10;  // the predictions span several ranged reads
    auto made = storage::make_storage_for("gs://vx-bucket/stage",
                                          {&transport, nullptr, &clock, gcs_options});
    REQUIRE(made.ok());

    VertexBatchOptions o;
    o.project = "proj-1";
    o.location = "us-central1";
    o.api_base = fake.base_url();
    o.staging = "gs://vx-bucket/stage";
    VertexBatchClient client(o, transport, clock, tokens, **made);

    // Five requests: three images, a per-key error, a [fault:429] row.
    const std::string path = dir.file("in.jsonl");
    {
        std::string lines;
        lines += client.request_line("job-1/S1/1", request("a red cube", "16:9"));
        lines += client.request_line("job-1/S 2/1", request("a blue cube", "1:1"));
        lines += client.request_line("job-1/s3/2", request("a green cube", "1:1"));
        lines += client.request_line("job-1/s4/1", request("a cube [fault:429]", "1:1"));
        lines += client.request_line("job-1/s5/1", request("a tall cube", "9:16"));
        dir.write("in.jsonl", lines);
    }
    auto input = client.stage_input(path, "job-1-chunk-0");
    REQUIRE(input.ok());
    CHECK(*input == "gs://vx-bucket/stage/job-1-chunk-0/input.jsonl");

    auto job = client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", *input);
    REQUIRE(job.ok());
    CHECK(job->state == BatchState::pending);
    // The same call again (a re-run after a crash) finds it: still one job.
    auto again = client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", *input);
    REQUIRE(again.ok());
    CHECK(again->name == job->name);

    BatchInfo info = *job;
    std::vector<BatchState> states;
    for (int i = 0; i < 10 && !is_terminal(info.state); ++i) {
        auto got = client.get(job->name);
        REQUIRE(got.ok());
        info = *got;
        states.push_back(info.state);
    }
    CHECK(states == std::vector<BatchState>{BatchState::running, BatchState::succeeded});
    CHECK(info.stats.requests == 5);
    CHECK(info.stats.failed == 2);
    CHECK(info.responses_file.rfind("gs://vx-bucket/stage/job-1-chunk-0/output/prediction-model-",
                                    0) == 0);

    std::map<std::string, util::Result<ImageResult>> results;
    auto stats = client.download_results(info, [&](BatchResult&& r) {
        results.emplace(r.key, std::move(r.outcome));
        return util::ok_status();
    });
    REQUIRE(stats.ok());
    CHECK(stats->lines == 5);
    REQUIRE(results.size() == 5);
    REQUIRE(results.at("job-1/S1/1").ok());
    CHECK(results.at("job-1/S1/1")->mime_type == "image/png");
    CHECK(png_size(results.at("job-1/S1/1")->data).first >
          png_size(results.at("job-1/S1/1")->data).second);  // 16:9
    REQUIRE(results.at("job-1/s3/2").ok());
    REQUIRE(results.at("job-1/s5/1").ok());
    CHECK(png_size(results.at("job-1/s5/1")->data).first <
          png_size(results.at("job-1/s5/1")->data).second);  // 9:16
    CHECK(results.at("job-1/s5/1")->usage.output_tokens > 0);
    REQUIRE_FALSE(results.at("job-1/S 2/1").ok());
    CHECK(results.at("job-1/S 2/1").status().code() == Code::model_error);
    CHECK_THAT(results.at("job-1/S 2/1").status().message(), Catch::Contains("bad row"));
    REQUIRE_FALSE(results.at("job-1/s4/1").ok());
    CHECK(results.at("job-1/s4/1").status().code() == Code::rate_limited);

    // Reads that break midway are taken up again at their offset: every line once.
    REQUIRE(
        gcs.set_faults(transport,
                       nlohmann::json::array({{{"fault", "truncate"},
                                               {"rate", 0.4},
                                               {"ops", {"read"}},
                                               {"object_prefix", "stage/job-1-chunk-0/output/"}}}),
                       11));
    std::vector<std::string> keys;
    int images = 0;
    auto again_stats = client.download_results(info, [&](BatchResult&& r) {
        keys.push_back(r.key);
        images += (r.outcome.ok() && r.outcome->data == results.at(r.key)->data) ? 1 : 0;
        return util::ok_status();
    });
    REQUIRE(again_stats.ok());
    CHECK(again_stats->resumed > 0);
    CHECK(again_stats->bytes == stats->bytes);
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"job-1/S 2/1", "job-1/S1/1", "job-1/s3/2", "job-1/s4/1",
                                           "job-1/s5/1"});
    CHECK(images == 3);
    REQUIRE(gcs.set_faults(transport, nlohmann::json::array()));

    // One job was ever created; cancelling a finished one changes nothing.
    auto jobs = fake.call(transport, "GET", "/_fake/vertex-batches");
    CHECK(jobs.size() == 1);
    REQUIRE(client.cancel(job->name).ok());
    CHECK(client.get(job->name)->state == BatchState::succeeded);
    // The staged input goes once the results are in.
    REQUIRE(client.discard_input(*input).ok());
    CHECK_FALSE((*made)->exists(*input).value());
    REQUIRE(client.discard_input(*input).ok());  // again: nothing to do
}

TEST_CASE("vertex batch against the fakes: a lost create answer is found, not repeated",
          "[provider][vertex-batch][integration]") {
    test::gcs::FakeGcsProcess gcs;
    VertexFake fake(gcs.base_url());
    net::CurlTransport transport;
    test::FakeClock clock;
    test::TempDir dir;
    Tokens tokens;
    fake.call(transport, "POST", "/_fake/vertex-batch",
              {{"schedule", {"PENDING", "CANCELLED"}}, {"create_fault", "lost-response"}});
    storage::GcsClientOptions gcs_options;
    gcs_options.endpoint =
        storage::resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", gcs.host()}}));
    auto made = storage::make_storage_for("gs://vx-bucket/stage",
                                          {&transport, nullptr, &clock, gcs_options});
    REQUIRE(made.ok());
    VertexBatchOptions o;
    o.project = "proj-1";
    o.location = "us-central1";
    o.api_base = fake.base_url();
    o.staging = "gs://vx-bucket/stage";
    VertexBatchClient client(o, transport, clock, tokens, **made);
    dir.write("in.jsonl", client.request_line("job-2/s1/1", request("a cube", "1:1")));
    auto input = client.stage_input(dir.file("in.jsonl"), "job-2-chunk-0");
    REQUIRE(input.ok());
    auto job = client.create_or_find("gemini-2.5-flash-image", "job-2-chunk-0", *input);
    REQUIRE(job.ok());  // the 503 was resolved by the list
    CHECK(fake.call(transport, "GET", "/_fake/vertex-batches").size() == 1);
    REQUIRE(client.cancel(job->name).ok());
    auto cancelled = client.get(job->name);
    REQUIRE(cancelled.ok());
    CHECK(cancelled->state == BatchState::cancelled);
    CHECK(cancelled->error == "CANCELLED: The job was cancelled.");
}
