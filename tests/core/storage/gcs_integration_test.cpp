// GcsClient and GcsStorage over real HTTP (CurlTransport) against tests/fakes/gcs_fake.py,
// found through ASSETGEN_SOURCE_DIR and run with python3 from PATH. Backoff sleeps go to a
// FakeClock, so retries cost no real time.

#include <catch2/catch.hpp>

#include <string>

#include "core/storage/gcs_fake_process.hpp"
#include "net/curl_transport.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using nlohmann::json;
using test::FakeClock;
using test::gcs::FakeGcsProcess;
using util::Code;

namespace {

const std::string k_bucket = "assetgen-it";

GcsClientOptions emulator(const FakeGcsProcess& fake) {
    GcsClientOptions o;
    o.endpoint =
        resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", fake.host()}}));
    o.timeout = std::chrono::seconds(20);
    return o;
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 7 + i / 251) & 0xFF);
    }
    return s;
}

}  // namespace

TEST_CASE("storage: GcsStorage puts, gets, lists and checks objects on the fake",
          "[storage][integration]") {
    FakeGcsProcess fake;
    net::CurlTransport transport;
    FakeClock clock;
    StorageContext context{&transport, nullptr, &clock, emulator(fake)};
    auto made = make_storage_for("gs://" + k_bucket + "/out", context);
    REQUIRE(made.ok());
    Storage& storage = **made;

    const std::string png = "\x89PNG\r\n\x1a\n" + pattern(3000);
    REQUIRE(storage.put("gs://" + k_bucket + "/out/job/s1/s1_v1.png", png, "image/png").ok());
    REQUIRE(storage.put("gs://" + k_bucket + "/out/job/s1/s1_v2.png", "two", "image/png").ok());
    REQUIRE(storage.put("gs://" + k_bucket + "/out/job/ünï côdé.txt", "u", "text/plain").ok());
    CHECK(storage.get("gs://" + k_bucket + "/out/job/s1/s1_v1.png").value() == png);
    CHECK(storage.exists("gs://" + k_bucket + "/out/job/s1/s1_v2.png").value());
    CHECK_FALSE(storage.exists("gs://" + k_bucket + "/out/job/none.png").value());
    CHECK(storage.get("gs://" + k_bucket + "/out/job/none.png").status().code() == Code::not_found);
    auto listed = storage.list("gs://" + k_bucket + "/out/job/");
    REQUIRE(listed.ok());
    CHECK(*listed == std::vector<std::string>{"gs://" + k_bucket + "/out/job/s1/s1_v1.png",
                                              "gs://" + k_bucket + "/out/job/s1/s1_v2.png",
                                              "gs://" + k_bucket + "/out/job/ünï côdé.txt"});

    // Putting the same bytes again is a no-op; different bytes replace them.
    REQUIRE(storage.put("gs://" + k_bucket + "/out/job/s1/s1_v2.png", "two", "image/png").ok());
    REQUIRE(storage.put("gs://" + k_bucket + "/out/job/s1/s1_v2.png", "TWO", "image/png").ok());
    CHECK(storage.get("gs://" + k_bucket + "/out/job/s1/s1_v2.png").value() == "TWO");
}

TEST_CASE("storage: compose appends under ifGenerationMatch and a lost answer is detectable",
          "[storage][integration]") {
    FakeGcsProcess fake;
    net::CurlTransport transport;
    FakeClock clock;
    GcsClient client(transport, nullptr, clock, emulator(fake));
    const GcsUrl day{k_bucket, "ledger/2025-11-24.jsonl"};
    const GcsUrl part{k_bucket, "ledger/2025-11-24/parts/w1-1.jsonl"};

    Preconditions create;
    create.if_generation_match = 0;
    auto first = client.upload(day, "{\"line\":1}\n", "application/x-ndjson", create);
    REQUIRE(first.ok());
    REQUIRE(client.upload(part, "{\"line\":2}\n", "application/x-ndjson", create).ok());

    // The compose is applied but its answer is lost; the retry carries the same precondition
    // and meets 412, which the caller can see (and check the object to learn it applied).
    REQUIRE(fake.set_faults(
        transport,
        json::array({{{"fault", "lost-response"}, {"first_n", 1}, {"ops", {"compose"}}}})));
    Preconditions pinned;
    pinned.if_generation_match = first->generation;
    auto composed =
        client.compose(day, {{day.object, first->generation}, {part.object, std::nullopt}},
                       "application/x-ndjson", pinned);
    REQUIRE_FALSE(composed.ok());
    CHECK(is_precondition_failed(composed.status()));
    auto now = client.stat(day);
    REQUIRE(now.ok());
    CHECK(now->component_count == 2);
    CHECK(client.read(day).value().data == "{\"line\":1}\n{\"line\":2}\n");
    json dumped = fake.dump(transport, k_bucket, "ledger%2F2025-11-24.jsonl");
    REQUIRE(dumped["objects"].size() == 1);
    CHECK(dumped["objects"][0]["text"] == "{\"line\":1}\n{\"line\":2}\n");  // appended once

    // A successful append, then delete the part under its generation.
    REQUIRE(fake.set_faults(transport, json::array()));
    pinned.if_generation_match = now->generation;
    auto again = client.compose(day, {{day.object, now->generation}, {part.object, std::nullopt}},
                                "application/x-ndjson", pinned);
    REQUIRE(again.ok());
    CHECK(again->component_count == 3);
    auto parts = client.list(k_bucket, "ledger/2025-11-24/parts/");
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 1);
    CHECK(client.remove(part, (*parts)[0].generation).ok());
    CHECK(client.remove(part).code() == Code::not_found);
    CHECK(client.list(k_bucket, "ledger/2025-11-24/parts/").value().empty());
}

