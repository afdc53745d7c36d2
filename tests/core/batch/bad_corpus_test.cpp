// Runs every file of tests/data/bad through the reader and the validator, as `assetgen run`
// would, and checks that a problem names the place and the fault given in EXPECTED.tsv
// (one line a file: name<TAB>substring of the message). The e2e test runs the same list
// through the binary.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "batch/reader.hpp"
#include "batch/validate.hpp"

using namespace assetgen;

namespace {

const std::string k_dir = ASSETGEN_SOURCE_DIR "/tests/data/bad";

struct Expected {
    std::string file;
    std::string substring;
};

std::vector<Expected> load_expected() {
    std::vector<Expected> out;
    std::ifstream in(k_dir + "/EXPECTED.tsv");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        const auto tab = line.find('\t');
        REQUIRE(tab != std::string::npos);
        out.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    return out;
}

}  // namespace

TEST_CASE("batch: every bad input in the corpus is refused with its place", "[batch]") {
    const auto expected = load_expected();
    CHECK(expected.size() >= 22);

    std::set<std::string> listed;
    for (const auto& e : expected) {
        listed.insert(e.file);
        INFO(e.file);
        auto format = batch::format_from_path(e.file);
        REQUIRE(format.ok());
        auto source = batch::open_rows(k_dir + "/" + e.file, *format, e.file);
        REQUIRE(source.ok());
        batch::Validator validator({});
        batch::validate_all(**source, validator, e.file);
        std::string all;
        bool found = false;
        for (const auto& p : validator.problems()) {
            all += p.text() + "\n";
            found = found || p.text().find(e.substring) != std::string::npos;
        }
        INFO("expected: " << e.substring);
        INFO("problems:\n" << all);
        CHECK(found);
    }

    for (const auto& entry : std::filesystem::directory_iterator(k_dir)) {
        const std::string name = entry.path().filename().string();
        if (name != "EXPECTED.tsv") {
            INFO(name << " is not listed in EXPECTED.tsv");
            CHECK(listed.count(name) == 1);
        }
    }
}
