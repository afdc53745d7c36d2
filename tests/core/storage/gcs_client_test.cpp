#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/storage/gcs_test_support.hpp"
#include "storage/gcs_client.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using test::FakeClock;
using test::gcs::error_json;
using test::gcs::FixedTokens;
using test::gcs::header_of;
using test::gcs::object_json;
using test::gcs::ScriptedTransport;
using util::Code;

namespace {

const std::string k_token = "ya29.test-token-123";
const GcsUrl k_obj{"assets-bucket", "job/a.png"};

struct Rig {
    ScriptedTransport transport;
    FixedTokens tokens{k_token};
    FakeClock clock;
    std::vector<std::string> log;
    GcsClient client;

    explicit Rig(GcsClientOptions options = {})
        : client(transport, &tokens, clock, with_log(std::move(options), log)) {}

    static GcsClientOptions with_log(GcsClientOptions o, std::vector<std::string>& log) {
        o.log = [&log](const std::string& line) { log.push_back(line); };
        return o;
    }
    std::int64_t slept_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   clock.steady().time_since_epoch())
            .count();
    }
    bool log_mentions(const std::string& s) const {
        for (const auto& l : log) {
            if (l.find(s) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

Preconditions generation_match(std::int64_t g) {
    Preconditions p;
    p.if_generation_match = g;
    return p;
}

}  // namespace

TEST_CASE("storage: an upload sends the bearer token and returns the object's metadata",
          "[storage]") {
    Rig rig;
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 42, "PNG", "image/png"));
    auto m = rig.client.upload(k_obj, "PNG", "image/png");
    REQUIRE(m.ok());
    CHECK(m->generation == 42);
    CHECK(m->size == 3);
    REQUIRE(rig.transport.requests.size() == 1);
    const auto& r = rig.transport.requests[0];
    CHECK(r.url ==
          "https://storage.googleapis.com/upload/storage/v1/b/assets-bucket/o?"
          "uploadType=media&name=job%2Fa.png");
    CHECK(header_of(r, "Authorization") == "Bearer " + k_token);
    CHECK(r.describe().find(k_token) == std::string::npos);
}

TEST_CASE("storage: emulator endpoints and a null token source send no credentials", "[storage]") {
    GcsClientOptions o;
    o.endpoint =
        resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", "127.0.0.1:9"}}));
    Rig rig(o);
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 1, "x"));
    REQUIRE(rig.client.upload(k_obj, "x", "").ok());
    CHECK(rig.transport.requests[0].url.rfind("http://127.0.0.1:9/upload/storage/v1/b/", 0) == 0);
    CHECK(header_of(rig.transport.requests[0], "Authorization").empty());
    CHECK(rig.tokens.calls == 0);

    ScriptedTransport t;
    FakeClock clock;
    GcsClient anonymous(t, nullptr, clock);
    t.push(200, object_json("assets-bucket", "job/a.png", 1, "x"));
    REQUIRE(anonymous.stat(k_obj).ok());
    CHECK(header_of(t.requests[0], "Authorization").empty());
}

TEST_CASE("storage: a stored crc32c that differs from the bytes sent fails the upload",
          "[storage]") {
    Rig rig;
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 9, "something else"));
    auto m = rig.client.upload(k_obj, "PNG", "image/png");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::storage_io);
    CHECK(m.status().message().find("crc32c") != std::string::npos);
}

TEST_CASE("storage: a write without a precondition is not retried on 503", "[storage]") {
    Rig rig;
    rig.transport.push(503, error_json(503, "backendError", "Backend Error"));
    auto m = rig.client.upload(k_obj, "PNG", "image/png");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::unavailable);
    CHECK(rig.transport.requests.size() == 1);
    CHECK(rig.clock.sleeps() == 0);
    CHECK(rig.log_mentions("not retried"));

    SECTION("nor on a lost connection") {
        rig.transport.push_error(Code::unavailable, "connection reset by peer");
        CHECK(rig.client.upload(k_obj, "PNG", "").status().code() == Code::unavailable);
        CHECK(rig.transport.requests.size() == 2);
    }
    SECTION("unless the idempotency policy says every write may be repeated") {
        GcsClientOptions o;
        o.retry.idempotency.retry_writes_without_precondition = true;
        Rig loose(o);
        loose.transport.push(503, "");
        loose.transport.push(200, object_json("assets-bucket", "job/a.png", 3, "PNG"));
        CHECK(loose.client.upload(k_obj, "PNG", "").ok());
        CHECK(loose.transport.requests.size() == 2);
    }
}

