// The address guard, the merge rules and the failure policy, with a scripted transport (no
// sockets): what the fetcher asks the transport is recorded, so a refusal can be shown to
// have sent nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/refs/refs_test_support.hpp"
#include "refs/ref_fetcher.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace std::chrono_literals;
using refs::DropReason;
using refs::RefFetcher;
using test::http_answer;
using util::Code;

namespace {

// Answers every URL with a PNG made from the URL (so contents differ), unless a redirect or
// status is scripted for it.
struct Web {
    std::map<std::string, std::string> redirects;  // url → Location
    std::map<std::string, int> statuses;           // url → status
    std::map<std::string, std::string> bodies;     // url → body
    test::ScriptedTransport transport{
        [this](const net::HttpRequest& r) -> util::Result<net::HttpResponse> {
            if (auto it = redirects.find(r.url); it != redirects.end()) {
                return http_answer(302, "", {{"location", it->second}});
            }
            if (auto it = statuses.find(r.url); it != statuses.end()) {
                return http_answer(it->second, "nope");
            }
            if (auto it = bodies.find(r.url); it != bodies.end()) {
                return http_answer(200, it->second);
            }
            return http_answer(200, test::png(r.url));
        }};
};

refs::FixedResolver resolver() {
    return refs::FixedResolver({{"public.example", {"93.184.216.34"}},
                                {"cdn.example", {"93.184.216.35"}},
                                {"loopy.example", {"127.0.0.1"}},
                                {"internal.test", {"127.0.0.1"}},
                                {"mixed.example", {"10.0.0.7", "93.184.216.36"}},
                                {"v6.example", {"2606:4700::1111"}},
                                {"metadata.google.internal", {"169.254.169.254"}}});
}

}  // namespace

TEST_CASE("refs: private, loopback, link-local and metadata addresses are refused without the flag",
          "[refs]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"http://169.254.169.254/computeMetadata/v1/?recursive=true",
         "169.254.169.254, a link-local address"},
        {"http://10.0.0.1/a.png", "10.0.0.1, a private address"},
        {"http://loopy.example/a.png?sig=x",
         "\"loopy.example\" resolves to 127.0.0.1, a loopback address"},
        {"http://metadata.google.internal/computeMetadata/v1/", "is the metadata server"},
        {"http://[::ffff:127.0.0.1]/a.png", "::ffff:127.0.0.1, a loopback address"},
        {"http://[::1]:8080/a.png", "::1, a loopback address"},
        {"http://100.64.1.1/a.png", "shared (CGNAT)"},
        {"http://0.0.0.0/a.png", "unspecified"},
    };
    for (const auto& [ref, why] : cases) {
        INFO(ref);
        Web web;
        auto dns = resolver();
        test::RecordingClock clock;
        RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
        auto r = fetcher.resolve_row({ref}, {}, "batch.csv:5");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::ref_fetch_failed);
        const std::string& m = r.status().message();
        CHECK(m.rfind("batch.csv:5: refs: \"" + refs::without_query(ref) + "\" is refused", 0) ==
              0);
        CHECK(m.find(why) != std::string::npos);
        CHECK(m.find("--allow-private-refs") != std::string::npos);
        CHECK(m.find('?') == std::string::npos);
        CHECK(web.transport.requests().empty());
        CHECK(clock.waits().empty());  // a refusal is final
    }
}

TEST_CASE("refs: a public host that redirects to a loopback one is refused at the redirect",
          "[refs]") {
    Web web;
    web.redirects["http://public.example/a.png?sig=1"] = "http://internal.test/secret.png?t=2";
    web.redirects["http://cdn.example/b.png"] = "http://169.254.169.254/latest/meta-data/";
    web.redirects["https://cdn.example/c.png"] = "file:///etc/passwd";
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);

    auto r = fetcher.resolve_row({"http://public.example/a.png?sig=1"}, {}, "batch.csv:6");
    REQUIRE_FALSE(r.ok());
    CHECK(
        r.status().message() ==
        "batch.csv:6: refs: \"http://public.example/a.png\" is refused (redirected to "
        "\"http://internal.test/secret.png\"): \"internal.test\" resolves to 127.0.0.1, a loopback "
        "address (--allow-private-refs allows it)");
    auto sent = web.transport.requests();
    REQUIRE(sent.size() == 1);  // the second hop was never sent
    CHECK(sent[0].url == "http://public.example/a.png?sig=1");
    CHECK(sent[0].resolve == std::vector<std::string>{"public.example:80:93.184.216.34"});

    auto meta = fetcher.resolve_row({"http://cdn.example/b.png"}, {}, "batch.csv:7");
    REQUIRE_FALSE(meta.ok());
    CHECK(meta.status().message().find("169.254.169.254, a link-local address") !=
          std::string::npos);

    auto file = fetcher.resolve_row({"https://cdn.example/c.png"}, {}, "batch.csv:8");
    REQUIRE_FALSE(file.ok());
    CHECK(file.status().message().find("unsupported scheme \"file\"") != std::string::npos);
    CHECK(web.transport.requests().size() == 3);
}

