#include <catch2/catch.hpp>

#include <deque>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "provider/gemini_provider.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using std::chrono::milliseconds;
using util::Code;

namespace {

const std::string k_key = "AIzaSyTESTKEY0123456789abcdefghijklmno";
const std::string k_token = "ya29.test-access-token";

// Records every request and answers from a queue (or with one repeated answer).
class RecordingTransport final : public net::HttpTransport {
public:
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        std::lock_guard lock(m_mutex);
        requests.push_back(request);
        if (!answers.empty()) {
            auto next = answers.front();
            answers.pop_front();
            return next;
        }
        return fallback;
    }
    std::string header(std::size_t i, const std::string& name) const {
        for (const auto& [k, v] : requests.at(i).headers) {
            if (k == name) {
                return v;
            }
        }
        return "";
    }

    std::vector<net::HttpRequest> requests;
    std::deque<util::Result<net::HttpResponse>> answers;
    util::Result<net::HttpResponse> fallback = util::Status(Code::internal, "no answer queued");

private:
    std::mutex m_mutex;
};

class FixedTokens final : public auth::TokenSource {
public:
    util::Result<std::string> token() override {
        if (!fail.ok()) {
            return fail;
        }
        return k_token;
    }
    std::string describe() const override { return "fixed test token"; }
    util::Status fail;
};

class FixedClock final : public util::Clock {
public:
    std::int64_t unix_ms() const override { return 784111777000; }  // Sun, 06 Nov 1994 08:49:37 GMT
    util::SteadyTime steady() const override { return {}; }
    void sleep_for(std::chrono::nanoseconds) override {}
};

net::HttpResponse ok_image(const std::string& bytes = "PNGBYTES") {
    net::HttpResponse r;
    r.status = 200;
    r.body =
        R"({"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":")" +
        util::base64_encode(bytes) +
        R"("}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":1290},)"
        R"("modelVersion":"gemini-2.5-flash-image"})";
    return r;
}

net::HttpResponse error_answer(int status, const std::string& body,
                               const std::string& retry_after = "") {
    net::HttpResponse r;
    r.status = status;
    r.body = body;
    if (!retry_after.empty()) {
        r.headers.emplace_back("retry-after", retry_after);
    }
    return r;
}

ImageRequest request_for(const std::string& model = "gemini-2.5-flash-image") {
    ImageRequest r;
    r.model = model;
    r.prompt = "a lighthouse at dusk";
    r.aspect_ratio = "3:2";
    r.refs.push_back({"image/png", "REF"});
    return r;
}

}  // namespace

TEST_CASE("gemini provider: posts to the model's generateContent with the key in a header only",
          "[gemini][provider]") {
    RecordingTransport t;
    t.answers.push_back(ok_image("IMG"));
    FixedClock clock;
    GeminiOptions o;
    o.api_key = k_key;
    o.api_base = "http://127.0.0.1:8080/";
    o.timeout = milliseconds(90'000);
    GeminiProvider p(o, t, clock);

    auto r = p.generate(request_for());
    REQUIRE(r.ok());
    CHECK(r->data == "IMG");
    CHECK(r->usage.output_tokens == 1290);
    REQUIRE(t.requests.size() == 1);
    const auto& sent = t.requests[0];
    CHECK(sent.method == "POST");
    CHECK(sent.url == "http://127.0.0.1:8080/v1beta/models/gemini-2.5-flash-image:generateContent");
    CHECK(sent.url.find(k_key) == std::string::npos);
    CHECK(sent.url.find("key=") == std::string::npos);
    CHECK(t.header(0, "x-goog-api-key") == k_key);
    CHECK(t.header(0, "Content-Type") == "application/json");
    CHECK(t.header(0, "Authorization").empty());
    CHECK(sent.timeout == milliseconds(90'000));
    CHECK(sent.describe().find(k_key) == std::string::npos);
    auto body = nlohmann::json::parse(sent.body);
    CHECK(body["contents"][0]["parts"][1]["inlineData"]["data"] == util::base64_encode("REF"));
    CHECK(body.dump().find(k_key) == std::string::npos);
}

TEST_CASE("gemini provider: default endpoint and models/ prefix", "[gemini][provider]") {
    RecordingTransport t;
    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t);
    CHECK(p.url_for("models/gemini-3-pro-image") ==
          "https://generativelanguage.googleapis.com/v1beta/models/"
          "gemini-3-pro-image:generateContent");
}

TEST_CASE("gemini provider: the key never appears in a Status, even when the server echoes it",
          "[gemini][provider]") {
    RecordingTransport t;
    FixedClock clock;
    t.answers.push_back(error_answer(
        400,
        R"({"error":{"code":400,"message":"API key not valid: )" + k_key +
            R"(","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})"));
    t.answers.push_back(util::Status(Code::unavailable, "connect to host failed for key " + k_key));
    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t, clock);

    auto bad_key = p.generate(request_for());
    REQUIRE_FALSE(bad_key.ok());
    CHECK(bad_key.status().code() == Code::unauthenticated);
    CHECK(bad_key.status().http_status() == 400);
    CHECK(bad_key.status().message().find(k_key) == std::string::npos);
    CHECK(bad_key.status().message().find("API key not valid") != std::string::npos);

    auto transport = p.generate(request_for());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.status().code() == Code::unavailable);
    CHECK(transport.status().message().find(k_key) == std::string::npos);
}

