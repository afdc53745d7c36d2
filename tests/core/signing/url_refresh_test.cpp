#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "signing/rsa_signer.hpp"
#include "signing/url_refresh.hpp"
#include "signing/v4.hpp"

using namespace assetgen;
using namespace assetgen::signing;
using nlohmann::json;
using util::Code;

namespace {

const std::string k_vectors = std::string(ASSETGEN_GCS_VECTORS_DIR) + "/";

json load_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

// The conformance key (Google's published dummy account), wrapped to count signatures.
class CountingSigner final : public Signer {
public:
    CountingSigner() {
        json key = load_json(k_vectors + "test_service_account.not-a-test.json");
        auto s = RsaSigner::from_pem(key.at("private_key").get<std::string>(),
                                     key.at("client_email").get<std::string>());
        REQUIRE(s.ok());
        m_inner = std::move(s).value();
    }
    util::Result<std::string> sign(std::string_view bytes) override {
        ++calls;
        if (fail) {
            return util::error(Code::unavailable, "signer down");
        }
        return m_inner->sign(bytes);
    }
    std::string client_email() const override { return m_inner->client_email(); }
    std::atomic<int> calls{0};
    bool fail = false;

private:
    std::unique_ptr<RsaSigner> m_inner;
};

CountingSigner& signer() {
    static CountingSigner s;
    return s;
}

constexpr std::int64_t k_now = 1'709'618'828;  // 2024-03-05T06:07:08Z

// A GET URL for gs://bucket/object that expires `left` seconds after k_now.
std::string url_expiring_in(std::int64_t left, const std::string& object = "job/a b/img_v1.png",
                            const std::string& bucket = "my-bucket") {
    SignRequest r;
    r.bucket = bucket;
    r.object = object;
    r.ttl_seconds = 3600;
    r.at = k_now + left - 3600;
    auto url = sign_url(r, signer());
    REQUIRE(url.ok());
    return *url;
}

RefreshOptions options(std::int64_t threshold = 300, std::int64_t ttl = 604'800) {
    RefreshOptions o;
    o.now = k_now;
    o.threshold_seconds = threshold;
    o.ttl_seconds = ttl;
    return o;
}

// Replaces every occurrence of from in s with to.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
        s.replace(p, from.size(), to);
    }
    return s;
}

}  // namespace