TEST_CASE("refs: more than 5 redirects are refused", "[refs]") {
    Web web;
    for (int i = 0; i < 10; ++i) {
        web.redirects["http://public.example/" + std::to_string(i)] = "/" + std::to_string(i + 1);
    }
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row({"http://public.example/0"}, {}, "b.csv:2");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "b.csv:2: refs: \"http://public.example/0\" redirects more than 5 times");
    CHECK(web.transport.requests().size() == 6);
}

TEST_CASE("refs: connections are pinned to the checked addresses only", "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
    REQUIRE(fetcher
                .resolve_row({"http://mixed.example/a.png", "https://v6.example/b.png",
                              "https://93.184.216.34:8443/c.png"},
                             {}, "b.csv:2")
                .ok());
    auto sent = web.transport.requests();
    REQUIRE(sent.size() == 3);
    std::map<std::string, std::vector<std::string>> pins;
    for (const auto& s : sent) {
        pins[s.url] = s.resolve;
    }
    CHECK(pins["http://mixed.example/a.png"] ==
          std::vector<std::string>{"mixed.example:80:93.184.216.36"});
    CHECK(pins["https://v6.example/b.png"] ==
          std::vector<std::string>{"v6.example:443:[2606:4700::1111]"});
    CHECK(pins["https://93.184.216.34:8443/c.png"].empty());  // a literal needs no resolution
}

TEST_CASE("refs: with allow_private the same addresses are fetched", "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    refs::RefsOptions options;
    options.allow_private = true;
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r =
        fetcher.resolve_row({"http://10.0.0.1/a.png", "http://loopy.example/b.png"}, {}, "b.csv:2");
    REQUIRE(r.ok());
    CHECK(r->refs.size() == 2);
    auto sent = web.transport.requests();
    REQUIRE(sent.size() == 2);
}

TEST_CASE("refs: 4xx is final, 429 and connection errors are retried", "[refs]") {
    int calls = 0;
    test::ScriptedTransport transport(
        [&](const net::HttpRequest& r) -> util::Result<net::HttpResponse> {
            ++calls;
            if (r.url.find("forbidden") != std::string::npos) {
                return http_answer(403, "");
            }
            if (r.url.find("busy") != std::string::npos && calls < 3) {
                return http_answer(429, "");
            }
            if (r.url.find("down") != std::string::npos) {
                return util::error(Code::unavailable,
                                   r.describe() + ": Couldn't connect to server");
            }
            return http_answer(200, test::png(r.url));
        });
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, transport, nullptr, clock, dns);

    auto forbidden = fetcher.resolve_row({"https://public.example/forbidden.png"}, {}, "b.csv:2");
    CHECK(forbidden.status().message() ==
          "b.csv:2: refs: \"https://public.example/forbidden.png\" answered HTTP 403");
    CHECK(calls == 1);

    calls = 0;
    CHECK(fetcher.resolve_row({"https://public.example/busy.png"}, {}, "b.csv:3").ok());
    CHECK(calls == 3);

    calls = 0;
    auto down = fetcher.resolve_row({"https://public.example/down.png?k=v"}, {}, "b.csv:4");
    CHECK(down.status().message() ==
          "b.csv:4: refs: \"https://public.example/down.png\" could not be "
          "reached: Couldn't connect to server (after 3 attempts)");
    CHECK(calls == 3);
    CHECK(clock.waits() == std::vector<std::chrono::milliseconds>{1000ms, 2000ms, 1000ms, 2000ms});
}

TEST_CASE("refs: with ref_failure skip a failed ref is dropped and reported, the row goes on",
          "[refs]") {
    Web web;
    web.statuses["https://public.example/gone.png?sig=x"] = 404;
    auto dns = resolver();
    test::RecordingClock clock;
    refs::RefsOptions options;
    options.failure_policy = refs::RefFailurePolicy::skip;
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row({"https://public.example/gone.png?sig=x", "file:///etc/passwd",
                                  "https://public.example/ok.png"},
                                 {}, "batch.csv:3");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 1);
    CHECK(r->refs[0].url == "https://public.example/ok.png");
    REQUIRE(r->dropped.size() == 2);
    CHECK(r->dropped[0].reason == DropReason::failed);
    CHECK(r->dropped[0].message ==
          "batch.csv:3: refs: \"https://public.example/gone.png\" answered HTTP 404 (skipped)");
    CHECK(r->dropped[1].url == "file:///etc/passwd");
    CHECK(r->dropped[1].message.find("unsupported scheme \"file\"") != std::string::npos);
    CHECK(fetcher.stats().skipped == 2);
}

