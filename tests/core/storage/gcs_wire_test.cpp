#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/storage/gcs_test_support.hpp"
#include "storage/gcs_wire.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using assetgen::test::gcs::header_of;
using util::Code;

namespace {

const GcsEndpoint k_google{};
const GcsUrl k_target{"my-bucket", "images/a b.png"};

}  // namespace

TEST_CASE("storage: the endpoint follows the emulator variables", "[storage]") {
    auto none = resolve_gcs_endpoint(auth::Env::from_map({}));
    CHECK(none.base == "https://storage.googleapis.com");
    CHECK_FALSE(none.emulator);

    auto host =
        resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", "localhost:9023"}}));
    CHECK(host.base == "http://localhost:9023");
    CHECK(host.emulator);

    auto url =
        resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", "https://emu:8443/"}}));
    CHECK(url.base == "https://emu:8443");

    auto cpp = resolve_gcs_endpoint(
        auth::Env::from_map({{"CLOUD_STORAGE_EMULATOR_ENDPOINT", "http://127.0.0.1:9000"}}));
    CHECK(cpp.base == "http://127.0.0.1:9000");
    CHECK(cpp.emulator);

    auto both = resolve_gcs_endpoint(auth::Env::from_map(
        {{"STORAGE_EMULATOR_HOST", "a:1"}, {"CLOUD_STORAGE_EMULATOR_ENDPOINT", "http://b:2"}}));
    CHECK(both.base == "http://a:1");

    // Another endpoint that still takes credentials (Private Service Connect, a test server).
    auto psc = resolve_gcs_endpoint(
        auth::Env::from_map({{"ASSETGEN_GCS_ENDPOINT", "storage-x.p.googleapis.com/"}}));
    CHECK(psc.base == "https://storage-x.p.googleapis.com");
    CHECK_FALSE(psc.emulator);
    auto emulator_wins = resolve_gcs_endpoint(auth::Env::from_map(
        {{"ASSETGEN_GCS_ENDPOINT", "http://c:3"}, {"STORAGE_EMULATOR_HOST", "a:1"}}));
    CHECK(emulator_wins.base == "http://a:1");
    CHECK(emulator_wins.emulator);
}

TEST_CASE("storage: a small upload is one uploadType=media POST", "[storage]") {
    Preconditions pre;
    pre.if_generation_match = 0;
    auto r = media_upload_request(k_google, k_target, "PNG", "image/png", pre);
    CHECK(r.method == "POST");
    CHECK(r.url ==
          "https://storage.googleapis.com/upload/storage/v1/b/my-bucket/o?uploadType=media&"
          "name=images%2Fa%20b.png&ifGenerationMatch=0");
    CHECK(header_of(r, "Content-Type") == "image/png");
    CHECK(header_of(r, "Authorization").empty());
    CHECK(r.body == "PNG");
    // No type: application/octet-stream, and all four preconditions in a fixed order.
    Preconditions all;
    all.if_generation_match = 1;
    all.if_generation_not_match = 2;
    all.if_metageneration_match = 3;
    all.if_metageneration_not_match = 4;
    auto r2 = media_upload_request(k_google, k_target, "", "", all);
    CHECK(header_of(r2, "Content-Type") == "application/octet-stream");
    CHECK(r2.url.find("&ifGenerationMatch=1&ifGenerationNotMatch=2&ifMetagenerationMatch=3&"
                      "ifMetagenerationNotMatch=4") != std::string::npos);
}

TEST_CASE("storage: resumable sessions start with metadata and send Content-Range chunks",
          "[storage]") {
    Preconditions pre;
    pre.if_generation_match = 17;
    auto start = resumable_start_request(k_google, k_target, "image/png", 300001, pre);
    CHECK(start.method == "POST");
    CHECK(start.url ==
          "https://storage.googleapis.com/upload/storage/v1/b/my-bucket/o?uploadType=resumable&"
          "name=images%2Fa%20b.png&ifGenerationMatch=17");
    CHECK(header_of(start, "X-Upload-Content-Type") == "image/png");
    CHECK(header_of(start, "X-Upload-Content-Length") == "300001");
    CHECK(header_of(start, "Content-Type") == "application/json; charset=UTF-8");
    auto meta = nlohmann::json::parse(start.body);
    CHECK(meta["name"] == "images/a b.png");
    CHECK(meta["contentType"] == "image/png");

    const std::string session =
        "https://storage.googleapis.com/upload/storage/v1/b/my-bucket/"
        "o?uploadType=resumable&upload_id=XYZ";
    auto first = resumable_chunk_request(session, std::string(262144, 'a'), 0, std::nullopt);
    CHECK(first.method == "PUT");
    CHECK(first.url == session);
    CHECK(header_of(first, "Content-Range") == "bytes 0-262143/*");
    auto last = resumable_chunk_request(session, std::string(37857, 'b'), 262144, 300001);
    CHECK(header_of(last, "Content-Range") == "bytes 262144-300000/300001");
    auto finish = resumable_chunk_request(session, "", 300001, 300001);
    CHECK(header_of(finish, "Content-Range") == "bytes */300001");
    auto status = resumable_status_request(session, 300001);
    CHECK(status.method == "PUT");
    CHECK(status.body.empty());
    CHECK(header_of(status, "Content-Range") == "bytes */300001");
}

