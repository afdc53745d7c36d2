#include <catch2/catch.hpp>

#include "core/ledger/sample_entries.hpp"
#include "ledger/entry.hpp"
#include "ledger/json_line.hpp"
#include "util/money.hpp"

using namespace assetgen;

TEST_CASE("ledger: an entry is written with every field in the struct's order", "[ledger]") {
    ledger::Entry e = test::sample_entry("job1", "BATCH-001", 2);
    e.shard = "1/4";
    CHECK(ledger::to_line(e) ==
          "{\"ts\":1763985600000,\"userId\":\"ops\",\"jobId\":\"job1\","
          "\"prompt\":\"product on clean bg #BATCH-001\",\"images\":1,\"cost\":0.039,\"v\":1,"
          "\"id\":\"job1/BATCH-001/v2\",\"scene_id\":\"BATCH-001\",\"variant\":2,"
          "\"model\":\"gemini-2.5-flash-image\",\"mode\":\"dry_run\",\"status\":\"ok\","
          "\"error_code\":\"\",\"estimated\":0.039,\"shard\":\"1/4\",\"tier\":\"standard\"}\n");
}

TEST_CASE("ledger: the tier is written, and a line without it reads as standard",
          "[ledger][tier]") {
    ledger::Entry e = test::sample_entry("job1", "BATCH-001", 1);
    e.tier = "flex";
    std::string line = ledger::to_line(e);
    CHECK(line.find(",\"tier\":\"flex\"") != std::string::npos);
    auto back = ledger::parse_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(back.ok());
    CHECK(back->tier == "flex");
    const std::string old = line.replace(line.find(",\"tier\":\"flex\""), 14, "");
    auto older = ledger::parse_line(std::string_view(old).substr(0, old.size() - 1));
    REQUIRE(older.ok());
    CHECK(older->tier == "standard");
    CHECK(older->cost == e.cost);
}

TEST_CASE("ledger: an entry round-trips through its line, every field", "[ledger]") {
    ledger::Entry e;
    e.ts = -1;  // before the epoch: still an integer
    e.user_id = "o'brien \"ops\"";
    e.job_id = "j\\1";
    e.prompt = "line one\nline two\ttab, caf\xc3\xa9, \xe2\x9c\x93, \x01 control";
    e.images = 0;
    e.cost = 0;
    e.v = 1;
    e.id = "j/s/v3";
    e.scene_id = "s";
    e.variant = 3;
    e.model = "gemini-3-pro-image";
    e.mode = "live";
    e.status = "BLOCKED";
    e.error_code = "BLOCKED";
    e.estimated = 240'000;
    e.shard = "2/3";
    e.tier = "priority";
    const std::string line = ledger::to_line(e);
    REQUIRE(line.back() == '\n');
    REQUIRE(line.find('\n') == line.size() - 1);  // one line, whatever the prompt holds
    auto back = ledger::parse_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(back.ok());
    CHECK(*back == e);
}

