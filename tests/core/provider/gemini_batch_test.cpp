#include <catch2/catch.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>

#include "provider/gemini_batch.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

const std::string k_key = "AIzaSyBATCHKEY0123456789abcdefghijklmno";

net::HttpResponse answer(int status, std::string body, net::Headers headers = {}) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

std::string google_error(int code, const std::string& status, const std::string& message) {
    return nlohmann::json{{"error", {{"code", code}, {"status", status}, {"message", message}}}}
        .dump();
}

std::string operation(const std::string& name, const std::string& display,
                      const std::string& state = "BATCH_STATE_PENDING") {
    return nlohmann::json{{"name", name},
                          {"metadata",
                           {{"name", name},
                            {"displayName", display},
                            {"state", state},
                            {"batchStats", {{"requestCount", "3"}}}}}}
        .dump();
}

std::string page(const std::vector<std::pair<std::string, std::string>>& batches,
                 const std::string& next = "") {
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& [name, display] : batches) {
        ops.push_back(nlohmann::json::parse(operation(name, display)));
    }
    nlohmann::json body = {{"operations", ops}};
    if (!next.empty()) {
        body["nextPageToken"] = next;
    }
    return body.dump();
}

// Answers each request with the next scripted handler (or the fallback) and records it.
class ScriptedTransport final : public net::HttpTransport {
public:
    using Handler = std::function<util::Result<net::HttpResponse>(const net::HttpRequest&)>;
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        Handler h;
        {
            std::lock_guard lock(m_mutex);
            requests.push_back(request);
            requests.back().on_body = nullptr;
            requests.back().body =
                request.body.size() > 4096 ? request.body.substr(0, 64) : request.body;
            bodies.push_back(request.body.size());
            if (!script.empty()) {
                h = std::move(script.front());
                script.pop_front();
            }
        }
        if (!h) {
            return util::Status(Code::internal, "no answer scripted for " + request.describe());
        }
        return h(request);
    }
    void then(util::Result<net::HttpResponse> r) {
        script.push_back([r](const net::HttpRequest&) { return r; });
    }
    void then(Handler h) { script.push_back(std::move(h)); }
    std::string header(std::size_t i, const std::string& name) const {
        for (const auto& [k, v] : requests.at(i).headers) {
            if (k == name) {
                return v;
            }
        }
        return "";
    }
    std::size_t count(const std::string& method, const std::string& url_part) const {
        return static_cast<std::size_t>(
            std::count_if(requests.begin(), requests.end(), [&](const net::HttpRequest& r) {
                return r.method == method && r.url.find(url_part) != std::string::npos;
            }));
    }

    std::vector<net::HttpRequest> requests;
    std::vector<std::size_t> bodies;
    std::deque<Handler> script;

private:
    std::mutex m_mutex;
};

GeminiBatchOptions options() {
    GeminiBatchOptions o;
    o.api_key = k_key;
    o.api_base = "https://gen.example";
    return o;
}

}  // namespace