TEST_CASE("storage: reads, metadata, lists and deletes use the documented paths", "[storage]") {
    Preconditions pre;
    pre.if_metageneration_match = 2;
    auto read = read_request(k_google, {"b-1", "ledger/2025-11-24.jsonl"}, 5, pre);
    CHECK(read.method == "GET");
    CHECK(read.url ==
          "https://storage.googleapis.com/storage/v1/b/b-1/o/ledger%2F2025-11-24.jsonl"
          "?alt=media&generation=5&ifMetagenerationMatch=2");
    auto stat = stat_request(k_google, {"b-1", "x"}, {});
    CHECK(stat.url == "https://storage.googleapis.com/storage/v1/b/b-1/o/x");
    auto list = list_request(k_google, "b-1", "ledger/", "tok=en/+", 1000);
    CHECK(list.url ==
          "https://storage.googleapis.com/storage/v1/b/b-1/o?prefix=ledger%2F&"
          "maxResults=1000&pageToken=tok%3Den%2F%2B");
    CHECK(list_request(k_google, "b-1", "", "", 10).url ==
          "https://storage.googleapis.com/storage/v1/b/b-1/o?maxResults=10");
    Preconditions match;
    match.if_generation_match = 7;
    auto del = delete_request(k_google, {"b-1", "x y"}, 7, match);
    CHECK(del.method == "DELETE");
    CHECK(
        del.url ==
        "https://storage.googleapis.com/storage/v1/b/b-1/o/x%20y?generation=7&ifGenerationMatch=7");
}

TEST_CASE("storage: compose sends sources with their preconditions", "[storage]") {
    Preconditions pre;
    pre.if_generation_match = 0;
    auto r = compose_request(
        k_google, {"b-1", "ledger/day.jsonl"},
        {{"ledger/day.jsonl", 1709618828123456}, {"parts/w1-7.jsonl", std::nullopt}},
        "application/x-ndjson", pre);
    CHECK(r.method == "POST");
    CHECK(r.url ==
          "https://storage.googleapis.com/storage/v1/b/b-1/o/ledger%2Fday.jsonl/compose"
          "?ifGenerationMatch=0");
    CHECK(header_of(r, "Content-Type") == "application/json; charset=UTF-8");
    auto body = nlohmann::json::parse(r.body);
    REQUIRE(body["sourceObjects"].size() == 2);
    CHECK(body["sourceObjects"][0]["name"] == "ledger/day.jsonl");
    CHECK(body["sourceObjects"][0]["objectPreconditions"]["ifGenerationMatch"] ==
          "1709618828123456");
    CHECK(body["sourceObjects"][1]["name"] == "parts/w1-7.jsonl");
    CHECK_FALSE(body["sourceObjects"][1].contains("objectPreconditions"));
    CHECK(body["destination"]["contentType"] == "application/x-ndjson");
}

TEST_CASE("storage: object resources parse int64 strings, hashes and component counts",
          "[storage]") {
    auto m = parse_object_metadata(R"({"kind":"storage#object","name":"ledger/2024-03-05.jsonl",
        "bucket":"my-bucket","generation":"1709618828123456","metageneration":"3",
        "contentType":"application/x-ndjson","size":"22","crc32c":"tQDepA==",
        "updated":"2024-03-05T06:07:08.123Z","componentCount":2})");
    REQUIRE(m.ok());
    CHECK(m->name == "ledger/2024-03-05.jsonl");
    CHECK(m->bucket == "my-bucket");
    CHECK(m->generation == 1709618828123456);
    CHECK(m->metageneration == 3);
    CHECK(m->size == 22);
    CHECK(m->component_count == 2);
    CHECK(m->crc32c == "tQDepA==");
    CHECK(m->md5_hash.empty());
    CHECK(m->content_type == "application/x-ndjson");
    CHECK(m->updated == "2024-03-05T06:07:08.123Z");
    auto plain = parse_object_metadata(
        R"({"name":"a","generation":5,"md5Hash":"1B2M2Y8AsgTpgAmY7PhCfg=="})");
    REQUIRE(plain.ok());
    CHECK(plain->component_count == 1);
    CHECK(plain->generation == 5);
    CHECK(plain->md5_hash == "1B2M2Y8AsgTpgAmY7PhCfg==");
    for (const char* bad : {"", "[]", "{\"name\":\"a\"}", "{\"generation\":\"1\"}", "{\"name\":"}) {
        INFO(bad);
        auto r = parse_object_metadata(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::bad_response);
    }
}

