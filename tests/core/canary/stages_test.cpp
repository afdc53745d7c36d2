#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "canary/stages.hpp"

using namespace assetgen::canary;

namespace {

std::string batch_id(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "BATCH-%03d", i);
    return buf;
}

std::set<std::string> rows_in(const std::vector<std::string>& ids, const std::string& salt,
                              int percent) {
    std::set<std::string> out;
    for (const auto& id : ids) {
        if (in_stage(id, salt, percent)) {
            out.insert(id);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("canary: --stages parses increasing whole percentages", "[canary]") {
    auto def = parse_stages(k_default_stages);
    REQUIRE(def.ok());
    CHECK(*def == std::vector<int>{10, 25, 50, 100});
    CHECK(format_stages(*def) == "10,25,50,100");

    auto spaced = parse_stages(" 5% , 20 ,100% ");
    REQUIRE(spaced.ok());
    CHECK(*spaced == std::vector<int>{5, 20, 100});
    CHECK(parse_stages("100").value() == std::vector<int>{100});
    // The last stage may stop short of the whole batch.
    CHECK(parse_stages("1,5").value() == std::vector<int>{1, 5});
}

TEST_CASE("canary: a bad --stages names the flag and the item", "[canary]") {
    struct Case {
        const char* text;
        const char* message;
    };
    for (const Case& c : {
             Case{"", "--stages: \"\" is empty"},
             Case{"  ", "--stages: \"  \" is empty"},
             Case{"10,,50", "--stages: \"10,,50\" has an empty stage"},
             Case{"10,50,", "--stages: \"10,50,\" has an empty stage"},
             Case{"0,50", "--stages: \"0\" is not between 1 and 100"},
             Case{"10,101", "--stages: \"101\" is not between 1 and 100"},
             Case{"-5,10", "--stages: \"-5\" is not between 1 and 100"},
             Case{"99999999999", "--stages: \"99999999999\" is not between 1 and 100"},
             Case{"25,10", "--stages: \"10\" does not follow 25: stages must increase"},
             Case{"10,10,100", "--stages: \"10\" does not follow 10: stages must increase"},
             Case{"10.5,100", "--stages: \"10.5\" is not a whole percentage"},
             Case{"ten", "--stages: \"ten\" is not a whole percentage"},
             Case{"10 20", "--stages: \"10 20\" is not a whole percentage"},
         }) {
        INFO(c.text);
        auto r = parse_stages(c.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == assetgen::util::Code::invalid_input);
        CHECK(r.status().message().rfind(c.message, 0) == 0);
        CHECK(r.status().message().find("e.g. 10,25,50,100") != std::string::npos);
    }
}

// The expected values come from an independent computation (Python's hashlib):
//   int.from_bytes(sha256(salt.encode() + b"\0" + scene_id.encode()).digest()[:8], "big")
// A change to the hashing moves rows between stages and must break this test.
TEST_CASE("canary: stage assignment is pinned to SHA-256 of salt and scene_id", "[canary]") {
    CHECK(stage_fraction("BATCH-001", "") == 14923025954336732565.0 / 18446744073709551616.0);
    CHECK(stage_fraction("BATCH-001", "") == Approx(0.808979).margin(1e-6));
    CHECK(stage_fraction("BATCH-005", "") == Approx(0.442564).margin(1e-6));
    CHECK(stage_fraction("BATCH-008", "spring-2026") == Approx(0.017586).margin(1e-6));

    const std::vector<int> stages{10, 25, 50, 100};
    struct Pin {
        const char* id;
        const char* salt;
        std::size_t stage;
    };
    for (const Pin& p : {Pin{"BATCH-021", "", 0}, Pin{"BATCH-024", "", 0}, Pin{"BATCH-096", "", 0},
                         Pin{"BATCH-011", "", 1}, Pin{"BATCH-097", "", 1}, Pin{"BATCH-005", "", 2},
                         Pin{"BATCH-008", "", 2}, Pin{"BATCH-001", "", 3}, Pin{"BATCH-003", "", 3},
                         Pin{"BATCH-008", "spring-2026", 0}, Pin{"BATCH-001", "spring-2026", 2},
                         Pin{"BATCH-002", "spring-2026", 3}}) {
        INFO(p.id << " salt \"" << p.salt << "\"");
        CHECK(stage_of(p.id, p.salt, stages) == p.stage);
    }

    // The reference 100-row batch: which rows each stage adds, with the default salt.
    std::vector<std::string> first;
    std::vector<std::size_t> per_stage(4, 0);
    for (int i = 1; i <= 100; ++i) {
        auto s = stage_of(batch_id(i), "", stages);
        REQUIRE(s.has_value());
        ++per_stage[*s];
        if (*s == 0) {
            first.push_back(batch_id(i));
        }
    }
    CHECK(per_stage == std::vector<std::size_t>{8, 23, 21, 48});
    CHECK(first == std::vector<std::string>{"BATCH-021", "BATCH-024", "BATCH-059", "BATCH-060",
                                            "BATCH-065", "BATCH-090", "BATCH-092", "BATCH-096"});
}

TEST_CASE("canary: stage subsets nest and are identical across runs", "[canary]") {
    std::vector<std::string> ids;
    for (int i = 0; i < 10'000; ++i) {
        ids.push_back("scene-" + std::to_string(i));
    }
    const std::vector<int> stages{1, 10, 25, 50, 75, 100};
    for (const std::string salt : {"", "release-7", "a\xc3\xa9"}) {
        INFO("salt " << salt);
        // Nested: every smaller stage inside every larger one, for every percentage.
        std::set<std::string> previous;
        for (int p = 0; p <= 100; ++p) {
            std::set<std::string> now = rows_in(ids, salt, p);
            CHECK(std::includes(now.begin(), now.end(), previous.begin(), previous.end()));
            previous = std::move(now);
        }
        CHECK(previous.size() == ids.size());
        CHECK(rows_in(ids, salt, 0).empty());

        // A "second run" over the rows in another order picks the same rows, and a stage's rows
        // do not depend on which other stages were asked for.
        std::vector<std::string> reversed(ids.rbegin(), ids.rend());
        for (int p : stages) {
            CHECK(rows_in(reversed, salt, p) == rows_in(ids, salt, p));
        }
        for (const auto& id : ids) {
            auto s = stage_of(id, salt, stages);
            REQUIRE(s.has_value());
            CHECK(stage_of(id, salt, {stages[*s], 100}) == std::size_t{0});
            // stage_of is the first stage that takes the row.
            CHECK(in_stage(id, salt, stages[*s]));
            if (*s > 0) {
                CHECK_FALSE(in_stage(id, salt, stages[*s - 1]));
            }
        }

        // Shares close to the percentages (binomial, 10,000 rows: within 4 standard deviations).
        for (int p : stages) {
            const double n = static_cast<double>(rows_in(ids, salt, p).size());
            const double want = 100.0 * p;
            const double sd = std::sqrt(10'000.0 * p / 100.0 * (1.0 - p / 100.0));
            INFO(p << "%: " << n << " rows");
            CHECK(std::abs(n - want) <= 4.0 * sd + 1e-9);
        }
    }
}

TEST_CASE("canary: the salt picks another subset; a last stage below 100 leaves rows out",
          "[canary]") {
    std::vector<std::string> ids;
    for (int i = 1; i <= 1'000; ++i) {
        ids.push_back(batch_id(i));
    }
    CHECK(rows_in(ids, "", 25) != rows_in(ids, "other", 25));

    std::size_t beyond = 0;
    for (const auto& id : ids) {
        auto s = stage_of(id, "", {5, 20});
        if (!s) {
            ++beyond;
            CHECK_FALSE(in_stage(id, "", 20));
        }
    }
    CHECK(beyond > 700);
    CHECK(beyond < 900);
    CHECK(stage_fraction("x", "") >= 0.0);
    CHECK(stage_fraction("x", "") < 1.0);
}
