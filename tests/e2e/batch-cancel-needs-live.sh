#!/usr/bin/env bash
# `run --tier batch --cancel` without `--mode live` (the mode the batch was sent in): a dry run
# has no batches, so it used to make every image in simulation and exit 0, and the user's live
# batch ran on, holding its money, while the exit code said the cancel was done. It is a usage
# error (exit 2) naming --mode live, and nothing is written.
source "$(dirname "$0")/common.inc"

one_variant_batch rows.csv 4
expect_exit 2 ag run rows.csv --tier batch --cancel
assert_contains err.txt "--cancel: cancels the job's live batches"
assert_contains err.txt "--mode live"
[ ! -e out ] || [ "$(find out -name '*.png' | wc -l)" -eq 0 ] || fail "--cancel made images"
[ ! -e ledger ] || [ "$(cat ledger/*.jsonl 2>/dev/null | wc -l)" -eq 0 ] || fail "--cancel wrote ledger lines"
echo "ok: --cancel in a dry run is refused, naming --mode live"