TEST_CASE("storage: a write with ifGenerationMatch is retried with backoff on 503", "[storage]") {
    Rig rig;
    rig.transport.push(503, error_json(503, "backendError", "Backend Error"));
    rig.transport.push_error(Code::unavailable, "connection reset by peer");
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 7, "PNG"));
    auto m = rig.client.upload(k_obj, "PNG", "image/png", generation_match(0));
    REQUIRE(m.ok());
    CHECK(m->generation == 7);
    REQUIRE(rig.transport.requests.size() == 3);
    for (const auto& r : rig.transport.requests) {
        CHECK(r.url.find("ifGenerationMatch=0") != std::string::npos);
    }
    CHECK(rig.clock.sleeps() <= 2);
    CHECK(rig.slept_ms() <= 1000 + 2000);  // full jitter under 1 s, then under 2 s
    CHECK(rig.log_mentions("retrying in"));
    for (const auto& line : rig.log) {
        CHECK(line.find(k_token) == std::string::npos);
    }
}

TEST_CASE("storage: 412 is never retried and is detectable", "[storage]") {
    Rig rig;
    rig.transport.push(
        412, error_json(412, "conditionNotMet",
                        "At least one of the pre-conditions you specified did not hold."));
    auto m = rig.client.upload(k_obj, "PNG", "image/png", generation_match(5));
    REQUIRE_FALSE(m.ok());
    CHECK(is_precondition_failed(m.status()));
    CHECK(m.status().http_status() == 412);
    CHECK(rig.transport.requests.size() == 1);
    CHECK(rig.clock.sleeps() == 0);

    rig.transport.push(412, error_json(412, "conditionNotMet", "no"));
    std::vector<ComposeSource> sources = {{"day.jsonl", 1}, {"part.jsonl", std::nullopt}};
    auto c = rig.client.compose({"assets-bucket", "day.jsonl"}, sources, "", generation_match(1));
    CHECK(is_precondition_failed(c.status()));
    CHECK(rig.transport.requests.size() == 2);
}

TEST_CASE("storage: reads are retried on 429 and 503 with growing backoff", "[storage]") {
    Rig rig;
    rig.transport.push(429, error_json(429, "rateLimitExceeded", "slow down"));
    rig.transport.push(503, error_json(503, "backendError", "Backend Error"));
    rig.transport.push_error(Code::deadline_exceeded, "timed out");
    rig.transport.push(200, "line\n",
                       {{"x-goog-generation", "77"},
                        {"x-goog-metageneration", "2"},
                        {"x-goog-hash", "crc32c=" + crc32c_base64("line\n") + ",md5=x"}});
    auto d = rig.client.read(k_obj);
    REQUIRE(d.ok());
    CHECK(d->data == "line\n");
    CHECK(d->generation == 77);
    CHECK(d->metageneration == 2);
    CHECK(rig.transport.requests.size() == 4);
    CHECK(rig.transport.requests[0].url ==
          "https://storage.googleapis.com/storage/v1/b/assets-bucket/o/job%2Fa.png?alt=media");
    CHECK(rig.slept_ms() <= 1000 + 2000 + 4000);
}

TEST_CASE("storage: a server's Retry-After wins over a shorter backoff", "[storage]") {
    Rig rig;
    rig.transport.push(429, "", {{"retry-after", "7"}});
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 1, "x"));
    REQUIRE(rig.client.stat(k_obj).ok());
    CHECK(rig.slept_ms() == 7000);
}

