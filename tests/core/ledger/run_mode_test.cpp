// Typed outcomes (issue 16 item 5): the run mode is a value below the command line; its name in
// ledger lines, job ids and budget journals is the one it always was, and reads back.
#include <catch2/catch.hpp>

#include "ledger/entry.hpp"
#include "ledger/run_mode.hpp"

using namespace assetgen;
using ledger::RunMode;

TEST_CASE("run mode: names are the ledger's and read back; other spellings are not names",
          "[run_mode][ledger]") {
    CHECK(ledger::run_mode_name(RunMode::dry_run) == "dry_run");
    CHECK(ledger::run_mode_name(RunMode::live) == "live");
    for (RunMode m : {RunMode::dry_run, RunMode::live}) {
        CHECK(ledger::parse_run_mode(ledger::run_mode_name(m)) == m);
    }
    CHECK_FALSE(ledger::parse_run_mode("dry-run").has_value());  // the CLI's spelling, not a name
    CHECK_FALSE(ledger::parse_run_mode("LIVE").has_value());
    CHECK_FALSE(ledger::parse_run_mode("").has_value());
}

TEST_CASE("run mode: a budget counts its own mode's lines, and live the reference platform's",
          "[run_mode][ledger][budget]") {
    ledger::Entry live;
    live.mode = "live";
    ledger::Entry dry;
    dry.mode = "dry_run";
    ledger::Entry reference;  // a six-field line of the reference platform: no mode, paid for
    reference.v = 0;
    CHECK(ledger::counts_in(live, RunMode::live));
    CHECK_FALSE(ledger::counts_in(live, RunMode::dry_run));
    CHECK(ledger::counts_in(dry, RunMode::dry_run));
    CHECK_FALSE(ledger::counts_in(dry, RunMode::live));
    CHECK(ledger::counts_in(reference, RunMode::live));
    CHECK_FALSE(ledger::counts_in(reference, RunMode::dry_run));
    ledger::Entry other;  // a mode this build does not know counts in no budget of it
    other.mode = "replay";
    CHECK_FALSE(ledger::counts_in(other, RunMode::live));
    CHECK_FALSE(ledger::counts_in(other, RunMode::dry_run));
}