TEST_CASE("refs: under the fail policy every failed ref of the row is named", "[refs]") {
    Web web;
    web.statuses["https://public.example/a.png"] = 404;
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row({"https://public.example/a.png", "ftp://x/b.png"}, {}, "b.csv:2");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::ref_fetch_failed);
    CHECK(r.status().message() ==
          "b.csv:2: refs: \"https://public.example/a.png\" answered HTTP 404; b.csv:2: refs: "
          "\"ftp://x/b.png\" has an unsupported scheme \"ftp\" (use https://, http://, gs:// or a "
          "local path)");
}

TEST_CASE("refs: the same URL written differently is fetched once and reported as a duplicate",
          "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    RefFetcher fetcher(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
    auto r =
        fetcher.resolve_row({"HTTP://Public.Example:80/a.png#top", "http://public.example/b.png"},
                            {"http://public.example/a.png"}, "b.csv:2");
    REQUIRE(r.ok());
    CHECK(r->refs.size() == 2);
    REQUIRE(r->dropped.size() == 1);
    CHECK(r->dropped[0].reason == DropReason::duplicate_url);
    CHECK(r->dropped[0].message ==
          "b.csv:2: refs: \"http://public.example/a.png\" dropped: same URL as "
          "\"http://public.example/a.png\"");
    CHECK(web.transport.requests().size() == 2);
    CHECK(fetcher.stats().duplicate_urls == 1);
}

