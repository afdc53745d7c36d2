// The generation contract of storage::Storage, run with the same cases on a local folder
// (LocalStorage: extended attribute, folder flock, rename) and on Cloud Storage (GcsStorage
// over real HTTP against tests/fakes/gcs_fake.py): preconditions, reads at a generation,
// ranged and streamed reads, custom metadata, compose and copy behave the same on both.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/storage/gcs_fake_process.hpp"
#include "net/curl_transport.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using util::Code;

namespace {

// A store and the base location its objects go under.
struct Store {
    Storage& storage;
    std::string base;
    std::string at(const std::string& name) const { return base + "/" + name; }
};

WriteOptions must_match(std::int64_t generation, Metadata metadata = {}) {
    WriteOptions o;
    o.content_type = "text/plain";
    o.if_generation_match = generation;
    o.metadata = std::move(metadata);
    return o;
}

void preconditions_on_write(const Store& s) {
    const std::string loc = s.at("doc.txt");
    auto first = s.storage.write(loc, "one", must_match(0));
    REQUIRE(first.ok());
    CHECK(first->generation > 0);
    CHECK(first->size == 3);

    // Create-only again: the object exists.
    auto again = s.storage.write(loc, "two", must_match(0));
    CHECK(is_precondition_failed(again.status()));

    // The generation seen wins; a stale one loses, and the bytes stay.
    auto second = s.storage.write(loc, "two", must_match(first->generation));
    REQUIRE(second.ok());
    CHECK(second->generation != first->generation);
    auto stale = s.storage.write(loc, "three", must_match(first->generation));
    CHECK(is_precondition_failed(stale.status()));
    CHECK(s.storage.get(loc).value() == "two");
    CHECK(s.storage.stat(loc).value().generation == second->generation);

    // No precondition: always written.
    auto blind = s.storage.write(loc, "four", WriteOptions{});
    REQUIRE(blind.ok());
    CHECK(blind->generation != second->generation);
    CHECK(s.storage.stat(s.at("none.txt")).status().code() == Code::not_found);
}

void reads_at_generations(const Store& s) {
    const std::string loc = s.at("log.jsonl");
    auto v1 = s.storage.write(loc, "line 1\n", must_match(0));
    REQUIRE(v1.ok());
    auto v2 = s.storage.write(loc, "line 1\nline 2\n", must_match(v1->generation));
    REQUIRE(v2.ok());

    ReadOptions whole;
    auto all = s.storage.read(loc, whole);
    REQUIRE(all.ok());
    CHECK(all->kind == ObjectRead::Kind::data);
    CHECK(all->data == "line 1\nline 2\n");
    CHECK(all->generation == v2->generation);
    CHECK(all->size == 14);

    ReadOptions old;
    old.generation = v1->generation;
    CHECK(s.storage.read(loc, old).status().code() == Code::not_found);
    ReadOptions live;
    live.generation = v2->generation;
    CHECK(s.storage.read(loc, live).value().data == "line 1\nline 2\n");

    ReadOptions tail;
    tail.offset = 7;
    auto rest = s.storage.read(loc, tail);
    REQUIRE(rest.ok());
    CHECK(rest->kind == ObjectRead::Kind::data);
    CHECK(rest->data == "line 2\n");
    CHECK(rest->start == 7);
    CHECK(rest->size == 14);

    ReadOptions past;
    past.offset = 14;
    CHECK(s.storage.read(loc, past).value().kind == ObjectRead::Kind::past_end);

    ReadOptions unless;
    unless.if_generation_not_match = v2->generation;
    CHECK(s.storage.read(loc, unless).value().kind == ObjectRead::Kind::unchanged);
    unless.if_generation_not_match = v1->generation;
    CHECK(s.storage.read(loc, unless).value().data == "line 1\nline 2\n");

    ReadOptions guarded;
    guarded.if_generation_match = v1->generation;
    CHECK(is_precondition_failed(s.storage.read(loc, guarded).status()));
    CHECK(s.storage.read(s.at("none.jsonl"), whole).status().code() == Code::not_found);

    ReadOptions small;
    small.max_bytes = 5;
    CHECK(s.storage.read(loc, small).status().code() == Code::storage_io);
}

void metadata_and_compose_and_copy(const Store& s) {
    const std::string day = s.at("2026-12-06.jsonl");
    const std::string part = s.at("parts/p1.jsonl");
    auto base = s.storage.write(day, "a\n", must_match(0, {{"assetgen-seq", "1"}}));
    REQUIRE(base.ok());
    auto info = s.storage.stat(day);
    REQUIRE(info.ok());
    CHECK(info->metadata == Metadata{{"assetgen-seq", "1"}});
    CHECK(info->component_count == 1);
    auto p = s.storage.write(part, "b\n", must_match(0));
    REQUIRE(p.ok());

    // The part against a stale generation of itself: refused, nothing changes.
    auto wrong_source = s.storage.compose(day, {{day, base->generation}, {part, p->generation + 1}},
                                          must_match(base->generation, {{"assetgen-seq", "2"}}));
    CHECK(is_precondition_failed(wrong_source.status()));

    auto composed = s.storage.compose(day, {{day, base->generation}, {part, p->generation}},
                                      must_match(base->generation, {{"assetgen-seq", "2"}}));
    REQUIRE(composed.ok());
    CHECK(composed->component_count == 2);
    CHECK(composed->size == 4);
    CHECK(composed->metadata == Metadata{{"assetgen-seq", "2"}});
    CHECK(s.storage.get(day).value() == "a\nb\n");

    // The same compose again (a retry whose answer was lost) meets the new generation.
    auto replay = s.storage.compose(day, {{day, base->generation}, {part, p->generation}},
                                    must_match(base->generation));
    CHECK(is_precondition_failed(replay.status()));

    // Copy onto itself: the same bytes in one component, metadata replaced when given.
    auto flat = s.storage.copy({day, composed->generation}, day,
                               must_match(composed->generation, {{"assetgen-seq", "3"}}));
    REQUIRE(flat.ok());
    CHECK(flat->component_count == 1);
    CHECK(flat->metadata == Metadata{{"assetgen-seq", "3"}});
    CHECK(s.storage.get(day).value() == "a\nb\n");
    CHECK(is_precondition_failed(
        s.storage.copy({day, std::nullopt}, day, must_match(composed->generation)).status()));

    // A copy elsewhere keeps the source's metadata when none is given.
    auto other = s.storage.copy({day, std::nullopt}, s.at("copy.jsonl"), must_match(0));
    REQUIRE(other.ok());
    CHECK(other->metadata == Metadata{{"assetgen-seq", "3"}});
    CHECK(s.storage.get(s.at("copy.jsonl")).value() == "a\nb\n");
}

void streamed_reads(const Store& s) {
    std::string big(3u << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>((i * 31 + i / 977) & 0xFF);
    }
    const std::string loc = s.at("big.bin");
    auto written = s.storage.write(loc, big, must_match(0));
    REQUIRE(written.ok());

    std::string got;
    std::size_t calls = 0;
    auto read = s.storage.read_to(
        loc,
        [&](std::string_view bytes) {
            ++calls;
            got.append(bytes);
            return util::ok_status();
        },
        ReadOptions{});
    REQUIRE(read.ok());
    CHECK(read->generation == written->generation);
    CHECK(got == big);
    CHECK(calls >= 3);

    // A sink that stops: its status comes back, and no more bytes are sent to it.
    std::size_t seen = 0;
    auto stopped = s.storage.read_to(
        loc,
        [&](std::string_view bytes) {
            seen += bytes.size();
            return util::error(Code::invalid_input, "input: over the limit");
        },
        ReadOptions{});
    CHECK(stopped.status().code() == Code::invalid_input);
    CHECK(stopped.status().message() == "input: over the limit");
    CHECK(seen <= (8u << 20));

    ReadOptions capped;
    capped.max_bytes = 1u << 20;
    auto over = s.storage.read_to(
        loc, [](std::string_view) { return util::ok_status(); }, capped);
    CHECK(over.status().code() == Code::storage_io);

    ReadOptions empty_check;
    const std::string none = s.at("empty.bin");
    REQUIRE(s.storage.write(none, "", must_match(0)).ok());
    std::size_t empty_bytes = 0;
    auto empty = s.storage.read_to(
        none,
        [&](std::string_view b) {
            empty_bytes += b.size();
            return util::ok_status();
        },
        empty_check);
    REQUIRE(empty.ok());
    CHECK(empty_bytes == 0);
}

void one_winner(const Store& s) {
    const std::string loc = s.at("counter.txt");
    auto start = s.storage.write(loc, "0", must_match(0));
    REQUIRE(start.ok());
    std::atomic<int> won{0};
    std::atomic<int> lost{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            auto w = s.storage.write(loc, std::to_string(i + 1), must_match(start->generation));
            if (w.ok()) {
                ++won;
            } else if (is_precondition_failed(w.status())) {
                ++lost;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(won == 1);
    CHECK(lost == 5);
}

void run_contract(const Store& s) {
    SECTION("preconditions on write") {
        preconditions_on_write(s);
    }
    SECTION("reads at generations, ranges, unchanged") {
        reads_at_generations(s);
    }
    SECTION("metadata, compose and copy") {
        metadata_and_compose_and_copy(s);
    }
    SECTION("streamed reads") {
        streamed_reads(s);
    }
    SECTION("one of several writers with the same generation wins") {
        one_winner(s);
    }
}

}  // namespace

TEST_CASE("storage: generations and preconditions on a local folder", "[storage][generations]") {
    test::TempDir dir;
    LocalStorage local;
    run_contract(Store{local, dir.path() + "/store"});
}

TEST_CASE("storage: generations and preconditions on Cloud Storage (fake)",
          "[storage][generations][integration]") {
    test::gcs::FakeGcsProcess fake;
    net::CurlTransport transport;
    test::FakeClock clock;
    GcsClientOptions options;
    options.endpoint =
        resolve_gcs_endpoint(auth::Env::from_map({{"STORAGE_EMULATOR_HOST", fake.host()}}));
    options.timeout = std::chrono::seconds(20);
    options.read_chunk = 1u << 20;  // the 3 MiB object of "streamed reads" comes in 3 reads
    GcsStorage gcs(std::make_unique<GcsClient>(transport, nullptr, clock, options));
    run_contract(Store{gcs, "gs://assetgen-it/store"});
}

TEST_CASE("storage: a local file changed in place gets a new generation",
          "[storage][generations]") {
    test::TempDir dir;
    LocalStorage local;
    const std::string loc = dir.file("manifest.jsonl");
    auto written = local.write(loc, "{\"a\":1}\n", must_match(0, {{"k", "v"}}));
    REQUIRE(written.ok());
    CHECK(local.stat(loc).value().generation == written->generation);
    CHECK(local.stat(loc).value().metadata == Metadata{{"k", "v"}});

    // An append by another part of assetgen (O_APPEND in place, no rename).
    int fd = ::open(loc.c_str(), O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "{\"b\":2}\n", 8) == 8);
    ::close(fd);
    auto now = local.stat(loc);
    REQUIRE(now.ok());
    CHECK(now->generation != written->generation);
    CHECK(now->size == 16);
    CHECK(
        is_precondition_failed(local.write(loc, "lost", must_match(written->generation)).status()));
    CHECK(local.write(loc, "kept", must_match(now->generation)).ok());
    CHECK(local.get(loc).value() == "kept");

    // A file written without the attribute (plain put) has a generation too.
    REQUIRE(local.put(dir.file("plain.txt"), "x", "text/plain").ok());
    auto plain = local.stat(dir.file("plain.txt"));
    REQUIRE(plain.ok());
    CHECK(plain->generation > 0);
    CHECK(local.write(dir.file("plain.txt"), "y", must_match(plain->generation)).ok());
}