TEST_CASE("upload: resumable start, chunks at the server's granularity, finalize",
          "[provider][batch]") {
    test::TempDir dir;
    const std::string path = dir.file("requests.jsonl");
    const std::size_t total = (20u << 20) + 5;
    {
        std::ofstream out(path, std::ios::binary);
        std::string block(1u << 20, 'a');
        for (int i = 0; i < 20; ++i) {
            out << block;
        }
        out << "12345";
    }
    ScriptedTransport t;
    test::FakeClock clock;
    t.then(answer(200, "",
                  {{"x-goog-upload-url", "https://up.example/session?upload_id=u1"},
                   {"x-goog-upload-status", "active"},
                   {"x-goog-upload-chunk-granularity", "8388608"}}));
    t.then(answer(200, "", {{"x-goog-upload-status", "active"}}));
    // the second chunk's answer is lost: the client asks what was kept, then resumes there
    t.then(util::Result<net::HttpResponse>(util::Status(Code::unavailable, "connection reset")));
    t.then(answer(200, "", {{"x-goog-upload-size-received", "8388608"}}));
    t.then(answer(200, "", {{"x-goog-upload-status", "active"}}));
    t.then(answer(200,
                  R"({"file":{"name":"files/in1","sizeBytes":")" + std::to_string(total) +
                      R"(","state":"ACTIVE"}})",
                  {{"x-goog-upload-status", "final"}}));
    auto o = options();
    o.upload_chunk_bytes = 10u << 20;  // rounded down to one 8 MiB granule
    GeminiBatchClient client(o, t, clock);
    auto file = client.upload_file(path, "job-1-chunk-0");
    REQUIRE(file.ok());
    CHECK(file->name == "files/in1");
    CHECK(file->size_bytes == static_cast<std::int64_t>(total));
    REQUIRE(t.requests.size() == 6);
    CHECK(t.requests[0].url == "https://gen.example/upload/v1beta/files");
    CHECK(t.header(0, "X-Goog-Upload-Protocol") == "resumable");
    CHECK(t.header(0, "X-Goog-Upload-Command") == "start");
    CHECK(t.header(0, "X-Goog-Upload-Header-Content-Length") == std::to_string(total));
    CHECK(t.header(0, "X-Goog-Upload-Header-Content-Type") == "application/jsonl");
    CHECK(t.header(0, "x-goog-api-key") == k_key);
    CHECK(nlohmann::json::parse(t.requests[0].body)["file"]["display_name"] == "job-1-chunk-0");
    CHECK(t.header(1, "X-Goog-Upload-Offset") == "0");
    CHECK(t.bodies[1] == 8388608);
    CHECK(t.header(2, "X-Goog-Upload-Offset") == "8388608");
    CHECK(t.header(3, "X-Goog-Upload-Command") == "query");
    CHECK(t.header(4, "X-Goog-Upload-Offset") == "8388608");
    CHECK(t.header(4, "X-Goog-Upload-Command") == "upload");
    CHECK(t.header(5, "X-Goog-Upload-Offset") == "16777216");
    CHECK(t.header(5, "X-Goog-Upload-Command") == "upload, finalize");
    CHECK(t.bodies[5] == total - 16777216);
    for (std::size_t i = 1; i < t.requests.size(); ++i) {
        CHECK(t.requests[i].url == "https://up.example/session?upload_id=u1");
        CHECK(t.header(i, "x-goog-api-key").empty());  // the session URL is the credential
    }
}

TEST_CASE("upload refuses a file over the 2 GB input limit before sending", "[provider][batch]") {
    test::TempDir dir;
    const std::string path = dir.file("big.jsonl");
    { std::ofstream(path) << "x"; }
    REQUIRE(truncate(path.c_str(), k_batch_input_file_max_bytes + 1) == 0);  // sparse
    ScriptedTransport t;
    test::FakeClock clock;
    GeminiBatchClient client(options(), t, clock);
    auto file = client.upload_file(path, "d");
    CHECK(file.status().code() == Code::invalid_input);
    CHECK(file.status().message().find("2 GB") != std::string::npos);
    CHECK(t.requests.empty());
}

TEST_CASE("find pages through batches.list", "[provider][batch]") {
    ScriptedTransport t;
    test::FakeClock clock;
    t.then(answer(200, page({{"batches/1", "a"}, {"batches/2", "b"}}, "tok/1")));
    t.then(answer(503, google_error(503, "UNAVAILABLE", "try again")));  // retried
    t.then(answer(200, page({{"batches/3", "c"}}, "tok 2")));
    t.then(answer(200, page({{"batches/4", "wanted"}})));
    GeminiBatchClient client(options(), t, clock);
    auto found = client.find("wanted");
    REQUIRE(found.ok());
    REQUIRE(found.value());
    CHECK(found.value()->name == "batches/4");
    REQUIRE(t.requests.size() == 4);
    CHECK(t.requests[0].url == "https://gen.example/v1beta/batches?pageSize=100");
    CHECK(t.requests[1].url == "https://gen.example/v1beta/batches?pageSize=100&pageToken=tok%2F1");
    CHECK(t.requests[3].url == "https://gen.example/v1beta/batches?pageSize=100&pageToken=tok%202");

    t.then(answer(200, page({{"batches/1", "a"}})));
    auto none = client.find("absent");
    REQUIRE(none.ok());
    CHECK_FALSE(none.value());
}

