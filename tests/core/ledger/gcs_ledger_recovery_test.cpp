// Spools left by writers that died: their state files, recovery against the GCS fake, and the
// spool pieces (state files, runs, locks) on their own.

#include <catch2/catch.hpp>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "ledger/gcs_append.hpp"
#include "ledger/ledger_spool.hpp"
#include "util/append_file.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;
using ledger::SpoolIntent;
using ledger::SpoolState;
using test::GcsLedgerFixture;
using test::k_noon_ms;
using test::sample_entry;

namespace {

// A spool file written as a writer would have, by a writer that is gone (nobody holds its lock).
struct DeadSpool {
    std::string dir;
    std::string writer;
    std::vector<std::string> lines;
    std::vector<std::uint64_t> offsets;  // of each line, then the end

    DeadSpool(std::string spool_dir, std::string id, const std::string& job, int n)
        : dir(std::move(spool_dir)), writer(std::move(id)) {
        REQUIRE(util::make_dirs(dir).ok());
        auto file = util::AppendFile::open(ledger::spool_file(dir, writer));
        REQUIRE(file.ok());
        offsets.push_back(0);
        for (int i = 0; i < n; ++i) {
            lines.push_back(ledger::to_line(sample_entry(job, "s" + std::to_string(i))));
            REQUIRE(file->append(lines.back()).ok());
            offsets.push_back(offsets.back() + lines.back().size());
        }
    }
    // The run of lines [from, to).
    ledger::PushRun run(std::size_t from, std::size_t to) const {
        auto read = ledger::read_spool_lines(ledger::spool_file(dir, writer), offsets[from]);
        REQUIRE(read.ok());
        std::deque<ledger::SpoolLine> q(read->begin(), read->end());
        return ledger::take_run(q, offsets[to], 1u << 20);
    }
    std::string text(std::size_t from, std::size_t to) const {
        std::string out;
        for (std::size_t i = from; i < to; ++i) {
            out += lines[i];
        }
        return out;
    }
    std::string state_path() const { return ledger::spool_state_file(dir, writer); }
};

// Pushes a run the way a writer does, and returns the intent it recorded.
SpoolIntent push(GcsLedgerFixture& f, const DeadSpool& spool, std::size_t from, std::size_t to,
                 const ledger::AppendOptions& options = {}) {
    SpoolIntent recorded;
    auto done = ledger::append_run(
        *f.store, spool.writer, spool.run(from, to), std::nullopt,
        [&](const SpoolIntent& i) {
            recorded = i;
            return util::ok_status();
        },
        options, f.clock);
    REQUIRE(done.ok());
    REQUIRE(*done == ledger::AppendOutcome::appended);
    return recorded;
}

}  // namespace

TEST_CASE(
    "gcs ledger: a dead writer's spool is pushed once: committed lines skipped, a lost "
    "push found, the rest sent",
    "[ledger][integration]") {
    GcsLedgerFixture f;
    auto options = f.writer_options();
    DeadSpool dead(options.spool_dir, "deadhost-11-1-0000aaaa", "dead", 6);
    push(f, dead, 0, 2);
    // Lines 2 and 3 were composed, but the writer died before it could record that.
    const SpoolIntent lost = push(f, dead, 2, 4);
    CHECK(lost.base_seq == 1);
    REQUIRE(ledger::write_spool_state(dead.state_path(), SpoolState{dead.offsets[2], lost}).ok());
    // A live writer's spool is left alone.
    DeadSpool alive(options.spool_dir, "livehost-12-1-0000bbbb", "alive", 1);
    auto held =
        ledger::SpoolLock::acquire(ledger::spool_lock_file(options.spool_dir, alive.writer), false);
    REQUIRE(held.ok());
    REQUIRE(held->has_value());

    auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, options);
    REQUIRE(w.ok());
    const auto& report = (*w)->recovery();
    CHECK(report.spools == 1);
    CHECK(report.lines_already_there == 2);
    CHECK(report.lines_pushed == 2);
    CHECK(report.removed == 1);
    CHECK(report.problems.empty());
    CHECK(f.day_text("2025-11-24") == dead.text(0, 6));
    CHECK(f.requests("compose").size() == 3);

    auto left = ledger::list_spools(options.spool_dir);
    REQUIRE(left.ok());
    CHECK(std::find(left->begin(), left->end(), dead.writer) == left->end());
    CHECK(std::find(left->begin(), left->end(), alive.writer) != left->end());
    CHECK(f.objects(".parts/").empty());

    // Once its writer is gone too, the other spool is recovered by the next writer.
    held->reset();
    auto next = ledger::GcsLedgerWriter::open(*f.store, f.clock, options);
    REQUIRE(next.ok());
    CHECK((*next)->recovery().lines_pushed == 1);
    CHECK(f.day_text("2025-11-24") == dead.text(0, 6) + alive.text(0, 1));
}