TEST_CASE("ledger: money is written as dollars without binary-float noise", "[ledger]") {
    CHECK(ledger::format_dollars(39'000) == "0.039");
    CHECK(ledger::format_dollars(134'000) == "0.134");
    CHECK(ledger::format_dollars(7'761'000) == "7.761");
    CHECK(ledger::format_dollars(1'000'000) == "1");
    CHECK(ledger::format_dollars(0) == "0");
    CHECK(ledger::format_dollars(1) == "0.000001");
    CHECK(ledger::format_dollars(-500'000) == "-0.5");
    CHECK(ledger::format_dollars(12'345'678'901) == "12345.678901");
}

TEST_CASE("ledger: money is read back to the exact micro-dollar from the number's text",
          "[ledger]") {
    auto micros = [](std::string_view text) {
        auto r = ledger::parse_dollars(text);
        REQUIRE(r.ok());
        return *r;
    };
    CHECK(micros("0.039") == 39'000);
    CHECK(micros("0.039000000000000007") == 39'000);  // a JavaScript writer's float noise
    CHECK(micros("7.760999999999999") == 7'761'000);
    CHECK(micros("7.761") == 7'761'000);
    CHECK(micros("2") == 2'000'000);
    CHECK(micros("1e-3") == 1'000);
    CHECK(micros("3.9E-2") == 39'000);
    CHECK(micros("1.5e2") == 150'000'000);
    CHECK(micros("0.0000005") == 1);  // below a micro-dollar: rounds up, never down
    CHECK(micros("0.0000004") == 1);
    CHECK_FALSE(ledger::parse_dollars("-0.25").ok());  // money read back is never a credit
    CHECK(micros("0") == 0);
    CHECK_FALSE(ledger::parse_dollars("").ok());
    CHECK_FALSE(ledger::parse_dollars("abc").ok());
    CHECK_FALSE(ledger::parse_dollars("1.").ok());
    CHECK_FALSE(ledger::parse_dollars("1e").ok());
    CHECK_FALSE(ledger::parse_dollars("1e20").ok());  // out of range

    auto e = ledger::parse_line(
        R"({"ts":1,"userId":"u","jobId":"j","prompt":"p","images":1,"cost":0.039000000000000007})");
    REQUIRE(e.ok());
    CHECK(e->cost == 39'000);
}

TEST_CASE("ledger: a reference-platform line with six fields reads as v0 with status ok",
          "[ledger]") {
    auto e = ledger::parse_line(
        R"({"ts":1763985600000,"userId":"alice@example.com","jobId":"job-42","prompt":"a red chair","images":2,"cost":0.078})");
    REQUIRE(e.ok());
    CHECK(e->ts == 1'763'985'600'000);
    CHECK(e->user_id == "alice@example.com");
    CHECK(e->job_id == "job-42");
    CHECK(e->prompt == "a red chair");
    CHECK(e->images == 2);
    CHECK(e->cost == 78'000);
    CHECK(e->v == 0);
    CHECK(e->status == "ok");
    CHECK(e->id.empty());
    CHECK(e->error_code.empty());
}

TEST_CASE("ledger: a bad line is refused naming the first bad or missing field", "[ledger]") {
    auto message = [](std::string_view line) {
        auto e = ledger::parse_line(line);
        REQUIRE_FALSE(e.ok());
        CHECK(e.status().code() == util::Code::invalid_input);
        return e.status().message();
    };
    CHECK(message(R"({"ts":1,"jobId":"j","prompt":"p","images":1,"cost":1})") == "userId: missing");
    CHECK(message(R"({"ts":1,"userId":"u","jobId":"j","prompt":"p","images":1.5,"cost":1})") ==
          "images: \"1.5\" is not an integer");
    CHECK(message(R"({"ts":"1","userId":7,"jobId":"j","prompt":"p","images":1,"cost":1})") ==
          "ts: expected an integer, got a string");
    CHECK(message(R"({"ts":1,"userId":"u","userId":"w","jobId":"j"})") == "userId: given twice");
    CHECK(message("[1,2]") == "bad JSON: the line is not an object");
    CHECK(message("42") == "bad JSON: the line is not an object");
    CHECK(message(R"({"ts":1,"userId":)").rfind("bad JSON: ", 0) == 0);
    CHECK(message("").rfind("bad JSON: ", 0) == 0);

    // Our own version must carry every field.
    std::string line = ledger::to_line(test::sample_entry("j", "s"));
    line.pop_back();
    auto cut = line.find(",\"shard\"");
    CHECK(message(line.substr(0, cut) + "}") == "shard: missing");
    CHECK(message(R"({"ts":1,"userId":"u","jobId":"j","prompt":"p","images":1,"cost":1,"v":-1})") ==
          "v: \"-1\" is not a schema version");
}

TEST_CASE("ledger: a line from a newer schema keeps its spend and the fields it has", "[ledger]") {
    auto e = ledger::parse_line(
        R"({"ts":5,"userId":"u","jobId":"j","prompt":"p","images":1,"cost":0.039,"v":2,"id":"j/s/v1","future":{"x":[1,2]}})");
    REQUIRE(e.ok());
    CHECK(e->v == 2);
    CHECK(e->cost == 39'000);
    CHECK(e->id == "j/s/v1");
}

TEST_CASE("ledger: a cost that cannot be trusted reads as its worst case, never as a credit",
          "[ledger][money]") {
    auto read = [](std::string_view cost) {
        auto e = ledger::parse_line(
            R"({"ts":1,"userId":"u","jobId":"j","prompt":"p","images":1,"cost":)" +
            std::string(cost) + "}");
        REQUIRE(e.ok());
        return *e;
    };
    CHECK(read("0.039").cost_problem.empty());
    auto negative = read("-100");
    CHECK(negative.cost == 100'000'000);
    CHECK(negative.cost_problem == "cost: \"-100\" is negative");
    auto precise = read("0.0390001");
    CHECK(precise.cost == 39'001);
    CHECK(precise.cost_problem == "cost: \"0.0390001\" has more than 6 decimals");
    auto absurd = read("1e300");
    CHECK(absurd.cost == util::k_max_micros);
    CHECK(absurd.cost_problem == "cost: \"1e300\" is out of range");
    auto text = read("\"0.039\"");
    CHECK(text.cost == util::k_max_micros);
    CHECK(text.cost_problem == "cost: \"(not a number)\" is not a number");
    // Token counts round-trip; a line without them has none.
    ledger::Entry e = read("0.039");
    e.v = 1;
    e.has_tokens = true;
    e.prompt_tokens = 17;
    e.output_tokens = 1306;
    e.output_image_tokens = 1290;
    e.thoughts_tokens = 400'000;
    auto back = ledger::parse_line(ledger::to_line(e).substr(0, ledger::to_line(e).size() - 1));
    REQUIRE(back.ok());
    CHECK(*back == e);
}