TEST_CASE("storage: reads give up after the retry policy's attempts", "[storage]") {
    GcsClientOptions o;
    o.retry.retry.max_attempts = 3;
    Rig rig(o);
    for (int i = 0; i < 5; ++i) {
        rig.transport.push(503, "");
    }
    auto d = rig.client.read(k_obj);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Code::unavailable);
    CHECK(d.status().message().find("(after 3 attempts)") != std::string::npos);
    CHECK(rig.transport.requests.size() == 3);
    CHECK(rig.log_mentions("giving up"));

    SECTION("and stop at the time limit") {
        GcsClientOptions t;
        t.retry.retry.max_elapsed = std::chrono::milliseconds(5000);
        Rig timed(t);
        for (int i = 0; i < 3; ++i) {
            timed.transport.push(429, "", {{"retry-after", "3"}});
        }
        CHECK(timed.client.read(k_obj).status().code() == Code::rate_limited);
        CHECK(timed.transport.requests.size() == 2);  // 3 s + 3 s would pass 5 s
    }
}

TEST_CASE("storage: permanent read failures are not retried", "[storage]") {
    Rig rig;
    rig.transport.push(404, error_json(404, "notFound", "No such object: assets-bucket/job/a.png"));
    auto d = rig.client.read(k_obj);
    CHECK(d.status().code() == Code::not_found);
    rig.transport.push(403, error_json(403, "forbidden", "no access"));
    CHECK(rig.client.read(k_obj).status().code() == Code::permission_denied);
    rig.transport.push(401, error_json(401, "required", "Login Required"));
    CHECK(rig.client.stat(k_obj).status().code() == Code::unauthenticated);
    CHECK(rig.transport.requests.size() == 3);
    CHECK(rig.clock.sleeps() == 0);
}

TEST_CASE("storage: a read whose body fails its crc32c is read again", "[storage]") {
    Rig rig;
    rig.transport.push(200, "tru", {{"x-goog-hash", "crc32c=" + crc32c_base64("truncated")}});
    rig.transport.push(200, "truncated", {{"x-goog-hash", "crc32c=" + crc32c_base64("truncated")}});
    auto d = rig.client.read(k_obj);
    REQUIRE(d.ok());
    CHECK(d->data == "truncated");
    CHECK(rig.transport.requests.size() == 2);
}

TEST_CASE("storage: an object over the read cap fails once, without retries", "[storage]") {
    Rig rig;
    rig.transport.push_error(Code::bad_response, "GET ...: response body over 10 bytes");
    rig.transport.push(200, object_json("assets-bucket", "job/a.png", 1, std::string(50, 'x')));
    auto d = rig.client.read(k_obj, 10);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Code::storage_io);
    CHECK(d.status().message().find("over the read limit of 10") != std::string::npos);
    CHECK(rig.transport.requests.size() == 2);
    CHECK(rig.transport.requests[0].max_response_bytes == 10);
}

TEST_CASE("storage: a token failure before sending makes even a plain write safe to retry",
          "[storage]") {
    ScriptedTransport t;
    FixedTokens tokens(k_token, 1);
    FakeClock clock;
    GcsClient client(t, &tokens, clock);
    t.push(200, object_json("assets-bucket", "job/a.png", 2, "x"));
    REQUIRE(client.upload(k_obj, "x", "").ok());
    CHECK(t.requests.size() == 1);
    CHECK(tokens.calls == 2);
}

TEST_CASE("storage: list follows page tokens to the end", "[storage]") {
    Rig rig;
    rig.transport.push(
        200,
        R"({"items":[{"name":"p/a","generation":"1"},{"name":"p/b","generation":"2"}],"nextPageToken":"T1"})");
    rig.transport.push(503, "");
    rig.transport.push(200, R"({"items":[{"name":"p/c","generation":"3","size":"9"}]})");
    auto l = rig.client.list("assets-bucket", "p/");
    REQUIRE(l.ok());
    REQUIRE(l->size() == 3);
    CHECK((*l)[2].name == "p/c");
    CHECK((*l)[2].generation == 3);
    CHECK((*l)[2].size == 9);
    REQUIRE(rig.transport.requests.size() == 3);
    CHECK(rig.transport.requests[0].url.find("pageToken") == std::string::npos);
    CHECK(rig.transport.requests[2].url.find("&pageToken=T1") != std::string::npos);
}

