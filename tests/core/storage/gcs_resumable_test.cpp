#include <unistd.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "core/storage/session_server.hpp"
#include "storage/gcs_client.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/safe_dir.hpp"
#include "util/temp_stream.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using test::FakeClock;
using test::gcs::FixedTokens;
using test::gcs::ScriptedTransport;
using test::gcs::SessionServer;
using util::Code;

namespace {

constexpr std::size_t k_kib = 1024;

// A rig whose transport is a resumable session; uploads above 512 KiB go resumable.
struct ResumableRig {
    ScriptedTransport transport;
    FixedTokens tokens{"ya29.session-token"};
    FakeClock clock;
    SessionServer server;
    GcsClient client;

    explicit ResumableRig(std::size_t chunk = 256 * k_kib)
        : client(transport, &tokens, clock, options(chunk)) {
        transport.set_handler([this](const net::HttpRequest& r) { return server.handle(r); });
    }
    static GcsClientOptions options(std::size_t chunk) {
        GcsClientOptions o;
        o.resumable_threshold = 512 * k_kib;
        o.chunk_size = chunk;
        return o;
    }
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 131 + i / 7) & 0xFF);
    }
    return s;
}

const GcsUrl k_big{"assets-bucket", "big.bin"};

}  // namespace

TEST_CASE("storage: a large upload goes through a resumable session in 256 KiB multiples",
          "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(k_kib * k_kib + 1234);
    Preconditions pre;
    pre.if_generation_match = 0;
    auto m = rig.client.upload(k_big, data, "application/octet-stream", pre);
    REQUIRE(m.ok());
    CHECK(m->generation == 4242);
    CHECK(rig.server.stored == data);
    CHECK(rig.server.starts == 1);
    const auto& start = rig.transport.requests.front();
    CHECK(start.url.find("uploadType=resumable&name=big.bin&ifGenerationMatch=0") !=
          std::string::npos);
    CHECK(rig.server.ranges == std::vector<std::string>{"bytes 0-262143/*", "bytes 262144-524287/*",
                                                        "bytes 524288-786431/*",
                                                        "bytes 786432-1048575/*",
                                                        "bytes 1048576-1049809/1049810"});
    for (std::size_t i = 1; i < rig.transport.requests.size(); ++i) {
        CHECK(rig.transport.requests[i].url ==
              rig.server.session_url);  // no precondition on chunks
    }
    // The session URI is on the endpoint's origin, so chunks carry the token.
    CHECK(rig.server.auth.front() == "Bearer ya29.session-token");
}

TEST_CASE("storage: small uploads stay single requests", "[storage]") {
    ResumableRig rig;
    rig.transport.set_handler([](const net::HttpRequest&) -> util::Result<net::HttpResponse> {
        net::HttpResponse r;
        r.status = 200;
        r.body = test::gcs::object_json("assets-bucket", "small", 1, std::string(512 * k_kib, 'x'));
        return r;
    });
    REQUIRE(rig.client.upload({"assets-bucket", "small"}, std::string(512 * k_kib, 'x'), "").ok());
    CHECK(rig.transport.requests.size() == 1);
    CHECK(rig.transport.requests[0].url.find("uploadType=media") != std::string::npos);
}

TEST_CASE("storage: an interrupted chunk resumes from what the session reports", "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(900 * k_kib);
    // Chunk 1 is fine, chunk 2's connection resets, then the status query answers.
    rig.server.faults = {"", "", "reset"};
    auto m = rig.client.upload(k_big, data, "");  // no precondition: the session is the key
    REQUIRE(m.ok());
    CHECK(rig.server.stored == data);
    CHECK(rig.server.queries == 1);
    // The reset chunk never reached the server: start, chunk 1, chunk 2 (reset), question, chunk 2.
    REQUIRE(rig.transport.requests.size() >= 5);
    CHECK(test::gcs::header_of(rig.transport.requests[2], "Content-Range") ==
          "bytes 262144-524287/*");
    CHECK(rig.server.ranges[1] == "bytes */921600");
    CHECK(rig.server.ranges[2] == "bytes 262144-524287/*");
    CHECK(rig.clock.sleeps() <= 1);
}