TEST_CASE("create_or_find never creates a batch twice", "[provider][batch]") {
    test::FakeClock clock;
    SECTION("already in the list: nothing is created") {
        ScriptedTransport t;
        t.then(answer(200, page({{"batches/x", "job-1-chunk-0"}})));
        GeminiBatchClient client(options(), t, clock);
        auto b = client.create_or_find("gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        REQUIRE(b.ok());
        CHECK(b->name == "batches/x");
        CHECK(t.count("POST", ":batchGenerateContent") == 0);
    }
    SECTION("created: one POST with display name and file") {
        ScriptedTransport t;
        t.then(answer(200, page({})));
        t.then(answer(200, operation("batches/new", "job-1-chunk-0")));
        GeminiBatchClient client(options(), t, clock);
        auto b =
            client.create_or_find("models/gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        REQUIRE(b.ok());
        CHECK(b->name == "batches/new");
        REQUIRE(t.requests.size() == 2);
        CHECK(t.requests[1].url ==
              "https://gen.example/v1beta/models/gemini-3.1-flash-image:batchGenerateContent");
        auto body = nlohmann::json::parse(t.requests[1].body);
        CHECK(body["batch"]["display_name"] == "job-1-chunk-0");
        CHECK(body["batch"]["input_config"]["file_name"] == "files/in1");
    }
    SECTION("the answer was lost but the batch exists: found, not created again") {
        ScriptedTransport t;
        t.then(answer(200, page({})));
        t.then(util::Result<net::HttpResponse>(util::Status(Code::deadline_exceeded, "timed out")));
        t.then(answer(200, page({{"batches/made", "job-1-chunk-0"}})));
        GeminiBatchClient client(options(), t, clock);
        auto b = client.create_or_find("gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        REQUIRE(b.ok());
        CHECK(b->name == "batches/made");
        CHECK(t.count("POST", ":batchGenerateContent") == 1);
    }
    SECTION("a 503 and not in the list: the error, and no second create") {
        ScriptedTransport t;
        t.then(answer(200, page({})));
        t.then(answer(503, google_error(503, "UNAVAILABLE", "overloaded")));
        t.then(answer(200, page({})));
        GeminiBatchClient client(options(), t, clock);
        auto b = client.create_or_find("gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        REQUIRE_FALSE(b.ok());
        CHECK(b.status().code() == Code::unavailable);
        CHECK(b.status().message().find("not created again") != std::string::npos);
        CHECK(t.count("POST", ":batchGenerateContent") == 1);
        CHECK(t.requests.size() == 3);
    }
    SECTION("a 400 is final: no list lookup after it") {
        ScriptedTransport t;
        t.then(answer(200, page({})));
        t.then(answer(400, google_error(400, "INVALID_ARGUMENT", "bad file " + k_key)));
        GeminiBatchClient client(options(), t, clock);
        auto b = client.create_or_find("gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        CHECK(b.status().code() == Code::model_error);
        CHECK(b.status().message().find(k_key) == std::string::npos);  // scrubbed
        CHECK(t.requests.size() == 2);
    }
    SECTION("the list cannot be read: nothing is created") {
        ScriptedTransport t;
        for (int i = 0; i < 6; ++i) {
            t.then(answer(500, google_error(500, "INTERNAL", "oops")));
        }
        GeminiBatchClient client(options(), t, clock);
        auto b = client.create_or_find("gemini-3.1-flash-image", "job-1-chunk-0", "files/in1");
        CHECK(b.status().code() == Code::unavailable);
        CHECK(t.count("POST", ":batchGenerateContent") == 0);
    }
}

TEST_CASE("get, cancel and delete name the batch in the URL", "[provider][batch]") {
    ScriptedTransport t;
    test::FakeClock clock;
    t.then(answer(200, operation("batches/b1", "d", "JOB_STATE_RUNNING")));
    t.then(answer(200, "{}"));
    t.then(answer(404, google_error(404, "NOT_FOUND", "gone")));  // already deleted: fine
    GeminiBatchClient client(options(), t, clock);
    auto b = client.get("batches/b1");
    REQUIRE(b.ok());
    CHECK(b->state == BatchState::running);
    CHECK(client.cancel("batches/b1").ok());
    CHECK(client.remove("batches/b1").ok());
    CHECK(t.requests[0].url == "https://gen.example/v1beta/batches/b1");
    CHECK(t.requests[1].method == "POST");
    CHECK(t.requests[1].url == "https://gen.example/v1beta/batches/b1:cancel");
    CHECK(t.requests[2].method == "DELETE");
    CHECK(client.get("batches/../models").status().code() == Code::invalid_input);
    CHECK(client.get("files/x").status().code() == Code::invalid_input);
}

namespace {

// A results file made on the fly: `lines` lines, each an image of `image_bytes` (every 7th an
// error line), sent to on_body in 64 KiB pieces; never held whole.
struct GeneratedResults {
    int lines = 0;
    std::size_t image_bytes = 0;
    std::string blob;  // the base64 of one image, shared by every line

    std::string line(int i) const {
        const std::string key = "job/s" + std::to_string(i) + "/1";
        if (i % 7 == 3) {
            return R"({"key":")" + key +
                   R"(","error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad"}})" + "\n";
        }
        return R"({"key":")" + key +
               R"(","response":{"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":")" +
               blob +
               R"("}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1120}}})" +
               "\n";
    }
    std::int64_t size() const {
        std::int64_t n = 0;
        for (int i = 0; i < lines; ++i) {
            n += static_cast<std::int64_t>(line(i).size());
        }
        return n;
    }
    // Sends bytes [from, until) through on_body; stops early with BAD_RESPONSE at `cut`.
    util::Result<net::HttpResponse> serve(const net::HttpRequest& r, int status, std::int64_t from,
                                          std::int64_t cut = -1) const {
        net::HttpResponse head;
        head.status = status;
        if (status == 206) {
            head.headers = {{"content-range", "bytes " + std::to_string(from) + "-*/*"}};
        }
        std::int64_t at = 0;
        std::string buf;
        for (int i = 0; i < lines; ++i) {
            std::string l = line(i);
            std::string_view rest = l;
            if (at + static_cast<std::int64_t>(l.size()) <= from) {
                at += static_cast<std::int64_t>(l.size());
                continue;
            }
            if (at < from) {
                rest.remove_prefix(static_cast<std::size_t>(from - at));
                at = from;
            }
            while (!rest.empty()) {
                std::size_t n = std::min<std::size_t>(rest.size(), 64u << 10);
                if (cut >= 0 && at + static_cast<std::int64_t>(n) > cut) {
                    n = static_cast<std::size_t>(cut - at);
                    if (n > 0) {
                        auto s = r.on_body(head, rest.substr(0, n));
                        if (!s.ok()) {
                            return s;
                        }
                    }
                    return util::Status(Code::bad_response, "truncated response body");
                }
                auto s = r.on_body(head, rest.substr(0, n));
                if (!s.ok()) {
                    return s;
                }
                rest.remove_prefix(n);
                at += static_cast<std::int64_t>(n);
            }
        }
        return head;
    }
};