TEST_CASE("storage: deletes are retried only with a generation or ifGenerationMatch", "[storage]") {
    Rig rig;
    rig.transport.push(503, "");
    CHECK(rig.client.remove(k_obj).code() == Code::unavailable);
    CHECK(rig.transport.requests.size() == 1);
    CHECK(rig.transport.requests[0].method == "DELETE");

    rig.transport.push(503, "");
    rig.transport.push(204, "");
    CHECK(rig.client.remove(k_obj, 12).ok());
    CHECK(rig.transport.requests.size() == 3);
    CHECK(rig.transport.requests[2].url.find("?generation=12") != std::string::npos);

    rig.transport.push(503, "");
    rig.transport.push(204, "");
    CHECK(rig.client.remove(k_obj, std::nullopt, generation_match(12)).ok());
    CHECK(rig.transport.requests.size() == 5);

    rig.transport.push(404, error_json(404, "notFound", "No such object"));
    CHECK(rig.client.remove(k_obj).code() == Code::not_found);
}

TEST_CASE("storage: compose checks its sources and is retried only with a precondition",
          "[storage]") {
    Rig rig;
    std::vector<ComposeSource> too_many(33, ComposeSource{"part", std::nullopt});
    CHECK(rig.client.compose({"assets-bucket", "day"}, too_many, "").status().code() ==
          Code::invalid_input);
    CHECK(rig.client.compose({"assets-bucket", "day"}, {}, "").status().code() ==
          Code::invalid_input);
    CHECK(rig.client.compose({"assets-bucket", "day"}, {{"", std::nullopt}}, "").status().code() ==
          Code::invalid_input);
    CHECK(rig.transport.requests.empty());

    std::vector<ComposeSource> two = {{"day", 5}, {"part-1", std::nullopt}};
    rig.transport.push(503, "");
    CHECK(
        rig.client.compose({"assets-bucket", "day"}, two, "application/x-ndjson").status().code() ==
        Code::unavailable);
    CHECK(rig.transport.requests.size() == 1);

    rig.transport.push(503, "");
    rig.transport.push(200,
                       object_json("assets-bucket", "day", 6, "ab", "application/x-ndjson", 2));
    auto m = rig.client.compose({"assets-bucket", "day"}, two, "application/x-ndjson",
                                generation_match(5));
    REQUIRE(m.ok());
    CHECK(m->component_count == 2);
    CHECK(rig.transport.requests.size() == 3);
    CHECK(rig.transport.requests[2].url ==
          "https://storage.googleapis.com/storage/v1/b/assets-bucket/o/day/"
          "compose?ifGenerationMatch=5");
}

TEST_CASE("storage: invalid names are refused before anything is sent", "[storage]") {
    Rig rig;
    CHECK(rig.client.upload({"Bad_Bucket", "x"}, "x", "").status().code() == Code::invalid_input);
    CHECK(rig.client.read({"assets-bucket", "a\nb"}).status().code() == Code::invalid_input);
    CHECK(rig.client.stat({"assets-bucket", ""}).status().code() == Code::invalid_input);
    CHECK(rig.client.list("goog-x", "").status().code() == Code::invalid_input);
    CHECK(rig.transport.requests.empty());
}

TEST_CASE("storage: request descriptions hide tokens and upload ids", "[storage]") {
    net::HttpRequest r;
    r.method = "PUT";
    r.url =
        "https://storage.googleapis.com/upload/storage/v1/b/b-1/o?uploadType=resumable&"
        "upload_id=ADPycdsSECRET&name=x";
    r.headers = {{"Authorization", "Bearer " + k_token}};
    std::string d = describe_gcs_request(r);
    CHECK(d.find("SECRET") == std::string::npos);
    CHECK(d.find(k_token) == std::string::npos);
    CHECK(d.find("upload_id=[REDACTED]&name=x") != std::string::npos);
}