TEST_CASE("storage: a chunk cut short after 256 KiB is resent from the kept offset", "[storage]") {
    ResumableRig rig(512 * k_kib);
    const std::string data = pattern(1200 * k_kib);
    rig.server.faults = {"503-after-256K"};
    auto m = rig.client.upload(k_big, data, "");
    REQUIRE(m.ok());
    CHECK(rig.server.stored == data);
    CHECK(rig.server.ranges[0] == "bytes 0-524287/*");
    CHECK(rig.server.ranges[1] == "bytes */1228800");
    CHECK(rig.server.ranges[2] == "bytes 262144-786431/*");
}

TEST_CASE("storage: a final chunk whose answer was lost completes once", "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(600 * k_kib);
    rig.server.faults = {"", "", "", "lost"};  // start, chunk 1, chunk 2, final chunk
    auto m = rig.client.upload(k_big, data, "");
    REQUIRE(m.ok());
    CHECK(m->generation == 4242);
    CHECK(rig.server.stored == data);
    CHECK(rig.server.completions == 1);
    CHECK(rig.server.queries == 1);
    CHECK(rig.server.ranges.back() == "bytes */614400");
}

TEST_CASE("storage: an expired upload session fails for good", "[storage]") {
    ResumableRig rig;
    rig.server.faults = {"", "", "404"};
    auto m = rig.client.upload(k_big, pattern(700 * k_kib), "");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::storage_io);
    CHECK(m.status().http_status() == 404);
    CHECK(m.status().message().find("expired") != std::string::npos);
    CHECK(m.status().message().find("SESSION1") == std::string::npos);
}

TEST_CASE("storage: a session URI on another origin gets no token", "[storage]") {
    ResumableRig rig;
    rig.server.session_url = "https://uploads.example.net/session?upload_id=S2";
    REQUIRE(rig.client.upload(k_big, pattern(600 * k_kib), "").ok());
    for (const auto& a : rig.server.auth) {
        CHECK(a.empty());
    }
}

TEST_CASE("storage: opening a session is retried even without a precondition", "[storage]") {
    ResumableRig rig;
    rig.server.faults = {"503"};
    REQUIRE(rig.client.upload(k_big, pattern(600 * k_kib), "").ok());
    CHECK(rig.server.starts == 1);
    CHECK(rig.transport.requests[0].method == "POST");
    CHECK(rig.transport.requests[1].method == "POST");
}

TEST_CASE("storage: request log lines hide the token and the session's upload id", "[storage]") {
    ScriptedTransport transport;
    FixedTokens tokens("ya29.session-token");
    FakeClock clock;
    SessionServer server;
    std::vector<std::string> lines;
    GcsClientOptions o = ResumableRig::options(256 * k_kib);
    o.log = [&lines](const std::string& l) { lines.push_back(l); };
    o.log_requests = true;
    GcsClient client(transport, &tokens, clock, o);
    transport.set_handler([&server](const net::HttpRequest& r) { return server.handle(r); });
    server.faults = {"", "reset"};
    REQUIRE(client.upload(k_big, pattern(600 * k_kib), "").ok());
    REQUIRE(lines.size() >= 5);
    bool saw_308 = false;
    for (const auto& l : lines) {
        INFO(l);
        CHECK(l.find("SESSION1") == std::string::npos);
        CHECK(l.find("ya29") == std::string::npos);
        saw_308 = saw_308 || l.find("→ 308") != std::string::npos;
    }
    CHECK(saw_308);
    CHECK(lines[1].find("upload_id=[REDACTED]") != std::string::npos);
}

namespace {

// A nameless temp file holding data (closed with the holder).
struct TempFileWith {
    util::UniqueFd fd;
    explicit TempFileWith(const std::string& data) {
        auto made = util::anonymous_temp_file("a resumable test");
        REQUIRE(made.ok());
        fd = util::UniqueFd(*made);
        REQUIRE(::pwrite(fd.get(), data.data(), data.size(), 0) ==
                static_cast<ssize_t>(data.size()));
    }
};

}  // namespace