TEST_CASE("gcs ledger: recovery reads the day object's ids when the parts list has rolled past",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    auto options = f.writer_options();
    options.parts_history = 1;
    ledger::AppendOptions append;
    append.history = 1;
    DeadSpool dead(options.spool_dir, "deadhost-21-1-0000cccc", "dead", 4);
    DeadSpool other(f.dir.file("elsewhere"), "otherhost-22-1-0000dddd", "other", 3);

    const bool applied = GENERATE(true, false);
    SpoolIntent intent;
    if (applied) {
        intent = push(f, dead, 0, 2, append);
    } else {
        // Recorded, but the writer died before its compose went out.
        intent = SpoolIntent{
            "2025-11-24",
            f.store->part_object("2025-11-24", dead.writer, dead.offsets[0], dead.offsets[2])
                .object,
            dead.offsets[0], dead.offsets[2], 0};
    }
    // Others compose more than the list (one token) remembers.
    push(f, other, 0, 1, append);
    push(f, other, 1, 2, append);
    push(f, other, 2, 3, append);
    REQUIRE(ledger::write_spool_state(dead.state_path(), SpoolState{0, intent}).ok());
    const auto reads_before = f.requests("read").size();

    auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, options);
    REQUIRE(w.ok());
    const auto& report = (*w)->recovery();
    CHECK(report.lines_already_there == (applied ? 2u : 0u));
    CHECK(report.lines_pushed == (applied ? 2u : 4u));
    CHECK(f.requests("read").size() > reads_before);  // the ids were looked up
    const std::string text = f.day_text("2025-11-24");
    for (const auto& [id, n] : test::id_counts(text)) {
        INFO(id);
        CHECK(n == 1);
    }
    CHECK(test::id_counts(text).size() == 7);
}

TEST_CASE("gcs ledger: spool state files round-trip and refuse garbage", "[ledger]") {
    test::TempDir dir;
    const std::string path = dir.file("w.state");
    auto missing = ledger::read_spool_state(path);
    REQUIRE(missing.ok());
    CHECK(*missing == SpoolState{});

    const SpoolState state{
        120, SpoolIntent{"2025-11-24", "ledger/.parts/2025-11-24/w-120-300.jsonl", 120, 300, 7}};
    REQUIRE(ledger::write_spool_state(path, state).ok());
    auto back = ledger::read_spool_state(path);
    REQUIRE(back.ok());
    CHECK(*back == state);

    dir.write("bad.state", "{\"committed\":\"x\"}");
    CHECK(ledger::read_spool_state(dir.file("bad.state")).status().code() ==
          util::Code::storage_io);
}

TEST_CASE("gcs ledger: runs are stretches of one day, bounded by size and the push in flight",
          "[ledger]") {
    std::deque<ledger::SpoolLine> lines;
    std::uint64_t offset = 0;
    for (const char* day : {"2025-11-24", "2025-11-24", "2025-11-24", "2025-11-25"}) {
        lines.push_back(ledger::SpoolLine{offset, std::string(10, 'x') + "\n", day,
                                          "id" + std::to_string(offset)});
        offset += 11;
    }
    auto whole = ledger::take_run(lines, 0, 1000);
    CHECK(whole.day == "2025-11-24");
    CHECK(whole.first == 0);
    CHECK(whole.end == 33);
    CHECK(whole.ids.size() == 3);
    CHECK(ledger::take_run(lines, 22, 1000).end == 22);  // stops where the push in flight did
    CHECK(ledger::take_run(lines, 0, 15).end == 11);     // size bound, yet at least one line
    CHECK(ledger::take_run(lines, 0, 1).end == 11);
    CHECK(ledger::take_run({}, 0, 1000).ids.empty());
}

TEST_CASE("gcs ledger: a spool lock is exclusive, and the spool list skips everything else",
          "[ledger]") {
    test::TempDir dir;
    auto first = ledger::SpoolLock::acquire(dir.file("w1.lock"), false);
    REQUIRE(first.ok());
    REQUIRE(first->has_value());
    auto second = ledger::SpoolLock::acquire(dir.file("w1.lock"), false);
    REQUIRE(second.ok());
    CHECK_FALSE(second->has_value());
    first->reset();
    auto third = ledger::SpoolLock::acquire(dir.file("w1.lock"), false);
    REQUIRE(third.ok());
    CHECK(third->has_value());

    dir.write("w1.jsonl", "");
    dir.write("w2.jsonl", "");
    dir.write("w1.state", "{}");
    dir.write(".hidden.jsonl", "");
    auto listed = ledger::list_spools(dir.path());
    REQUIRE(listed.ok());
    CHECK(*listed == std::vector<std::string>{"w1", "w2"});
    CHECK(ledger::list_spools(dir.file("none")).value().empty());
    CHECK(ledger::new_writer_id(k_noon_ms) != ledger::new_writer_id(k_noon_ms));
}
