#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "schedule/plan.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"

using namespace assetgen;

namespace {

std::string batch_text(const std::string& prompt_tag) {
    std::string s = "scene_id,prompt,variants\n";
    for (int i = 1; i <= 3; ++i) {
        s += "ROW-" + std::to_string(i) + ",prompt " + prompt_tag + std::to_string(i) + ",1\n";
    }
    return s;
}

std::vector<std::string> prompts_read(const schedule::BatchInput& input) {
    auto reader = schedule::RowReader::open(input, batch::ValidationOptions{},
                                            {"scene_id", "prompt", "variants"});
    REQUIRE(reader.ok());
    std::vector<std::string> prompts;
    for (;;) {
        auto row = (*reader)->next();
        REQUIRE(row.ok());
        if (!row->has_value()) {
            return prompts;
        }
        prompts.push_back((*row)->row.prompt);
    }
}

}  // namespace

// One open, one pass: the regular file is read once, hashed while read, and every later read
// (plan, run) sees those bytes, so a file rewritten in the middle of a run cannot make the
// run's rows differ from the rows its hash (the job id) names.
TEST_CASE("batch input: a regular file is read once; a later change is not seen", "[schedule]") {
    test::TempDir dir;
    const std::string original = batch_text("old ");
    const std::string path = dir.write("b.csv", original);
    auto input = schedule::BatchInput::open(path, "", nullptr);
    REQUIRE(input.ok());
    CHECK((*input)->sha256() == util::sha256_hex(original));
    CHECK((*input)->size() == original.size());

    // Rewritten in place (same inode, same size) and then replaced by another file.
    {
        std::string changed = batch_text("new ");
        REQUIRE(changed.size() == original.size());
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.write(changed.data(), static_cast<std::streamsize>(changed.size()));
    }
    CHECK(dir.read("b.csv") != original);
    CHECK(prompts_read(**input) ==
          std::vector<std::string>{"prompt old 1", "prompt old 2", "prompt old 3"});
    ::unlink(path.c_str());
    // The second pass still reads the same bytes.
    CHECK(prompts_read(**input) ==
          std::vector<std::string>{"prompt old 1", "prompt old 2", "prompt old 3"});
}

TEST_CASE("batch input: a regular file, a FIFO-like copy and stdin hash alike", "[schedule]") {
    test::TempDir dir;
    const std::string text = batch_text("x");
    const std::string path = dir.write("b.csv", text);
    auto from_file = schedule::BatchInput::open(path, "", nullptr);
    REQUIRE(from_file.ok());
    const std::string fifo = dir.file("p.csv");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // the writer: the FIFO can be read only once
        std::ofstream(fifo, std::ios::binary) << text;
        ::_exit(0);
    }
    auto from_fifo = schedule::BatchInput::open(fifo, "", nullptr);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(from_fifo.ok());
    CHECK((*from_fifo)->sha256() == (*from_file)->sha256());
    CHECK(prompts_read(**from_fifo) == prompts_read(**from_file));
}

TEST_CASE("batch input: a regular file past the limit is refused", "[schedule]") {
    test::TempDir dir;
    const std::string path = dir.write("b.csv", batch_text("y"));
    auto input = schedule::BatchInput::open(path, "", nullptr, 10);
    REQUIRE_FALSE(input.ok());
    CHECK(input.status().code() == util::Code::invalid_input);
    CHECK_THAT(input.status().message(), Catch::Contains("more than 10 bytes, the input limit"));
}