TEST_CASE("storage: an upload from a file goes up a chunk at a time, as one from memory",
          "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(900 * k_kib);
    TempFileWith file(data);
    rig.server.faults = {"", "", "reset"};  // chunk 2 resets: resumed from what the session holds
    auto m = rig.client.upload_from(k_big, fd_byte_source(file.fd.get(), data.size(), "big.bin"),
                                    "text/csv");
    REQUIRE(m.ok());
    CHECK(rig.server.stored == data);
    CHECK(rig.server.starts == 1);
    CHECK(rig.server.queries == 1);
    CHECK(rig.server.ranges ==
          std::vector<std::string>{"bytes 0-262143/*", "bytes */921600", "bytes 262144-524287/*",
                                   "bytes 524288-786431/*", "bytes 786432-921599/921600"});
    // No request carried more than one chunk of the file.
    for (const auto& r : rig.transport.requests) {
        CHECK(r.body.size() <= 256 * k_kib);
    }
}

TEST_CASE("storage: a small upload from a file is one media request", "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(100 * k_kib);
    TempFileWith file(data);
    std::string sent;
    rig.transport.set_handler([&](const net::HttpRequest& r) -> util::Result<net::HttpResponse> {
        sent = r.body;
        net::HttpResponse a;
        a.status = 200;
        a.body = test::gcs::object_json("assets-bucket", "small", 1, data);
        return a;
    });
    REQUIRE(rig.client
                .upload_from({"assets-bucket", "small"},
                             fd_byte_source(file.fd.get(), data.size(), "small"), "")
                .ok());
    REQUIRE(rig.transport.requests.size() == 1);
    CHECK(rig.transport.requests[0].url.find("uploadType=media") != std::string::npos);
    CHECK(sent == data);
}

TEST_CASE("storage: a file shorter than its stated size fails before any byte is sent",
          "[storage]") {
    ResumableRig rig;
    TempFileWith file(pattern(600 * k_kib));
    auto m = rig.client.upload_from(k_big, fd_byte_source(file.fd.get(), 700 * k_kib, "r.csv"), "");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::storage_io);
    CHECK(m.status().message().find("r.csv: the file ended at 614400 of 716800 bytes") !=
          std::string::npos);
    CHECK(rig.transport.requests.empty());
}

TEST_CASE("storage: a source that fails mid-upload ends it without retrying the read",
          "[storage]") {
    ResumableRig rig;
    int reads = 0;
    ByteSource failing{900 * k_kib, [&](std::uint64_t offset, std::size_t n, std::string& out) {
                           ++reads;
                           // The checksum pass reads everything; the second read of 256 KiB
                           // for sending fails.
                           if (reads > 4 && offset >= 256 * k_kib) {
                               return util::Status(Code::storage_io, "r.csv: read failed");
                           }
                           out = pattern(900 * k_kib).substr(offset, n);
                           return util::ok_status();
                       }};
    auto m = rig.client.upload_from(k_big, failing, "");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().message() == "r.csv: read failed");
    CHECK(reads == 6);  // 4 for the checksum, chunk 1, chunk 2 once (no retry)
    CHECK(rig.server.stored.size() == 256 * k_kib);
}

TEST_CASE("storage: GcsStorage::put_from_fd writes the file's bytes create-only", "[storage]") {
    ResumableRig rig;
    const std::string data = pattern(700 * k_kib);
    TempFileWith file(data);
    GcsStorage store(std::make_unique<GcsClient>(rig.transport, &rig.tokens, rig.clock,
                                                 ResumableRig::options(256 * k_kib)));
    REQUIRE(store.put_from_fd("gs://assets-bucket/big.bin", file.fd.get(), data.size(), "text/csv")
                .ok());
    CHECK(rig.server.stored == data);
    CHECK(rig.transport.requests.front().url.find("ifGenerationMatch=0") != std::string::npos);
}

TEST_CASE("storage: LocalStorage::put_from_fd copies the file into place", "[storage]") {
    test::TempDir dir;
    const std::string data = pattern(300 * k_kib);
    TempFileWith file(data);
    LocalStorage local;
    REQUIRE(local.put_from_fd(dir.file("r.csv"), file.fd.get(), data.size(), "text/csv").ok());
    auto back = local.get(dir.file("r.csv"));
    REQUIRE(back.ok());
    CHECK(*back == data);
}
