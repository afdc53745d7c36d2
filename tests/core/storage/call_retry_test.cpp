// A caller's own retry policy for one Storage call (storage::CallRetry in ReadOptions and
// WriteOptions): Cloud Storage makes exactly that many attempts in place of its own, keeps its
// idempotency rule, and leaves its other calls alone; a local folder ignores it.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "core/storage/gcs_test_support.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using namespace std::chrono_literals;
using test::gcs::error_json;
using test::gcs::object_json;
using test::gcs::ScriptedTransport;

namespace {

const std::string k_loc = "gs://call-bucket/refs/a.png";

struct Rig {
    ScriptedTransport transport;
    test::FakeClock clock;
    GcsStorage storage{std::make_unique<GcsClient>(transport, nullptr, clock)};
    Rig() {
        transport.set_handler([](const net::HttpRequest&) -> util::Result<net::HttpResponse> {
            net::HttpResponse r;
            r.status = 503;
            r.body = error_json(503, "backendError", "Service Unavailable");
            return r;
        });
    }
};

CallRetry attempts(int n) {
    CallRetry call;
    call.policy = util::RetryPolicy{};
    call.policy->max_attempts = n;
    call.policy->initial_backoff = 10ms;
    call.policy->max_backoff = 10ms;
    call.policy->jitter = util::Jitter::none;
    return call;
}

}  // namespace

TEST_CASE("storage: a read with its own retry policy makes exactly its attempts",
          "[storage][retry]") {
    Rig rig;
    ReadOptions read;
    read.retry = attempts(3);
    int notices = 0;
    read.retry.on_retry = [&](const util::RetryNotice& n) {
        ++notices;
        CHECK(n.delay == 10ms);
    };
    auto got = rig.storage.read(k_loc, read);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().http_status() == 503);
    CHECK(got.status().message().find("(after 3 attempts)") != std::string::npos);
    CHECK(rig.transport.requests.size() == 3);
    CHECK(notices == 2);
    CHECK(rig.clock.steady().time_since_epoch() == 20ms);

    // The same storage's calls without a policy keep the client's own (6 attempts).
    rig.transport.requests.clear();
    CHECK_FALSE(rig.storage.get(k_loc).ok());
    CHECK(rig.transport.requests.size() == 6);

    // read_to follows it too.
    rig.transport.requests.clear();
    ReadOptions stream;
    stream.retry = attempts(2);
    auto streamed = rig.storage.read_to(
        k_loc, [](std::string_view) { return util::ok_status(); }, stream);
    CHECK_FALSE(streamed.ok());
    CHECK(rig.transport.requests.size() == 2);
}

TEST_CASE("storage: a write's own retry policy keeps Google's idempotency rule",
          "[storage][retry]") {
    Rig rig;
    // Without a generation precondition a sent write is never repeated, whatever the policy.
    WriteOptions blind;
    blind.retry = attempts(5);
    CHECK_FALSE(rig.storage.write(k_loc, "bytes", blind).ok());
    CHECK(rig.transport.requests.size() == 1);

    // With one it is repeated exactly as the policy says.
    rig.transport.requests.clear();
    WriteOptions guarded;
    guarded.if_generation_match = 0;
    guarded.retry = attempts(2);
    CHECK_FALSE(rig.storage.write(k_loc, "bytes", guarded).ok());
    CHECK(rig.transport.requests.size() == 2);

    // A success on the last allowed attempt is a success.
    rig.transport.requests.clear();
    rig.transport.set_handler(nullptr);
    rig.transport.push(503, error_json(503, "backendError", "Service Unavailable"));
    rig.transport.push(200, object_json("call-bucket", "refs/a.png", 9, "bytes"));
    auto stored = rig.storage.write(k_loc, "bytes", guarded);
    REQUIRE(stored.ok());
    CHECK(stored->generation == 9);
    CHECK(rig.transport.requests.size() == 2);
}

TEST_CASE("storage: a local folder ignores a call's retry policy", "[storage][retry]") {
    test::TempDir dir;
    LocalStorage local;
    const std::string path = dir.file("a.txt");
    WriteOptions write;
    write.retry = attempts(3);
    REQUIRE(local.write(path, "local bytes", write).ok());
    ReadOptions read;
    read.retry = attempts(3);
    auto got = local.read(path, read);
    REQUIRE(got.ok());
    CHECK(got->data == "local bytes");
    auto missing = local.read(dir.file("none.txt"), read);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == util::Code::not_found);
}
