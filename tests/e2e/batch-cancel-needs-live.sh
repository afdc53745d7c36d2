#!/usr/bin/env bash
# `run --tier batch --cancel` without `--mode live` (the mode the batch was sent in): a dry run
# has no batches, so it used to make every image in simulation and exit 0, and the user's live
# batch ran on, holding its money, while the exit code said the cancel was done. It is a usage
# error (exit 2) naming --mode live, and nothing is written.
# --cancel with --retry-failed is refused the same way (it could send requests at full price).
source "$(dirname "$0")/common.inc"

one_variant_batch rows.csv 4
expect_exit 2 ag run rows.csv --tier batch --cancel
assert_contains err.txt "--cancel: cancels the job's live batches"
assert_contains err.txt "--mode live"
[ ! -e out ] || [ "$(find out -name '*.png' | wc -l)" -eq 0 ] || fail "--cancel made images"
[ ! -e ledger ] || [ "$(cat ledger/*.jsonl 2>/dev/null | wc -l)" -eq 0 ] || fail "--cancel wrote ledger lines"
# --cancel with --retry-failed (--retry-tier standard sends the failures again at full price): a
# run asked to give the money back must spend none. A usage error, before anything is read.
GEMINI_API_KEY=e2e-key expect_exit 2 ag run rows.csv --mode live --tier batch --cancel \
  --retry-failed --retry-tier standard --api-base http://127.0.0.1:9
assert_contains err.txt "--cancel: gives the job's batches back and sends nothing"
[ ! -e ledger ] || [ "$(cat ledger/*.jsonl 2>/dev/null | wc -l)" -eq 0 ] || fail "--cancel --retry-failed wrote ledger lines"
echo "ok: --cancel in a dry run is refused, naming --mode live; --cancel --retry-failed too"
