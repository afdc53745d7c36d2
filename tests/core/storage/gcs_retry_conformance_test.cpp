// Google's retry conformance scenarios (tests/data/gcs/retry_tests.json, a copy from
// googleapis/conformance-tests) run against GcsClient over a scripted transport.
//
// How the file's names map onto this client:
//   storage.objects.get     → GcsClient::read (alt=media) and GcsClient::stat (metadata); the
//                             "storage.objects.download" group (scenario 8) → read
//   storage.objects.list    → GcsClient::list
//   storage.objects.insert  → GcsClient::upload (media); the "storage.resumable.upload" group
//                             (scenario 7) → upload above the resumable threshold
//   storage.objects.delete  → GcsClient::remove
//   storage.objects.compose → GcsClient::compose
// Every other method (buckets, ACLs, HMAC keys, notifications, copy, rewrite, patch, update)
// is not implemented here and is skipped. "preconditionProvided" means ifGenerationMatch on
// insert/compose/delete (what Google's libraries send). Instructions become answers:
// return-503 / return-408 / return-400 / return-401 → that HTTP status; return-reset-connection
// → a transport failure (MODEL_UNAVAILABLE); return-broken-stream[-after-256K] → a truncated
// body (BAD_RESPONSE), after which the client probes the metadata once; return-503-after-NK →
// the session keeps N KiB, then answers 503.

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/storage/session_server.hpp"
#include "storage/gcs_client.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using nlohmann::json;
using test::FakeClock;
using test::gcs::FixedTokens;
using test::gcs::ScriptedTransport;
using util::Code;