TEST_CASE("refs: content duplicates free a slot under the cap for the next ref", "[refs]") {
    Web web;
    for (const char* u : {"https://public.example/1.png", "https://public.example/1-copy.png"}) {
        web.bodies[u] = test::png("one");
    }
    auto dns = resolver();
    test::RecordingClock clock;
    refs::RefsOptions options;
    options.max_refs = 3;
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row(
        {"https://public.example/1.png", "https://public.example/1-copy.png",
         "https://public.example/2.png"},
        {"https://public.example/3.png", "https://public.example/4.png"}, "b.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 3);
    CHECK(r->refs[2].url == "https://public.example/3.png");
    REQUIRE(r->dropped.size() == 2);
    CHECK(r->dropped[0].reason == DropReason::duplicate_content);
    CHECK(r->dropped[1].reason == DropReason::over_cap);
    CHECK(r->dropped[1].url == "https://public.example/4.png");
    CHECK(web.transport.requests().size() == 4);  // 4.png was never fetched
}

TEST_CASE("refs: refs that would overflow the row's inline budget are dropped in order", "[refs]") {
    Web web;
    web.bodies["https://public.example/big.png"] = test::png(std::string(3000, 'b'));
    web.bodies["https://public.example/small.png"] = test::png("s");
    auto dns = resolver();
    test::RecordingClock clock;
    refs::RefsOptions options;
    options.max_total_bytes = 4000;  // base64 of 3000+ bytes is 4000+
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row(
        {"https://public.example/big.png", "https://public.example/small.png"}, {}, "b.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 1);
    CHECK(r->refs[0].url == "https://public.example/small.png");
    REQUIRE(r->dropped.size() == 1);
    CHECK(r->dropped[0].reason == DropReason::over_total_bytes);
    CHECK(fetcher.stats().dropped_by_size == 1);
}

TEST_CASE("refs: gs:// refs and local files are read through Storage", "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    test::MemoryStorage gcs;
    gcs.objects["gs://bucket/refs/a.png"] = test::png("gcs");
    gcs.objects["gs://bucket/batches/rel.png"] = test::jpeg("rel");
    refs::RefsOptions options;
    options.base_dir = "gs://bucket/batches";
    RefFetcher fetcher(options, web.transport, &gcs, clock, dns);
    auto r = fetcher.resolve_row({"gs://bucket/refs/a.png", "rel.png"}, {"gs://bucket/refs/a.png"},
                                 "b.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 2);
    CHECK(r->refs[0].mime_type == "image/png");
    CHECK(r->refs[1].mime_type == "image/jpeg");
    CHECK(gcs.reads == 2);
    auto missing = fetcher.resolve_row({"gs://bucket/none.png"}, {}, "b.csv:3");
    CHECK(missing.status().message() == "b.csv:3: refs: \"gs://bucket/none.png\" does not exist");

    RefFetcher no_storage(refs::RefsOptions{}, web.transport, nullptr, clock, dns);
    auto config = no_storage.resolve_row({"gs://bucket/refs/a.png"}, {}, "b.csv:4");
    CHECK(config.status().message().find("no storage is configured") != std::string::npos);
    CHECK(web.transport.requests().empty());
}

TEST_CASE("refs: local paths are relative to the batch's folder; others only from allowed folders",
          "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    test::TempDir dir;
    dir.write("batches/refs/a.png", test::png("local a"));
    std::string elsewhere = dir.write("elsewhere/b.jpg", test::jpeg("local b"));
    dir.write("batches/notes.txt", "not an image\n");
    refs::RefsOptions options;
    options.base_dir = dir.file("batches");
    {
        // Outside the batch's folder, directly or through a link: refused, nothing read.
        std::filesystem::create_symlink(elsewhere, dir.file("batches/refs/link.jpg"));
        RefFetcher confined(options, web.transport, nullptr, clock, dns);
        for (const std::string& ref :
             {elsewhere, std::string("../elsewhere/b.jpg"), std::string("refs/link.jpg")}) {
            auto out = confined.resolve_row({ref}, {}, "b.csv:9");
            INFO(ref);
            CHECK(out.status().message().rfind(
                      "b.csv:9: refs: \"" + ref + "\" is outside the batch's folder (it is \"",
                      0) == 0);
            CHECK(out.status().message().find("--allow-local-refs DIR") != std::string::npos);
        }
        CHECK(confined.stats().local_reads == 0);
    }
    options.allowed_local_dirs = {dir.file("elsewhere"), "/dev"};
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r = fetcher.resolve_row({"refs/a.png", elsewhere, "./refs/../refs/a.png"}, {}, "b.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 2);
    CHECK(r->refs[0].data == test::png("local a"));
    CHECK(r->refs[1].mime_type == "image/jpeg");
    CHECK(r->dropped.size() == 1);
    CHECK(fetcher.stats().local_reads == 2);
    auto text = fetcher.resolve_row({"notes.txt"}, {}, "b.csv:3");
    CHECK(text.status().message() == "b.csv:3: refs: \"notes.txt\" is not an image (text/plain?)");
    auto device = fetcher.resolve_row({"/dev/zero"}, {}, "b.csv:5");
    CHECK(device.status().message() == "b.csv:5: refs: \"/dev/zero\" is not a regular file");
    auto folder = fetcher.resolve_row({"refs"}, {}, "b.csv:6");
    CHECK(folder.status().message() == "b.csv:6: refs: \"refs\" is not a regular file");
    auto none = fetcher.resolve_row({"refs/none.png"}, {}, "b.csv:4");
    CHECK(none.status().message() == "b.csv:4: refs: \"refs/none.png\" does not exist");

    options.max_bytes_per_ref = 10;
    RefFetcher small(options, web.transport, nullptr, clock, dns);
    auto big = small.resolve_row({"refs/a.png"}, {}, "b.csv:7");
    CHECK(big.status().message() ==
          "b.csv:7: refs: \"refs/a.png\" is larger than the 10 bytes limit for one reference");
}

TEST_CASE("refs: the resign hook is asked before each fetch and its URL is fetched", "[refs]") {
    Web web;
    auto dns = resolver();
    test::RecordingClock clock;
    refs::RefsOptions options;
    std::mutex asked_mutex;
    std::vector<std::string> asked;
    options.resign = [&](const std::string& u) -> std::optional<std::string> {
        {
            std::lock_guard lock(asked_mutex);
            asked.push_back(u);
        }
        if (u.find("X-Goog-Expires=60") != std::string::npos) {
            return "https://cdn.example/o.png?X-Goog-Expires=3600&X-Goog-Signature=new";
        }
        return std::nullopt;
    };
    RefFetcher fetcher(options, web.transport, nullptr, clock, dns);
    auto r =
        fetcher.resolve_row({"https://cdn.example/o.png?X-Goog-Expires=60&X-Goog-Signature=old",
                             "https://cdn.example/p.png"},
                            {}, "b.csv:2");
    REQUIRE(r.ok());
    CHECK(asked.size() == 2);
    auto sent = web.transport.requests();
    REQUIRE(sent.size() == 2);
    std::vector<std::string> urls = {sent[0].url, sent[1].url};
    std::sort(urls.begin(), urls.end());
    CHECK(urls[0] == "https://cdn.example/o.png?X-Goog-Expires=3600&X-Goog-Signature=new");
    CHECK(urls[1] == "https://cdn.example/p.png");
    CHECK(r->refs[0].url == "https://cdn.example/o.png");
}
