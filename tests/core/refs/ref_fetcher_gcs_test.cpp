// gs:// references read through the real GcsStorage and GcsClient over a scripted transport:
// the fetcher's retry policy (DESIGN §4: 2 retries, 1 s then 2 s) is the only loop, passed down
// to Cloud Storage in place of the client's own 6 attempts; nothing retries on top.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/refs/refs_test_support.hpp"
#include "core/storage/gcs_test_support.hpp"
#include "refs/ref_fetcher.hpp"
#include "storage/gcs_storage.hpp"

using namespace assetgen;
using namespace std::chrono_literals;
using refs::RefFetcher;
using util::Code;

namespace {

const std::string k_ref = "gs://ref-bucket/refs/r0.png";

// A GcsStorage over a scripted transport, with the client's default retry options (6 attempts
// within 120 s), and a fetcher reading gs:// refs through it.
struct GcsRefRig {
    test::gcs::ScriptedTransport gcs;
    test::RecordingClock clock;
    storage::GcsStorage storage{std::make_unique<storage::GcsClient>(gcs, nullptr, clock)};
    // http(s) refs are not used here: a transport that fails every request.
    test::ScriptedTransport web{[](const net::HttpRequest&) -> util::Result<net::HttpResponse> {
        return util::error(Code::internal, "no web request expected");
    }};
    refs::FixedResolver resolver;

    std::unique_ptr<RefFetcher> fetcher(refs::RefsOptions options = {}) {
        options.cache_dir.clear();
        return std::make_unique<RefFetcher>(options, web, &storage, clock, resolver);
    }
    // Reads of the object's bytes (alt=media GETs) the fake answered.
    std::size_t reads() const {
        std::size_t n = 0;
        for (const auto& r : gcs.requests) {
            n += r.method == "GET" && r.url.find("alt=media") != std::string::npos ? 1 : 0;
        }
        return n;
    }
};

std::string unavailable() {
    return test::gcs::error_json(503, "backendError", "Service Unavailable");
}

}  // namespace

TEST_CASE("refs: a gs:// ref answering 503 is read exactly 3 times, then fails its row",
          "[refs][retry]") {
    GcsRefRig rig;
    rig.gcs.set_handler([](const net::HttpRequest&) -> util::Result<net::HttpResponse> {
        return test::http_answer(503, unavailable());
    });
    auto fetcher = rig.fetcher();
    auto row = fetcher->resolve_row({k_ref}, {}, "batch.csv:2");
    REQUIRE_FALSE(row.ok());
    CHECK(row.status().code() == Code::ref_fetch_failed);
    const std::string message = row.status().message();
    CHECK(message.rfind("batch.csv:2: refs: \"" + k_ref + "\" could not be read: ", 0) == 0);
    CHECK(message.find("(after 3 attempts)") != std::string::npos);
    // Exactly the fetcher's 3 attempts reached Cloud Storage (not the client's 6, not 3 × 6),
    // with its waits: 1 s, then 2 s, no jitter.
    CHECK(rig.gcs.requests.size() == 3);
    CHECK(rig.reads() == 3);
    CHECK(rig.clock.waits() == std::vector<std::chrono::milliseconds>{1000ms, 2000ms});
    const refs::RefStats stats = fetcher->stats();
    CHECK(stats.attempts == 3);
    CHECK(stats.retries == 2);
    CHECK(stats.failed == 1);
    CHECK(stats.fetched == 0);

    // A second row naming the ref shares the failed flight: nothing more is read.
    auto again = fetcher->resolve_row({k_ref}, {}, "batch.csv:3");
    REQUIRE_FALSE(again.ok());
    CHECK(rig.gcs.requests.size() == 3);
}

TEST_CASE("refs: a gs:// ref whose second read succeeds is used, after one 1 s wait",
          "[refs][retry]") {
    GcsRefRig rig;
    const std::string image = test::png("from-bucket");
    rig.gcs.push(503, unavailable());
    rig.gcs.push(200, image, {{"x-goog-generation", "7"}});
    auto fetcher = rig.fetcher();
    auto row = fetcher->resolve_row({k_ref}, {}, "batch.csv:2");
    REQUIRE(row.ok());
    REQUIRE(row->refs.size() == 1);
    CHECK(row->refs[0].data == image);
    CHECK(row->refs[0].mime_type == "image/png");
    CHECK(row->refs[0].url == k_ref);
    CHECK(rig.reads() == 2);
    CHECK(rig.gcs.left() == 0);
    CHECK(rig.clock.waits() == std::vector<std::chrono::milliseconds>{1000ms});
    const refs::RefStats stats = fetcher->stats();
    CHECK(stats.attempts == 2);
    CHECK(stats.retries == 1);
    CHECK(stats.fetched == 1);
    CHECK(stats.bytes_fetched == image.size());
}

TEST_CASE("refs: --ref-retries bounds gs:// reads too; a missing object is read once",
          "[refs][retry]") {
    GcsRefRig rig;
    rig.gcs.set_handler([](const net::HttpRequest& r) -> util::Result<net::HttpResponse> {
        if (r.url.find("missing.png") != std::string::npos) {
            return test::http_answer(
                404, test::gcs::error_json(404, "notFound", "No such object: ref-bucket/x"));
        }
        return test::http_answer(503, unavailable());
    });
    refs::RefsOptions options;
    options.retries = 0;  // one attempt
    auto fetcher = rig.fetcher(options);
    auto once = fetcher->resolve_row({k_ref}, {}, "batch.csv:2");
    REQUIRE_FALSE(once.ok());
    CHECK(once.status().code() == Code::ref_fetch_failed);
    CHECK(rig.reads() == 1);
    CHECK(rig.clock.waits().empty());

    auto missing = fetcher->resolve_row({"gs://ref-bucket/missing.png"}, {}, "batch.csv:3");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message() ==
          "batch.csv:3: refs: \"gs://ref-bucket/missing.png\" does not exist");
    CHECK(rig.reads() == 2);
}