TEST_CASE("url refresh: a signed URL says what it signs and when it expires", "[signing]") {
    json vectors = load_json(k_vectors + "v4_signatures.json");
    const json& simple = vectors.at("signingV4Tests").at(0);
    REQUIRE(simple.at("description") == "Simple GET");
    auto info = parse_signed_url(simple.at("expectedUrl").get<std::string>());
    REQUIRE(info.ok());
    CHECK(info->algorithm == "GOOG4-RSA-SHA256");
    CHECK(info->scheme == "https");
    CHECK(info->host == "storage.googleapis.com");
    CHECK(info->bucket == "test-bucket");
    CHECK(info->object == "test-object");
    CHECK_FALSE(info->virtual_hosted);
    CHECK(info->client_email == "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com");
    CHECK(info->signed_at == 1'549'011'600);  // 2019-02-01T09:00:00Z
    CHECK(info->expires_seconds == 10);
    CHECK(info->expires_at() == 1'549'011'610);
    CHECK(info->signed_headers == "host");
    CHECK(info->extra_query.empty());
    CHECK(info->gs_url() == "gs://test-bucket/test-object");

    auto virtual_hosted = parse_signed_url(
        "https://my.bucket.storage.googleapis.com/a/b%20c.png?X-Goog-Algorithm=GOOG4-RSA-SHA256&"
        "X-Goog-Credential=x%40p.iam.gserviceaccount.com%2F20240305%2Fauto%2Fstorage%2Fgoog4_"
        "request&"
        "X-Goog-Date=20240305T060708Z&X-Goog-Expires=60&X-Goog-SignedHeaders=host&generation=7&"
        "X-Goog-Signature=abcd");
    REQUIRE(virtual_hosted.ok());
    CHECK(virtual_hosted->virtual_hosted);
    CHECK(virtual_hosted->bucket == "my.bucket");
    CHECK(virtual_hosted->object == "a/b c.png");
    CHECK(virtual_hosted->extra_query == Pairs{{"generation", "7"}});

    // gcloud writes the parameter names in lower case.
    auto lower = parse_signed_url(
        "https://storage.googleapis.com/b1/o?x-goog-signature=ab&x-goog-algorithm=GOOG4-RSA-SHA256&"
        "x-goog-credential=x%40p%2F20240305%2Fauto%2Fstorage%2Fgoog4_request&x-goog-date="
        "20240305T060708Z&"
        "x-goog-expires=600&x-goog-signedheaders=host");
    REQUIRE(lower.ok());
    CHECK(lower->expires_at() == k_now + 600);
}

TEST_CASE("url refresh: what is not a V4 signed URL is refused with the reason", "[signing]") {
    std::string good = url_expiring_in(60);
    CHECK(parse_signed_url(good).ok());
    auto reason = [](const std::string& url) { return parse_signed_url(url).status().message(); };
    CHECK_THAT(reason("https://example.com/a.png"), Catch::Contains("no query"));
    CHECK_THAT(reason("gs://b/o"), Catch::Contains("scheme"));
    // A V2 signed URL.
    CHECK_THAT(
        reason("https://storage.googleapis.com/b/o?GoogleAccessId=x&Expires=1&Signature=abc"),
        Catch::Contains("X-Goog-Algorithm"));
    CHECK_THAT(reason(replace_all(good, "X-Goog-Date=", "X-Goog-Date=2024")),
               Catch::Contains("X-Goog-Date"));
    CHECK_THAT(reason(replace_all(good, "X-Goog-Expires=", "X-Goog-Expires=x")),
               Catch::Contains("X-Goog-Expires"));
    CHECK_THAT(reason(good.substr(0, good.find("&X-Goog-Signature"))),
               Catch::Contains("X-Goog-Signature"));
}

TEST_CASE(
    "url refresh: re-signing a conformance URL at its own time and TTL gives it back byte for byte",
    "[signing]") {
    // Every GET vector that signs only the host: path style, virtual-hosted, bucket-bound
    // hostnames, emulators, custom endpoints, extra parameters and odd object names.
    json vectors = load_json(k_vectors + "v4_signatures.json");
    std::size_t checked = 0;
    for (const json& c : vectors.at("signingV4Tests")) {
        if (c.at("method") != "GET" || c.contains("headers")) {
            continue;
        }
        std::string description = c.at("description").get<std::string>();
        INFO(description);
        std::string url = c.at("expectedUrl").get<std::string>();
        auto info = parse_signed_url(url);
        REQUIRE(info.ok());
        RefreshOptions o;
        o.now = info->signed_at;
        o.ttl_seconds = info->expires_seconds;
        o.threshold_seconds = o.ttl_seconds;
        auto r = refresh_signed_urls(url, o, signer());
        REQUIRE(r.ok());
        CHECK(r->refreshed == 1);
        CHECK(r->text == url);
        ++checked;
    }
    CHECK(checked >= 15);
}

TEST_CASE("url refresh: only the URLs expiring within the threshold change, every other byte stays",
          "[signing]") {
    std::string soon = url_expiring_in(120);
    std::string later = url_expiring_in(600, "job/b.png");
    std::string much_later = url_expiring_in(6 * 86'400, "job/c.png");
    // A results CSV: quoted cells, several URLs in one cell, CRLF, a formula-looking cell.
    std::string csv =
        "scene_id,prompt,status,images\r\n"
        "A,\"a, b\",done,\"" +
        soon + " " + later +
        "\"\r\n"
        "B,'=1+1,done," +
        much_later +
        "\r\n"
        "C,plain link,done,https://example.com/x.png?a=1&b=2\r\n";
    signer().calls = 0;
    auto r = refresh_signed_urls(csv, options(300), signer());
    REQUIRE(r.ok());
    CHECK(r->found == 3);
    CHECK(r->refreshed == 1);
    CHECK(r->skipped == 0);
    CHECK(signer().calls == 1);
    auto at = csv.find(soon);
    // Everything before and after the one URL is byte-identical.
    CHECK(r->text.substr(0, at) == csv.substr(0, at));
    std::string tail = csv.substr(at + soon.size());
    REQUIRE(r->text.size() >= tail.size());
    CHECK(r->text.substr(r->text.size() - tail.size()) == tail);
    std::string fresh = r->text.substr(at, r->text.size() - tail.size() - at);
    auto info = parse_signed_url(fresh);
    REQUIRE(info.ok());
    CHECK(info->signed_at == k_now);
    CHECK(info->expires_seconds == 604'800);
    CHECK(info->bucket == "my-bucket");
    CHECK(info->object == "job/a b/img_v1.png");
    CHECK(fresh.find("/my-bucket/job/a%20b/img_v1.png?") != std::string::npos);
    // It is exactly what signing that object now would give.
    SignRequest again;
    again.bucket = "my-bucket";
    again.object = "job/a b/img_v1.png";
    again.ttl_seconds = 604'800;
    again.at = k_now;
    CHECK(fresh == sign_url(again, signer()).value());

    REQUIRE(r->decisions.size() == 3);
    CHECK(r->decisions[0].action == UrlDecision::Action::refreshed);
    CHECK(r->decisions[0].location == "gs://my-bucket/job/a b/img_v1.png");
    CHECK(r->decisions[0].old_expires_at == k_now + 120);
    CHECK(r->decisions[0].new_expires_at == k_now + 604'800);
    CHECK(r->decisions[1].action == UrlDecision::Action::kept);
    CHECK(r->decisions[2].action == UrlDecision::Action::kept);
}

TEST_CASE("url refresh: the threshold edge is inclusive; expired URLs are re-signed too",
          "[signing]") {
    auto refreshed = [](std::int64_t left, std::int64_t threshold) {
        auto r = refresh_signed_urls(url_expiring_in(left), options(threshold), signer());
        REQUIRE(r.ok());
        return r->refreshed;
    };
    CHECK(refreshed(300, 300) == 1);
    CHECK(refreshed(301, 300) == 0);
    CHECK(refreshed(299, 300) == 1);
    CHECK(refreshed(0, 300) == 1);
    CHECK(refreshed(-86'400, 300) == 1);  // expired a day ago
    CHECK(refreshed(1, 0) == 0);
    CHECK(refreshed(0, 0) == 1);
}

TEST_CASE("url refresh: JSON escapes are read and written back the same way", "[signing]") {
    std::string url = url_expiring_in(30);
    SECTION("\\/ and \\u0026, as some JSON writers escape them") {
        std::string escaped = replace_all(replace_all(url, "/", "\\/"), "&", "\\u0026");
        std::string text = "{\"rows\":[{\"url\":\"" + escaped + "\",\"n\":1}]}\n";
        auto r = refresh_signed_urls(text, options(), signer());
        REQUIRE(r.ok());
        CHECK(r->found == 1);
        CHECK(r->refreshed == 1);
        CHECK(r->text.find("\\u0026") != std::string::npos);
        CHECK(r->text.find("https:\\/\\/storage.googleapis.com\\/my-bucket\\/") !=
              std::string::npos);
        CHECK(r->text.find('&') == std::string::npos);
        json j = json::parse(r->text);
        auto info = parse_signed_url(j["rows"][0]["url"].get<std::string>());
        REQUIRE(info.ok());
        CHECK(info->signed_at == k_now);
        CHECK(r->text.substr(r->text.size() - 10) == text.substr(text.size() - 10));
    }
    SECTION("&amp; in HTML") {
        std::string text = "<a href=\"" + replace_all(url, "&", "&amp;") + "\">image</a>";
        auto r = refresh_signed_urls(text, options(), signer());
        REQUIRE(r.ok());
        CHECK(r->refreshed == 1);
        CHECK(r->text.find("&amp;X-Goog-Date=20240305T060708Z&amp;") != std::string::npos);
        CHECK(r->text.find("\">image</a>") != std::string::npos);
    }
    SECTION("a JSON string inside a JSON string ends the URL at \\\"") {
        std::string text = "{\"raw\":\"{\\\"u\\\":\\\"" + url + "\\\"}\"}";
        auto r = refresh_signed_urls(text, options(), signer());
        REQUIRE(r.ok());
        CHECK(r->refreshed == 1);
        CHECK(json::parse(json::parse(r->text)["raw"].get<std::string>())["u"]
                  .get<std::string>()
                  .find("X-Goog-Date=20240305T060708Z") != std::string::npos);
    }
}

TEST_CASE("url refresh: a manifest line's signed_url_expires follows its URL", "[signing]") {
    std::string url = url_expiring_in(60);
    std::int64_t old_ms = (k_now + 60) * 1000;
    std::string line = "{\"v\":1,\"uri\":\"gs://my-bucket/job/a b/img_v1.png\",\"signed_url\":\"" +
                       url + "\",\"signed_url_expires\":" + std::to_string(old_ms) + "}\n";
    std::string other = "{\"v\":1,\"uri\":\"x\",\"signed_url\":\"" + url_expiring_in(86'400, "o2") +
                        "\",\"signed_url_expires\":123}\n";
    auto r = refresh_signed_urls(line + other, options(), signer());
    REQUIRE(r.ok());
    CHECK(r->refreshed == 1);
    std::string first = r->text.substr(0, r->text.find('\n') + 1);
    CHECK(r->text.substr(first.size()) == other);
    json j = json::parse(first);
    CHECK(j["signed_url_expires"] == (k_now + 604'800) * 1000);
    CHECK(parse_signed_url(j["signed_url"].get<std::string>())->expires_at() == k_now + 604'800);

    SECTION("a number that is not this URL's expiry is left alone") {
        std::string odd = "{\"signed_url\":\"" + url + "\", \"signed_url_expires\": 42}";
        auto r2 = refresh_signed_urls(odd, options(), signer());
        REQUIRE(r2.ok());
        CHECK(r2->text.substr(r2->text.size() - 27) == ", \"signed_url_expires\": 42}");
    }
    SECTION("the field can be turned off") {
        RefreshOptions o = options();
        o.expiry_field = "";
        auto r3 = refresh_signed_urls(line, o, signer());
        REQUIRE(r3.ok());
        CHECK(json::parse(r3->text)["signed_url_expires"] == old_ms);
    }
}

TEST_CASE("url refresh: a URL that appears twice is signed once and replaced twice", "[signing]") {
    std::string url = url_expiring_in(10);
    std::string text = url + "\n" + url + "\n";
    signer().calls = 0;
    auto r = refresh_signed_urls(text, options(), signer());
    REQUIRE(r.ok());
    CHECK(r->refreshed == 2);
    CHECK(signer().calls == 1);
    auto nl = r->text.find('\n');
    CHECK(r->text.substr(0, nl) == r->text.substr(nl + 1, nl));
}

TEST_CASE("url refresh: URLs that cannot be re-signed are counted and left alone", "[signing]") {
    SignRequest put;
    put.method = "PUT";
    put.bucket = "b1";
    put.object = "o";
    put.ttl_seconds = 60;
    put.at = k_now - 30;
    put.headers = {{"Content-Type", "image/png"}};
    std::string with_header = sign_url(put, signer()).value();
    std::string hmac = replace_all(url_expiring_in(5), "GOOG4-RSA-SHA256", "GOOG4-HMAC-SHA256");
    std::string text = with_header + "\n" + hmac + "\n";
    auto r = refresh_signed_urls(text, options(), signer());
    REQUIRE(r.ok());
    CHECK(r->found == 2);
    CHECK(r->refreshed == 0);
    CHECK(r->skipped == 2);
    CHECK(r->text == text);
    CHECK_THAT(r->decisions[0].reason, Catch::Contains("content-type;host"));
    CHECK_THAT(r->decisions[1].reason, Catch::Contains("GOOG4-HMAC-SHA256"));
}

TEST_CASE("url refresh: text without signed URLs comes back unchanged", "[signing]") {
    std::string text =
        "scene_id,images\nA,gs://b/o.png\nB,https://storage.googleapis.com/b/o.png\n"
        "C,http\nD,https://\n";
    signer().calls = 0;
    auto r = refresh_signed_urls(text, options(), signer());
    REQUIRE(r.ok());
    CHECK(r->found == 0);
    CHECK(r->text == text);
    CHECK(signer().calls == 0);
}

TEST_CASE("url refresh: a TTL over 7 days and a failing signer are errors", "[signing]") {
    auto r = refresh_signed_urls(url_expiring_in(5), options(300, 604'801), signer());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::invalid_input);
    CHECK_THAT(r.status().message(), Catch::Contains("longer than 7d"));

    std::string url = url_expiring_in(5);
    signer().fail = true;
    auto down = refresh_signed_urls(url, options(), signer());
    signer().fail = false;
    REQUIRE_FALSE(down.ok());
    CHECK(down.status().code() == Code::unavailable);
}

TEST_CASE("url refresh: check_ttl takes 1s..7d in whole seconds", "[signing]") {
    CHECK(check_ttl(3'600'000, "--ttl").value() == 3600);
    CHECK(check_ttl(604'800'000, "--ttl").value() == 604'800);
    CHECK(check_ttl(1000, "--ttl").value() == 1);
    auto too_long = check_ttl(8LL * 86'400'000, "--ttl");
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.status().message() ==
          "--ttl: \"8d\" is longer than 7d, the longest a V4 signed URL can live");
    CHECK_THAT(check_ttl(0, "--ttl").status().message(), Catch::Contains("too short"));
    CHECK_THAT(check_ttl(1500, "--ttl").status().message(),
               Catch::Contains("whole number of seconds"));
}

TEST_CASE("url refresh: sign_url reproduces the conformance vector and checks its inputs",
          "[signing]") {
    json vectors = load_json(k_vectors + "v4_signatures.json");
    const json& simple = vectors.at("signingV4Tests").at(0);
    SignRequest r;
    r.method = "get";
    r.bucket = "test-bucket";
    r.object = "test-object";
    r.ttl_seconds = 10;
    r.at = parse_utc_time("2019-02-01T09:00:00Z").value();
    CHECK(sign_url(r, signer()).value() == simple.at("expectedUrl").get<std::string>());

    for (const json& c : vectors.at("signingV4Tests")) {
        if (c.at("description") == "Headers should be trimmed") {
            SignRequest h;
            h.method = c.at("method").get<std::string>();
            h.bucket = c.at("bucket").get<std::string>();
            h.object = c.at("object").get<std::string>();
            h.ttl_seconds = c.at("expiration").get<std::int64_t>();
            h.at = parse_utc_time(c.at("timestamp").get<std::string>()).value();
            for (const auto& [k, v] : c.at("headers").items()) {
                h.headers.emplace_back(k, v.get<std::string>());
            }
            CHECK(sign_url(h, signer()).value() == c.at("expectedUrl").get<std::string>());
        }
    }

    SignRequest bad = r;
    bad.method = "PATCH";
    CHECK_THAT(sign_url(bad, signer()).status().message(),
               Catch::Contains("not GET, HEAD, PUT, POST or DELETE"));
    bad = r;
    bad.ttl_seconds = 604'801;
    CHECK_THAT(sign_url(bad, signer()).status().message(), Catch::Contains("longer than 7d"));
    bad = r;
    bad.bucket = "";
    CHECK(sign_url(bad, signer()).status().code() == Code::invalid_input);

    SignRequest emulator = r;
    emulator.emulator_host = "127.0.0.1:9000";
    CHECK_THAT(
        sign_url(emulator, signer()).value(),
        Catch::StartsWith("http://127.0.0.1:9000/test-bucket/test-object?X-Goog-Algorithm="));
}

TEST_CASE("url refresh: UTC times in RFC 3339 and X-Goog-Date form", "[signing]") {
    CHECK(parse_utc_time("2024-03-05T06:07:08Z").value() == k_now);
    CHECK(parse_utc_time("2024-03-05T06:07:08.999Z").value() == k_now);
    CHECK(parse_utc_time("2024-03-05T06:07:08+00:00").value() == k_now);
    CHECK(parse_utc_time("20240305T060708Z").value() == k_now);
    CHECK(parse_utc_time("1970-01-01T00:00:00Z").value() == 0);
    for (const char* bad : {"2024-03-05", "2024-03-05T06:07:08", "2024-02-30T00:00:00Z",
                            "2024-03-05T24:00:00Z", "2024-03-05T06:07:08+01:00", "yesterday", ""}) {
        INFO(bad);
        CHECK(parse_utc_time(bad).status().code() == Code::invalid_input);
    }
}

TEST_CASE("url refresh: --header takes Name:value", "[signing]") {
    CHECK(parse_header("Content-Type: image/png").value() ==
          std::make_pair(std::string("Content-Type"), std::string("image/png")));
    CHECK(parse_header("x-goog-resumable:start").value().second == "start");
    CHECK(parse_header("x-a:").value().second == "");
    CHECK_FALSE(parse_header("no colon").ok());
    CHECK_FALSE(parse_header(": v").ok());
    CHECK_FALSE(parse_header("bad name: v").ok());
}

TEST_CASE("url refresh: resign_url renews one parsed URL, or says why it cannot", "[signing]") {
    auto info = parse_signed_url(url_expiring_in(30));
    REQUIRE(info.ok());
    auto renewed = resign_url(*info, k_now, 7200, signer());
    REQUIRE(renewed.ok());
    auto again = parse_signed_url(*renewed);
    REQUIRE(again.ok());
    CHECK(again->signed_at == k_now);
    CHECK(again->expires_at() == k_now + 7200);
    CHECK(again->gs_url() == info->gs_url());

    SignedUrlInfo with_headers = *info;
    with_headers.signed_headers = "content-type;host";
    auto refused = resign_url(with_headers, k_now, 7200, signer());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::invalid_input);
    CHECK_THAT(refused.status().message(), Catch::Contains("headers besides host"));
    CHECK_FALSE(resign_url(*info, k_now, 604'801, signer()).ok());
}
