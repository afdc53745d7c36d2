#include "schedule/shard.hpp"

#include <catch2/catch.hpp>

#include "schedule/job_files.hpp"

using namespace assetgen;
using assetgen::schedule::resolve_shard;

TEST_CASE("shard: H is the first 8 bytes of SHA-256(scene_id), big-endian", "[schedule]") {
    const std::uint64_t h = schedule::shard_hash("abc");
    // sha256("abc") = ba7816bf8f01cfea...
    CHECK(h == 0xba7816bf8f01cfeaULL);
    CHECK(schedule::shard_of("abc", 1) == 0);
    CHECK(schedule::shard_of("abc", 4) == static_cast<int>(0xba7816bf8f01cfeaULL % 4));
}

TEST_CASE("shard: I/N is parsed and checked", "[schedule]") {
    auto s = schedule::parse_shard("2/4", "--shard");
    REQUIRE(s.ok());
    CHECK(s->index == 2);
    CHECK(s->count == 4);
    CHECK(s->text() == "2/4");
    CHECK(s->dir_name() == "2-of-4");
    CHECK(schedule::parse_shard("4/4", "--shard").status().code() == util::Code::config);
    CHECK(schedule::parse_shard("0/0", "--shard").status().code() == util::Code::config);
    CHECK(schedule::parse_shard("-1/4", "--shard").status().code() == util::Code::config);
    CHECK(schedule::parse_shard("1", "--shard").status().code() == util::Code::config);
    CHECK(schedule::parse_shard("1/4x", "--shard").status().code() == util::Code::config);
}

TEST_CASE("shard: the flag beats the environment; half-given pairs are refused", "[schedule]") {
    const auto cloud_run = auth::Env::from_map({{"CLOUD_RUN_TASK_INDEX", "1"},
                                                {"CLOUD_RUN_TASK_COUNT", "4"},
                                                {"CLOUD_RUN_TASK_ATTEMPT", "2"}});
    auto s = resolve_shard("", 0, cloud_run);
    REQUIRE(s.ok());
    REQUIRE(s->has_value());
    CHECK((*s)->text() == "1/4");
    CHECK((*s)->attempt == 2);
    auto flag = resolve_shard("3/4", 0, cloud_run);
    REQUIRE(flag.ok());
    CHECK((*flag)->text() == "3/4");
    CHECK(resolve_shard("", 0, auth::Env::from_map({{"CLOUD_RUN_TASK_INDEX", "1"}}))
              .status()
              .code() == util::Code::config);
    CHECK(resolve_shard("", 0, auth::Env::from_map({{"BATCH_TASK_COUNT", "3"}})).status().code() ==
          util::Code::config);
    auto batch = resolve_shard(
        "", 0, auth::Env::from_map({{"BATCH_TASK_INDEX", "0"}, {"BATCH_TASK_COUNT", "3"}}));
    REQUIRE(batch.ok());
    CHECK((*batch)->text() == "0/3");
    const auto k8s = auth::Env::from_map({{"JOB_COMPLETION_INDEX", "2"}});
    CHECK(resolve_shard("", 0, k8s).status().code() == util::Code::config);
    auto indexed = resolve_shard("", 3, k8s);
    REQUIRE(indexed.ok());
    CHECK((*indexed)->text() == "2/3");
    CHECK(resolve_shard("", 2, k8s).status().code() == util::Code::config);  // 2 ≥ 2
    auto one_task = resolve_shard(
        "", 0, auth::Env::from_map({{"CLOUD_RUN_TASK_INDEX", "0"}, {"CLOUD_RUN_TASK_COUNT", "1"}}));
    REQUIRE(one_task.ok());
    CHECK(!one_task->has_value());
    auto none = resolve_shard("", 0, auth::Env::from_map({}));
    REQUIRE(none.ok());
    CHECK(!none->has_value());
    CHECK(resolve_shard("", 4, auth::Env::from_map({})).status().code() == util::Code::config);
    CHECK(resolve_shard("1/4", 3, auth::Env::from_map({})).status().code() == util::Code::config);
}

TEST_CASE("shard: a shard's records, lock and spool are its own; the images are the job's",
          "[schedule]") {
    const auto local = schedule::job_place("out", "job-1", "/spool", "1-of-4");
    CHECK(local.dir == "out/job-1");
    CHECK(local.records == "out/job-1/shards/1-of-4");
    CHECK(local.manifest() == "out/job-1/shards/1-of-4/manifest.jsonl");
    CHECK(!local.remote());
    const auto gcs = schedule::job_place("gs://b/out", "job-1", "/spool", "1-of-4");
    CHECK(gcs.dir == "gs://b/out/job-1");
    CHECK(gcs.published_manifest() == "gs://b/out/job-1/shards/1-of-4/manifest.jsonl");
    CHECK(gcs.remote());
    CHECK(gcs.local_dir.find("/shards/1-of-4") != std::string::npos);
    CHECK(gcs.local_dir !=
          schedule::job_place("gs://b/out", "job-1", "/spool", "2-of-4").local_dir);
    const auto whole = schedule::job_place("out", "job-1", "/spool");
    CHECK(whole.records == whole.dir);
}