TEST_CASE("gemini provider: transport failures pass through with their code and hint",
          "[gemini][provider]") {
    RecordingTransport t;
    util::Status timeout(Code::deadline_exceeded, "POST http://x: timed out after 90s");
    timeout.with_retry_after(milliseconds(1234));
    t.answers.push_back(timeout);
    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t);
    auto r = p.generate(request_for());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::deadline_exceeded);
    CHECK(r.status().message() == "POST http://x: timed out after 90s");
    CHECK(r.status().retry_after() == milliseconds(1234));
}

TEST_CASE("gemini provider: 429 with RetryInfo and Retry-After gives the longer hint",
          "[gemini][provider]") {
    RecordingTransport t;
    FixedClock clock;
    t.answers.push_back(error_answer(
        429,
        R"({"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}})",
        "Sun, 06 Nov 1994 08:49:40 GMT"));
    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t, clock);
    auto r = p.generate(request_for());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::rate_limited);
    CHECK(r.status().http_status() == 429);
    CHECK(r.status().retry_after() == milliseconds(3'000));
}

TEST_CASE("gemini provider: no key or a strange model name sends nothing", "[gemini][provider]") {
    RecordingTransport t;
    GeminiProvider no_key(GeminiOptions{}, t);
    auto r = no_key.generate(request_for());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::unauthenticated);

    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t);
    for (const char* model : {"", "../secrets", "gemini?key=x", "a/b", "gemini 2"}) {
        INFO(model);
        auto bad = p.generate(request_for(model));
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.status().code() == Code::invalid_input);
    }
    CHECK(t.requests.empty());
}

TEST_CASE("gemini provider: safe from several threads", "[gemini][provider]") {
    RecordingTransport t;
    t.fallback = ok_image("SAME");
    GeminiOptions o;
    o.api_key = k_key;
    GeminiProvider p(o, t);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 25; ++k) {
                if (p.generate(request_for()).ok()) {
                    ++ok;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(ok == 200);
    CHECK(t.requests.size() == 200);
}

TEST_CASE("vertex provider: global, regional and multi-region endpoints", "[gemini][provider]") {
    CHECK(vertex_default_base("global") == "https://aiplatform.googleapis.com");
    CHECK(vertex_default_base("us-central1") == "https://us-central1-aiplatform.googleapis.com");
    CHECK(vertex_default_base("eu") == "https://aiplatform.eu.rep.googleapis.com");

    RecordingTransport t;
    FixedTokens tokens;
    VertexOptions o;
    o.project = "my-proj";
    VertexProvider global(o, t, tokens);
    CHECK(global.url_for("gemini-3-pro-image") ==
          "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/"
          "google/models/"
          "gemini-3-pro-image:generateContent");
    o.location = "europe-west4";
    VertexProvider regional(o, t, tokens);
    CHECK(regional.url_for("gemini-2.5-flash-image") ==
          "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/"
          "europe-west4/publishers/"
          "google/models/gemini-2.5-flash-image:generateContent");
}

TEST_CASE("vertex provider: sends the bearer token and the same body", "[gemini][provider]") {
    RecordingTransport t;
    t.answers.push_back(ok_image("V"));
    FixedTokens tokens;
    VertexOptions o;
    o.project = "my-proj";
    o.location = "us-central1";
    o.api_base = "http://127.0.0.1:9000";
    o.timeout = milliseconds(5'000);
    VertexProvider p(o, t, tokens);
    auto r = p.generate(request_for());
    REQUIRE(r.ok());
    CHECK(r->data == "V");
    REQUIRE(t.requests.size() == 1);
    CHECK(
        t.requests[0].url ==
        "http://127.0.0.1:9000/v1/projects/my-proj/locations/us-central1/publishers/google/models/"
        "gemini-2.5-flash-image:generateContent");
    CHECK(t.header(0, "Authorization") == "Bearer " + k_token);
    CHECK(t.header(0, "x-goog-api-key").empty());
    CHECK(t.requests[0].timeout == milliseconds(5'000));
    CHECK(t.requests[0].body == build_gemini_request(request_for()));
    CHECK(nlohmann::json::parse(t.requests[0].body)["contents"][0]["role"] == "user");
}

TEST_CASE("vertex provider: token failures pass through; the token never reaches a Status",
          "[gemini][provider]") {
    RecordingTransport t;
    FixedTokens tokens;
    tokens.fail = util::Status(Code::unauthenticated, "metadata server refused the token request");
    VertexOptions o;
    o.project = "p";
    VertexProvider p(o, t, tokens);
    auto r = p.generate(request_for());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::unauthenticated);
    CHECK(t.requests.empty());

    tokens.fail = util::Status();
    t.answers.push_back(error_answer(
        401, R"({"error":{"code":401,"message":"Request had invalid authentication credentials: )" +
                 k_token + R"(","status":"UNAUTHENTICATED"}})"));
    t.answers.push_back(error_answer(
        403,
        R"({"error":{"code":403,"message":"Permission 'aiplatform.endpoints.predict' denied","status":"PERMISSION_DENIED"}})"));
    auto unauth = p.generate(request_for());
    REQUIRE_FALSE(unauth.ok());
    CHECK(unauth.status().code() == Code::unauthenticated);
    CHECK(unauth.status().message().find("test-access-token") == std::string::npos);
    auto denied = p.generate(request_for());
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.status().code() == Code::permission_denied);
}

TEST_CASE("vertex provider: a bad project or location is a config error", "[gemini][provider]") {
    RecordingTransport t;
    FixedTokens tokens;
    VertexOptions o;
    VertexProvider no_project(o, t, tokens);
    CHECK(no_project.generate(request_for()).status().code() == Code::config);
    o.project = "p";
    o.location = "us-central1/../x";
    VertexProvider bad_location(o, t, tokens);
    CHECK(bad_location.generate(request_for()).status().code() == Code::config);
    CHECK(t.requests.empty());
}