std::size_t allocated_now() {
    return mallinfo2().uordblks;
}

}  // namespace

TEST_CASE("download streams a 50 MB result file in bounded memory", "[provider][batch]") {
    GeneratedResults gen;
    gen.lines = 80;
    gen.blob = util::base64_encode(std::string(540'000, '\x42'));  // ~720 KB of base64 a line
    const std::int64_t size = gen.size();
    REQUIRE(size > 49'000'000);
    ScriptedTransport t;
    test::FakeClock clock;
    t.then([&](const net::HttpRequest& r) { return gen.serve(r, 200, 0); });
    GeminiBatchClient client(options(), t, clock);
    const std::size_t before = allocated_now();
    std::size_t peak = 0;
    int images = 0;
    int errors = 0;
    std::vector<std::string> keys;
    auto stats = client.download_results(
        "files/batch-0123456789abcdef0123456789abcdef0123456789", [&](BatchResult&& r) {
            peak = std::max(peak, allocated_now() - std::min(before, allocated_now()));
            keys.push_back(r.key);
            if (r.outcome.ok()) {
                images += r.outcome->data.size() == 540'000 ? 1 : 0;
            } else if (r.outcome.status().code() == Code::model_error) {
                ++errors;
            }
            return util::ok_status();
        });
    REQUIRE(stats.ok());
    CHECK(stats->bytes == size);
    CHECK(stats->lines == 80);
    CHECK(images + errors == 80);
    CHECK(errors == 11);
    CHECK(keys.front() == "job/s0/1");
    CHECK(keys.back() == "job/s79/1");
    CHECK(t.requests.at(0).url ==
          "https://gen.example/download/v1beta/files/"
          "batch-0123456789abcdef0123456789abcdef0123456789:download?alt=media");
    // One line and one decoded image at a time (a few MB), never the 50 MB file.
    INFO("peak allocation growth " << peak);
    CHECK(peak < 8'000'000);
}

TEST_CASE("a broken download resumes after the last whole line, each line once",
          "[provider][batch]") {
    GeneratedResults gen;
    gen.lines = 20;
    gen.blob = std::string(100'000, 'A');
    const std::int64_t size = gen.size();
    const std::int64_t cut = size / 2 + 777;  // inside a line
    for (int resume_status : {206, 200}) {
        ScriptedTransport t;
        test::FakeClock clock;
        std::int64_t asked = -1;
        t.then([&](const net::HttpRequest& r) { return gen.serve(r, 200, 0, cut); });
        t.then([&](const net::HttpRequest& r) {
            std::string range;
            for (const auto& [k, v] : r.headers) {
                if (k == "Range") {
                    range = v;
                }
            }
            asked = std::stoll(range.substr(6));
            return gen.serve(r, resume_status, resume_status == 206 ? asked : 0);
        });
        GeminiBatchClient client(options(), t, clock);
        std::vector<std::string> keys;
        auto stats = client.download_lines("files/out1", [&](std::string_view line) {
            keys.push_back(nlohmann::json::parse(line)["key"]);
            return util::ok_status();
        });
        REQUIRE(stats.ok());
        CHECK(stats->resumed == 1);
        CHECK(stats->bytes == size);
        REQUIRE(keys.size() == 20);
        for (int i = 0; i < 20; ++i) {
            CHECK(keys[static_cast<std::size_t>(i)] == "job/s" + std::to_string(i) + "/1");
        }
        CHECK(asked > 0);
        CHECK(asked <= cut);
        CHECK(asked > cut - static_cast<std::int64_t>(gen.line(0).size()) - 1);
    }
}

TEST_CASE("a failing line callback stops the download without a retry", "[provider][batch]") {
    GeneratedResults gen;
    gen.lines = 5;
    gen.blob = "QUJD";
    ScriptedTransport t;
    test::FakeClock clock;
    t.then([&](const net::HttpRequest& r) { return gen.serve(r, 200, 0); });
    GeminiBatchClient client(options(), t, clock);
    int seen = 0;
    auto stats = client.download_lines("files/out1", [&](std::string_view) {
        return ++seen == 2 ? util::Status(Code::storage_io, "disk full") : util::ok_status();
    });
    CHECK(stats.status().code() == Code::storage_io);
    CHECK(seen == 2);
    CHECK(t.requests.size() == 1);
}

TEST_CASE("the request file: one line per request, refused past its limit", "[provider][batch]") {
    test::TempDir dir;
    BatchFileWriter w;
    REQUIRE(w.open(dir.file("in.jsonl"), 2000).ok());
    ImageRequest r;
    r.model = "m";
    r.prompt = std::string(600, 'p');
    CHECK(w.add("job/s1/1", r).ok());
    CHECK(w.add("job/s2/1", r).ok());
    auto third = w.add("job/s3/1", r);
    CHECK(third.code() == Code::invalid_input);
    CHECK(third.message().find("job/s3/1") != std::string::npos);
    REQUIRE(w.finish().ok());
    CHECK(w.lines() == 2);
    std::ifstream in(dir.file("in.jsonl"));
    std::string line;
    int n = 0;
    std::int64_t bytes = 0;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        CHECK(j["key"] == "job/s" + std::to_string(++n) + "/1");
        bytes += static_cast<std::int64_t>(line.size()) + 1;
    }
    CHECK(n == 2);
    CHECK(bytes == w.bytes());
}
