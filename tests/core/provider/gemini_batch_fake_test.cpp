// The batch client against tests/fakes/gemini_fake.py (its Batch API and Files API) over real
// loopback HTTP: write, upload in chunks, create_or_find, poll, stream the results.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "net/curl_transport.hpp"
#include "provider/gemini_batch.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_process.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

const std::string k_key = "batch-test-key";

class GeminiFake : public test::FakeProcess {
public:
    GeminiFake()
        : FakeProcess("gemini_fake.py", {"--api-key", k_key, "--upload-granularity", "65536"}) {}
    nlohmann::json control(net::HttpTransport& t, const std::string& method,
                           const std::string& path, const nlohmann::json& body = nullptr) const {
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

TEST_CASE("batch client against the fake: upload, create once, poll, stream results",
          "[provider][batch][integration]") {
    GeminiFake fake;
    net::CurlTransport transport;
    test::FakeClock clock;
    test::TempDir dir;
    fake.control(transport, "POST", "/_fake/batch",
                 {{"schedule", {"PENDING", "RUNNING", "SUCCEEDED"}},
                  {"errors", {{"job-1/s2/1", {{"code", 400}, {"message", "bad row"}}}}}});

    // Three requests; a reference image makes the file span several 64 KiB chunks.
    BatchFileWriter writer;
    REQUIRE(writer.open(dir.file("in.jsonl")).ok());
    ImageRequest with_ref = request("a red cube", "16:9");
    with_ref.refs.push_back(
        {"image/png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(150'000, '\x07')});
    REQUIRE(writer.add(batch_request_key("job-1", "s1", 1), with_ref).ok());
    REQUIRE(writer.add(batch_request_key("job-1", "s2", 1), request("a blue cube", "1:1")).ok());
    REQUIRE(
        writer
            .add(batch_request_key("job-1", "s3", 1), request("a cube [fault:image-safety]", "1:1"))
            .ok());
    REQUIRE(writer.finish().ok());

    GeminiBatchOptions o;
    o.api_key = k_key;
    o.api_base = fake.base_url();
    o.upload_chunk_bytes = 64u << 10;
    GeminiBatchClient client(o, transport, clock);
    auto file = client.upload_file(dir.file("in.jsonl"), "job-1-chunk-0");
    REQUIRE(file.ok());
    CHECK(file->size_bytes == writer.bytes());
    auto log = fake.control(transport, "GET", "/_fake/batch-log");
    int chunks = 0;
    for (const auto& e : log) {
        chunks += e.value("offset", -1) >= 0 ? 1 : 0;
    }
    CHECK(chunks == static_cast<int>((writer.bytes() + 65535) / 65536));

    auto batch = client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", file->name);
    REQUIRE(batch.ok());
    CHECK(batch->state == BatchState::pending);
    CHECK(batch->stats.requests == 3);
    // The same call again (a re-run after a crash) finds it: still one batch.
    auto again = client.create_or_find("gemini-2.5-flash-image", "job-1-chunk-0", file->name);
    REQUIRE(again.ok());
    CHECK(again->name == batch->name);

    std::vector<BatchState> states;
    BatchInfo info;
    for (int i = 0; i < 10 && !is_terminal(info.state); ++i) {
        auto got = client.get(batch->name);
        REQUIRE(got.ok());
        info = *got;
        states.push_back(info.state);
    }
    CHECK(states ==
          std::vector<BatchState>{BatchState::running, BatchState::succeeded});  // 2 polls
    CHECK(info.stats.succeeded == 2);
    CHECK(info.stats.failed == 1);
    REQUIRE_FALSE(info.responses_file.empty());

    std::map<std::string, util::Result<ImageResult>> results;
    auto stats = client.download_results(info.responses_file, [&](BatchResult&& r) {
        results.emplace(r.key, std::move(r.outcome));
        return util::ok_status();
    });
    REQUIRE(stats.ok());
    REQUIRE(results.size() == 3);
    const auto& s1 = results.at("job-1/s1/1");
    REQUIRE(s1.ok());
    CHECK(png_size(s1->data) == std::pair<int, int>(1344, 768));  // 16:9 at 2.5 Flash Image
    CHECK(s1->usage.output_tokens == 1290);
    CHECK(s1->usage.prompt_tokens > 258);  // the reference image is billed
    CHECK(results.at("job-1/s2/1").status().code() == Code::model_error);
    CHECK(results.at("job-1/s3/1").status().code() == Code::blocked);

    // A download that breaks midway is resumed; every line still once.
    fake.control(transport, "POST", "/_fake/batch", {{"cut_download_at", stats->bytes / 2}});
    std::vector<std::string> keys;
    auto resumed = client.download_lines(info.responses_file, [&](std::string_view line) {
        keys.push_back(nlohmann::json::parse(line)["key"]);
        return util::ok_status();
    });
    REQUIRE(resumed.ok());
    CHECK(resumed->resumed == 1);
    CHECK(keys == std::vector<std::string>{"job-1/s1/1", "job-1/s2/1", "job-1/s3/1"});

    auto batches = fake.control(transport, "GET", "/_fake/batches");
    CHECK(batches.size() == 1);
    CHECK(client.remove(batch->name).ok());
    CHECK(client.get(batch->name).status().code() == Code::not_found);
    CHECK(client.delete_file(file->name).ok());
}

TEST_CASE("batch client against the fake: a create whose answer is lost is found, not repeated",
          "[provider][batch][integration]") {
    GeminiFake fake;
    net::CurlTransport transport;
    test::FakeClock clock;
    test::TempDir dir;
    BatchFileWriter writer;
    REQUIRE(writer.open(dir.file("in.jsonl")).ok());
    REQUIRE(writer.add("job-2/s1/1", request("a cube", "1:1")).ok());
    REQUIRE(writer.finish().ok());
    GeminiBatchOptions o;
    o.api_key = k_key;
    o.api_base = fake.base_url();
    GeminiBatchClient client(o, transport, clock);
    auto file = client.upload_file(dir.file("in.jsonl"), "job-2-chunk-0");
    REQUIRE(file.ok());
    fake.control(transport, "POST", "/_fake/batch", {{"create_fault", "lost-response"}});
    auto batch = client.create_or_find("gemini-2.5-flash-image", "job-2-chunk-0", file->name);
    REQUIRE(batch.ok());
    CHECK(batch->display_name == "job-2-chunk-0");
    auto batches = fake.control(transport, "GET", "/_fake/batches");
    REQUIRE(batches.size() == 1);
    CHECK(batches[0]["name"] == batch->name);
    int creates = 0;
    for (const auto& e : fake.control(transport, "GET", "/_fake/batch-log")) {
        creates += e["op"] == "create" ? 1 : 0;
    }
    CHECK(creates == 1);

    // cancel: the batch ends CANCELLED with its error
    REQUIRE(client.cancel(batch->name).ok());
    auto got = client.get(batch->name);
    REQUIRE(got.ok());
    CHECK(got->state == BatchState::cancelled);
    CHECK(got->error.find("CANCELLED") == 0);
}