TEST_CASE("storage: list pages carry items, prefixes and the next page token", "[storage]") {
    auto p = parse_list_page(R"({"kind":"storage#objects","nextPageToken":"CgZh",
        "prefixes":["ledger/2025/"],
        "items":[{"name":"ledger/a","generation":"11","size":"3"},{"name":"ledger/b","generation":"12"}]})");
    REQUIRE(p.ok());
    REQUIRE(p->items.size() == 2);
    CHECK(p->items[0].name == "ledger/a");
    CHECK(p->items[0].generation == 11);
    CHECK(p->items[0].size == 3);
    CHECK(p->prefixes == std::vector<std::string>{"ledger/2025/"});
    CHECK(p->next_page_token == "CgZh");
    auto empty = parse_list_page(R"({"kind":"storage#objects"})");
    REQUIRE(empty.ok());
    CHECK(empty->items.empty());
    CHECK(empty->next_page_token.empty());
    CHECK_FALSE(parse_list_page("<html>").ok());
}

TEST_CASE("storage: a 308's Range header says how many bytes the session holds", "[storage]") {
    CHECK(parse_persisted_bytes("").value() == 0);
    CHECK(parse_persisted_bytes("bytes=0-262143").value() == 262144);
    CHECK(parse_persisted_bytes(" bytes=0-0 ").value() == 1);
    for (const char* bad : {"bytes=5-9", "bytes=0-", "bytes=0-x", "0-10", "bytes 0-10"}) {
        INFO(bad);
        CHECK(parse_persisted_bytes(bad).status().code() == Code::bad_response);
    }
}

TEST_CASE("storage: x-goog-hash values are found in one or several headers", "[storage]") {
    net::HttpResponse one;
    one.headers = {{"x-goog-hash", "crc32c=n03x6A==,md5=Ojk9c3dhfxgoKVVHYwFbHQ=="}};
    CHECK(goog_hash(one, "crc32c") == "n03x6A==");
    CHECK(goog_hash(one, "md5") == "Ojk9c3dhfxgoKVVHYwFbHQ==");
    net::HttpResponse two;
    two.headers = {{"x-goog-hash", "crc32c=AAAAAA=="},
                   {"X-Goog-Hash", "md5=1B2M2Y8AsgTpgAmY7PhCfg=="}};
    CHECK(goog_hash(two, "crc32c") == "AAAAAA==");
    CHECK(goog_hash(two, "md5") == "1B2M2Y8AsgTpgAmY7PhCfg==");
    CHECK(goog_hash(net::HttpResponse{}, "crc32c").empty());
}

TEST_CASE("storage: error answers map to codes; 412 stays detectable", "[storage]") {
    struct Case {
        int status;
        Code code;
    };
    for (auto [status, code] :
         {Case{400, Code::storage_io}, Case{401, Code::unauthenticated},
          Case{403, Code::permission_denied}, Case{404, Code::not_found},
          Case{408, Code::deadline_exceeded}, Case{409, Code::storage_io},
          Case{410, Code::not_found}, Case{412, Code::storage_io}, Case{429, Code::rate_limited},
          Case{500, Code::unavailable}, Case{502, Code::unavailable}, Case{503, Code::unavailable},
          Case{504, Code::deadline_exceeded}}) {
        INFO(status);
        net::HttpResponse r;
        r.status = status;
        r.body = test::gcs::error_json(status, "someReason", "Some message.");
        auto s = gcs_error(r, "upload gs://b-1/o");
        CHECK(s.code() == code);
        CHECK(s.http_status() == status);
        CHECK(is_precondition_failed(s) == (status == 412));
        CHECK(s.message() ==
              "upload gs://b-1/o: HTTP " + std::to_string(status) + " someReason: Some message.");
    }
    net::HttpResponse busy;
    busy.status = 429;
    busy.headers = {{"retry-after", "7"}};
    busy.body = "rate limited";
    auto s = gcs_error(busy, "read gs://b-1/o");
    CHECK(s.retry_after() == std::chrono::milliseconds(7000));
    CHECK(s.message() == "read gs://b-1/o: HTTP 429: rate limited");
    // A server that echoes credentials does not get them into a message.
    net::HttpResponse echo;
    echo.status = 401;
    echo.body =
        test::gcs::error_json(401, "authError", "Invalid Credentials: Bearer ya29.a0secret");
    auto e = gcs_error(echo, "stat gs://b-1/o");
    CHECK(e.message().find("ya29") == std::string::npos);
    CHECK_FALSE(is_precondition_failed(util::Status(Code::storage_io, "disk full")));
}