TEST_CASE("storage: over real HTTP, reads retry and plain writes do not",
          "[storage][integration]") {
    FakeGcsProcess fake;
    net::CurlTransport transport;
    FakeClock clock;
    GcsClient client(transport, nullptr, clock, emulator(fake));
    const GcsUrl obj{k_bucket, "r/x.txt"};
    REQUIRE(client.upload(obj, "payload", "text/plain").ok());

    REQUIRE(fake.set_faults(
        transport, json::array({{{"fault", "503"}, {"first_n", 1}, {"ops", {"read"}}},
                                {{"fault", "truncate"}, {"first_n", 1}, {"ops", {"read"}}},
                                {{"fault", "reset"}, {"first_n", 1}, {"ops", {"read"}}}})));
    auto d = client.read(obj);
    REQUIRE(d.ok());
    CHECK(d->data == "payload");
    CHECK(clock.sleeps() >= 1);

    REQUIRE(fake.set_faults(
        transport, json::array({{{"fault", "503"}, {"first_n", 1}, {"ops", {"upload"}}}})));
    auto plain = client.upload(obj, "other", "text/plain");
    CHECK(plain.status().code() == Code::unavailable);
    REQUIRE(fake.set_faults(
        transport, json::array({{{"fault", "503"}, {"first_n", 1}, {"ops", {"upload"}}}})));
    Preconditions pre;
    pre.if_generation_match = client.stat(obj).value().generation;
    CHECK(client.upload(obj, "other", "text/plain", pre).ok());
    int uploads = 0;
    for (const auto& e : fake.log(transport)) {
        uploads += e["op"] == "upload" ? 1 : 0;
    }
    CHECK(uploads == 1 + 1 + 2);  // the first put, the plain write once, the pinned one twice
}

TEST_CASE("storage: a resumable upload survives a chunk cut short on the fake",
          "[storage][integration]") {
    FakeGcsProcess fake;
    net::CurlTransport transport;
    FakeClock clock;
    GcsClientOptions o = emulator(fake);
    o.resumable_threshold = 300 * 1024;
    o.chunk_size = 512 * 1024;
    GcsClient client(transport, nullptr, clock, o);
    const std::string data = pattern(1300 * 1024 + 17);
    REQUIRE(fake.set_faults(
        transport,
        json::array({{{"fault", "partial"}, {"first_n", 1}, {"ops", {"resumable-chunk"}}},
                     {{"fault", "503"}, {"first_n", 1}, {"ops", {"resumable-status"}}}})));
    Preconditions create;
    create.if_generation_match = 0;
    auto m = client.upload({k_bucket, "big/blob.bin"}, data, "application/octet-stream", create);
    REQUIRE(m.ok());
    CHECK(m->size == data.size());
    CHECK(client.read({k_bucket, "big/blob.bin"}).value().data == data);
    int chunks = 0;
    int questions = 0;
    for (const auto& e : fake.log(transport)) {
        chunks += e["kind"] == "resumable-chunk" ? 1 : 0;
        questions += e["kind"] == "resumable-status" ? 1 : 0;
    }
    CHECK(chunks >= 4);
    CHECK(questions == 2);  // the first answered 503, the second said where to resume
}