namespace {

json load_retry_tests() {
    std::ifstream in(std::string(ASSETGEN_GCS_VECTORS_DIR) + "/retry_tests.json");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

void push_instruction(ScriptedTransport& t, const std::string& instruction) {
    if (instruction == "return-reset-connection") {
        t.push_error(Code::unavailable, "connection reset by peer");
    } else if (instruction.rfind("return-broken-stream", 0) == 0) {
        t.push_error(Code::bad_response, "truncated response body");
    } else {
        REQUIRE(instruction.rfind("return-", 0) == 0);
        int status = std::stoi(instruction.substr(7));
        t.push(status, test::gcs::error_json(status, "fault", instruction));
    }
}

const GcsUrl k_obj{"conformance-bucket", "obj.txt"};

// Runs one method after the scripted faults; true when the call succeeded.
bool run_method(const std::string& method, bool precondition,
                const std::vector<std::string>& faults, std::size_t& requests) {
    ScriptedTransport t;
    FixedTokens tokens("ya29.conformance");
    FakeClock clock;
    GcsClient client(t, &tokens, clock);
    for (const auto& f : faults) {
        push_instruction(t, f);
        if (f.rfind("return-broken-stream", 0) == 0) {
            // After a broken read the client asks for the metadata, to tell a body over its
            // read limit (permanent) from a cut connection (retried): the object is small.
            t.push(200, test::gcs::object_json("conformance-bucket", "obj.txt", 5, "hello"));
        }
    }
    Preconditions pre;
    if (precondition) {
        pre.if_generation_match = method == "storage.objects.insert" ? 0 : 5;
    }
    bool ok = false;
    if (method == "storage.objects.get") {
        t.push(200, "hello");
        ok = client.read(k_obj, 0, std::nullopt, pre).ok();
    } else if (method == "storage.objects.get#stat") {
        t.push(200, test::gcs::object_json("conformance-bucket", "obj.txt", 5, "hello"));
        ok = client.stat(k_obj, pre).ok();
    } else if (method == "storage.objects.list") {
        t.push(200, R"({"items":[{"name":"obj.txt","generation":"5"}]})");
        ok = client.list("conformance-bucket", "").ok();
    } else if (method == "storage.objects.insert") {
        t.push(200, test::gcs::object_json("conformance-bucket", "obj.txt", 6, "hello"));
        ok = client.upload(k_obj, "hello", "text/plain", pre).ok();
    } else if (method == "storage.objects.delete") {
        t.push(204, "");
        ok = client.remove(k_obj, std::nullopt, pre).ok();
    } else if (method == "storage.objects.compose") {
        t.push(200, test::gcs::object_json("conformance-bucket", "obj.txt", 7, "hello",
                                           "text/plain", 2));
        ok = client.compose(k_obj, {{"a", std::nullopt}, {"b", std::nullopt}}, "text/plain", pre)
                 .ok();
    } else {
        FAIL("unmapped method " << method);
    }
    requests = t.requests.size();
    return ok;
}

const std::set<std::string> k_implemented = {"storage.objects.get", "storage.objects.list",
                                             "storage.objects.insert", "storage.objects.delete",
                                             "storage.objects.compose"};

}  // namespace

TEST_CASE("storage: idempotency follows Google's classification in retry_tests.json", "[storage]") {
    json tests = load_retry_tests();
    std::set<std::string> seen;
    for (const auto& scenario : tests["retryTests"]) {
        const int id = scenario["id"];
        if (id > 4) {
            continue;  // 5-8 are about errors and recovery, checked below
        }
        const bool precondition = scenario["preconditionProvided"];
        const bool expect = scenario["expectSuccess"];
        for (const auto& m : scenario["methods"]) {
            std::string name = m["name"];
            if (k_implemented.count(name) == 0) {
                continue;
            }
            seen.insert(name);
            GcsOp op = name == "storage.objects.get"      ? GcsOp::objects_get
                       : name == "storage.objects.list"   ? GcsOp::objects_list
                       : name == "storage.objects.insert" ? GcsOp::objects_insert
                       : name == "storage.objects.delete" ? GcsOp::objects_delete
                                                          : GcsOp::objects_compose;
            INFO("scenario " << id << " " << name);
            CHECK(gcs_op_name(op) == name);
            // A scenario expects success exactly when the faults are retried, i.e. when the
            // call is idempotent with (or without) the precondition.
            CHECK(is_idempotent(op, precondition) == expect);
        }
    }
    CHECK(seen == k_implemented);
}

TEST_CASE("storage: retry conformance scenarios 1-6 pass against the client", "[storage]") {
    json tests = load_retry_tests();
    int runs = 0;
    for (const auto& scenario : tests["retryTests"]) {
        const int id = scenario["id"];
        if (id > 6) {
            continue;
        }
        const bool precondition = scenario["preconditionProvided"];
        const bool expect = scenario["expectSuccess"];
        for (const auto& m : scenario["methods"]) {
            std::string name = m["name"];
            if (k_implemented.count(name) == 0) {
                continue;
            }
            std::vector<std::string> variants = {name};
            if (name == "storage.objects.get") {
                variants.push_back("storage.objects.get#stat");
            }
            for (const auto& c : scenario["cases"]) {
                std::vector<std::string> faults = c["instructions"];
                for (const auto& method : variants) {
                    INFO("scenario " << id << " (" << scenario["description"].get<std::string>()
                                     << ") " << method << " " << c["instructions"].dump());
                    std::size_t requests = 0;
                    CHECK(run_method(method, precondition, faults, requests) == expect);
                    if (expect) {
                        CHECK(requests == faults.size() + 1);
                    } else {
                        CHECK(requests <= faults.size());
                    }
                    ++runs;
                }
            }
        }
    }
    CHECK(runs > 40);
}

TEST_CASE("storage: retry conformance scenario 7: resumable uploads recover", "[storage]") {
    json tests = load_retry_tests();
    const json& scenario = tests["retryTests"][6];
    REQUIRE(scenario["id"] == 7);
    REQUIRE(scenario["methods"][0]["group"] == "storage.resumable.upload");
    for (const auto& c : scenario["cases"]) {
        INFO(c["instructions"].dump());
        ScriptedTransport t;
        FixedTokens tokens("ya29.conformance");
        FakeClock clock;
        GcsClientOptions o;
        o.chunk_size = 2u << 20;  // 8 MiB threshold: 9 MiB goes up in five chunks
        GcsClient client(t, &tokens, clock, o);
        test::gcs::SessionServer server;
        server.name = "obj.txt";
        for (const auto& i : c["instructions"]) {
            std::string s = i.get<std::string>();
            server.faults.push_back(s == "return-reset-connection" ? "reset" : s.substr(7));
        }
        t.set_handler([&server](const net::HttpRequest& r) { return server.handle(r); });
        std::string data(9u << 20, 'q');
        for (std::size_t k = 0; k < data.size(); k += 4093) {
            data[k] = static_cast<char>('a' + k % 26);
        }
        Preconditions pre;
        pre.if_generation_match = 0;
        auto m = client.upload({"conformance-bucket", "obj.txt"}, data, "text/plain", pre);
        REQUIRE(m.ok());
        CHECK(server.stored == data);
        CHECK(server.completions == 1);
        CHECK(server.faults.empty());
    }
}

TEST_CASE("storage: retry conformance scenario 8: downloads recover from broken streams",
          "[storage]") {
    json tests = load_retry_tests();
    const json& scenario = tests["retryTests"][7];
    REQUIRE(scenario["id"] == 8);
    REQUIRE(scenario["methods"][0]["group"] == "storage.objects.download");
    for (const auto& c : scenario["cases"]) {
        std::vector<std::string> faults = c["instructions"];
        std::size_t requests = 0;
        CHECK(run_method("storage.objects.get", false, faults, requests) ==
              scenario["expectSuccess"]);
        CHECK(requests == 2 * faults.size() + 1);  // each failed read, its metadata probe, the read
    }
}
