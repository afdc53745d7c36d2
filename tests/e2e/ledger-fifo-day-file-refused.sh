#!/usr/bin/env bash
# A ledger day file that is a FIFO (a named pipe left by a script, a `mkfifo` typo) made
# `ledger show|sum|verify` and `run` wait forever for a writer at the other end. Each now stops
# at once with STORAGE_IO (exit 74) naming the file and what it is; `run` makes no image.
# `timeout` turns a hang back into a failure (exit 124) instead of stalling the suite.
source "$(dirname "$0")/common.inc"
printf 'scene_id,prompt,variants\nA,hello,1\n' >b.csv
mkdir L
mkfifo "L/2025-11-24.jsonl"
for sub in show sum verify; do
  expect_exit 74 timeout 20 "$ASSETGEN" ledger "$sub" L
  assert_contains err.txt 'L/2025-11-24.jsonl: is a FIFO, not a regular file'
done
# compact names it too (it was "no such day file" before: the file is there).
expect_exit 74 timeout 20 "$ASSETGEN" ledger compact L --day 2025-11-24
assert_contains err.txt 'L/2025-11-24.jsonl: is a FIFO'

# Today's day file: the run's budget reads it and its appender opens it.
mkdir L2
mkfifo "L2/$(date -u +%F).jsonl"
expect_exit 74 timeout 20 "$ASSETGEN" run b.csv --ledger L2 --out o -q
assert_contains err.txt "L2/$(date -u +%F).jsonl"
assert_contains err.txt 'not a regular file'
[ -z "$(find o -name '*.png' 2>/dev/null)" ] || fail "images were made although the ledger was unusable"
echo "ok: a FIFO day file is refused at once by ledger show, sum, verify, compact and run"
