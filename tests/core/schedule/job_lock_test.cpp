#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "batch/row.hpp"
#include "schedule/content_key.hpp"
#include "schedule/job.hpp"
#include "schedule/output_paths.hpp"

using namespace assetgen;
using namespace assetgen::schedule;

namespace {

std::string temp_dir(const char* name) {
    auto dir = std::filesystem::temp_directory_path() /
               (std::string("assetgen-") + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace

TEST_CASE("job lock: unsharded excludes shards, shards of one count share, counts exclude",
          "[schedule][job_lock]") {
    const std::string root = temp_dir("joblock");
    {
        auto whole = JobLock::acquire(root, "", "j");
        REQUIRE(whole.ok());
        auto shard = JobLock::acquire(root, "0-of-2", "j");
        REQUIRE_FALSE(shard.ok());
        CHECK(shard.status().message().find(
                  "being run unsharded by another process right now, so shard 0/2") !=
              std::string::npos);
        CHECK_FALSE(JobLock::acquire(root, "", "j").ok());
    }
    {
        auto a = JobLock::acquire(root, "0-of-2", "j");
        REQUIRE(a.ok());
        auto b = JobLock::acquire(root, "1-of-2", "j");
        CHECK(b.ok());
        auto again = JobLock::acquire(root, "0-of-2", "j");
        REQUIRE_FALSE(again.ok());
        CHECK(again.status().message().find("shard 0/2 of job j is being run by another process") !=
              std::string::npos);
        auto other = JobLock::acquire(root, "0-of-3", "j");
        REQUIRE_FALSE(other.ok());
        CHECK(other.status().message().find("shards of another count (2)") != std::string::npos);
        auto whole = JobLock::acquire(root, "", "j");
        REQUIRE_FALSE(whole.ok());
        CHECK(whole.status().code() == util::Code::config);
    }
    // All released: anything may take it again.
    CHECK(JobLock::acquire(root, "0-of-3", "j").ok());
    CHECK(JobLock::acquire(root, "", "j").ok());
    std::filesystem::remove_all(root);
}

TEST_CASE("content key: what changes the image changes the key; re-signing does not",
          "[schedule][content_key]") {
    batch::Row row;
    row.scene_id = "A1";
    row.prompt = "a teapot";
    row.refs = {"gs://b/ref.png"};
    const ContentSettings s{ledger::RunMode::live, "gemini-2.5-flash-image", ""};
    const std::string key = content_key(row_content_part(row, s), {});
    CHECK(key.size() == 16);
    CHECK(content_key(row_content_part(row, s), {}) == key);
    batch::Row edited = row;
    edited.prompt = "a teapot, red";
    CHECK(content_key(row_content_part(edited, s), {}) != key);
    edited = row;
    edited.aspect_ratio = "16:9";
    CHECK(content_key(row_content_part(edited, s), {}) != key);
    edited = row;
    edited.ref_mode = batch::RefMode::style_and_composition;
    CHECK(content_key(row_content_part(edited, s), {}) != key);
    CHECK(content_key(row_content_part(row, ContentSettings{ledger::RunMode::dry_run, s.model, ""}),
                      {}) != key);
    CHECK(content_key(row_content_part(row, ContentSettings{ledger::RunMode::live, s.model, "2K"}),
                      {}) != key);
    CHECK(content_key(row_content_part(row, s), {"gs://b/style.png"}) != key);
    batch::Row own_model = row;
    own_model.model = "gemini-3-pro-image-preview";
    CHECK(content_key(row_content_part(own_model, s), {}) != key);
}

TEST_CASE("output paths: onto a record, into a kept folder, a symlink, a device: refused",
          "[schedule][output_paths]") {
    const std::string dir = temp_dir("outputs");
    std::ofstream(dir + "/batch.csv") << "scene_id,prompt\n";
    std::filesystem::create_directories(dir + "/ledger");
    std::filesystem::create_symlink(dir + "/ledger", dir + "/ledger-link");
    const std::vector<KeptPlace> kept = {{"the input batch", dir + "/batch.csv", false},
                                         {"the ledger folder", dir + "/ledger", true}};
    auto refused = [&](const std::string& flag, const std::string& value) {
        auto st = check_output_paths({{flag, value}}, kept);
        return st.ok() ? std::string() : st.message();
    };
    CHECK(refused("--results", dir + "/batch.csv").find("is the input batch") != std::string::npos);
    CHECK(refused("--results", dir + "/ledger/2026-11-25.jsonl")
              .find("is inside the ledger folder") != std::string::npos);
    CHECK(refused("--report", dir + "/ledger-link/x.html").find("is inside the ledger folder") !=
          std::string::npos);
    CHECK(refused("--report", dir + "/ledger-link").find("is a symbolic link") !=
          std::string::npos);
    CHECK(refused("--metrics-file", "/dev/null").find("is a device") != std::string::npos);
    CHECK(refused("--results", dir + "/results.csv").empty());
    CHECK(refused("--events", "-").empty());
    CHECK(refused("--results", "gs://b/ledger/x.csv").empty());
    auto twice =
        check_output_paths({{"--results", dir + "/r.csv"}, {"--report", dir + "/./r.csv"}}, kept);
    CHECK(twice.message().find("is also given to --results") != std::string::npos);
    auto gcs = check_output_paths({{"--results", "gs://b/ledger/2026-11-25.jsonl"}},
                                  {{"the ledger folder", "gs://b/ledger/", true}});
    CHECK(gcs.message().find("is inside the ledger folder") != std::string::npos);
    std::filesystem::remove_all(dir);
}
