#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "report/events.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

}  // namespace

TEST_CASE("report: event lines are JSON with ts and event first", "[report]") {
    test::TempDir dir;
    test::FakeClock clock(1'764'000'000'123);
    {
        auto sink = report::FileEventSink::open(dir.file("events.jsonl"), clock);
        REQUIRE(sink.ok());
        (*sink)->emit("started", {{"jobId", "j1"}, {"rows", 100}, {"images", 199}});
        clock.advance(std::chrono::milliseconds(250));
        (*sink)->emit("item_complete", {{"scene_id", "BATCH-001"},
                                        {"variant", 2},
                                        {"latency_ms", 1234.5},
                                        {"refs", json::array({"a", "b"})},
                                        {"ok", true},
                                        {"error", nullptr}});
        (*sink)->emit("done", json());
        (*sink)->flush();
    }
    std::string text = dir.read("events.jsonl");
    REQUIRE(!text.empty());
    CHECK(text.back() == '\n');
    auto lines = lines_of(text);
    REQUIRE(lines.size() == 3);
    for (const auto& line : lines) {
        INFO(line);
        CHECK(std::regex_search(line, std::regex(R"re(^\{"ts":[0-9]+,"event":")re")));
        CHECK(json::accept(line));
    }
    json first = json::parse(lines[0]);
    CHECK(first["ts"] == 1'764'000'000'123);
    CHECK(first["event"] == "started");
    CHECK(first["jobId"] == "j1");
    CHECK(first["images"] == 199);
    json second = json::parse(lines[1]);
    CHECK(second["ts"] == 1'764'000'000'373);
    CHECK(second["variant"] == 2);
    CHECK(second["latency_ms"] == 1234.5);
    CHECK(second["refs"] == json::array({"a", "b"}));
    CHECK(second["ok"] == true);
    CHECK(second["error"].is_null());
    CHECK(json::parse(lines[2]).size() == 2);
}

TEST_CASE("report: event strings are redacted at any depth", "[report]") {
    test::TempDir dir;
    test::FakeClock clock;
    const std::string key = "AIzaSyA1234567890abcdefghijklmnopqrstu";
    {
        auto sink = report::FileEventSink::open(dir.file("e.jsonl"), clock);
        REQUIRE(sink.ok());
        (*sink)->emit("error",
                      {{"message", "POST https://x/v1beta/models/m:generateContent?key=" + key},
                       {"nested", {{"headers", json::array({"Authorization: Bearer ya29.tok"})}}},
                       {"api_key", "plain-secret-1"},
                       {"access_token", "plain-secret-2"},
                       {"ts", 1},  // cannot overwrite ours
                       {"scene_id", "BATCH-007"}});
    }
    std::string text = dir.read("e.jsonl");
    INFO(text);
    CHECK(text.find(key) == std::string::npos);
    CHECK(text.find("ya29.tok") == std::string::npos);
    CHECK(text.find("plain-secret-1") == std::string::npos);
    CHECK(text.find("plain-secret-2") == std::string::npos);
    json line = json::parse(lines_of(text).at(0));
    CHECK(line["scene_id"] == "BATCH-007");
    CHECK(line["ts"] != 1);
    CHECK(line["message"].get<std::string>().find("generateContent") != std::string::npos);
}

TEST_CASE("report: the event file is appended to, so a resumed job keeps its history", "[report]") {
    test::TempDir dir;
    test::FakeClock clock;
    std::string path = dir.file("sub/folder/events.jsonl");
    for (int run = 0; run < 2; ++run) {
        auto sink = report::FileEventSink::open(path, clock);
        REQUIRE(sink.ok());
        (*sink)->emit("started", {{"run", run}});
    }
    auto lines = lines_of(dir.read("sub/folder/events.jsonl"));
    REQUIRE(lines.size() == 2);
    CHECK(json::parse(lines[0])["run"] == 0);
    CHECK(json::parse(lines[1])["run"] == 1);

    auto bad = report::FileEventSink::open(dir.write("a-file", "x") + "/below/events.jsonl", clock);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == util::Code::storage_io);
}

TEST_CASE("report: events from many threads never interleave", "[report]") {
    test::TempDir dir;
    test::FakeClock clock;
    {
        auto sink = report::FileEventSink::open(dir.file("e.jsonl"), clock);
        REQUIRE(sink.ok());
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 200; ++i) {
                    (*sink)->emit("progress",
                                  {{"thread", t}, {"i", i}, {"padding", std::string(300, 'p')}});
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
    }
    auto lines = lines_of(dir.read("e.jsonl"));
    REQUIRE(lines.size() == 1600);
    std::set<std::pair<int, int>> seen;
    for (const auto& line : lines) {
        REQUIRE(json::accept(line));
        json j = json::parse(line);
        seen.insert({j["thread"].get<int>(), j["i"].get<int>()});
    }
    CHECK(seen.size() == 1600);
}

TEST_CASE("report: invalid UTF-8 in an event is replaced, not thrown", "[report]") {
    test::TempDir dir;
    test::FakeClock clock;
    {
        auto sink = report::FileEventSink::open(dir.file("e.jsonl"), clock);
        REQUIRE(sink.ok());
        CHECK_NOTHROW((*sink)->emit("error", {{"message", std::string("bad \xff byte")}}));
    }
    auto lines = lines_of(dir.read("e.jsonl"));
    REQUIRE(lines.size() == 1);
    CHECK(json::accept(lines[0]));
}
