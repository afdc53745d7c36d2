#!/usr/bin/env bash
# `ledger compact` writes through the confined writer, as `run` does: a day file that is a
# symbolic link to a file outside the ledger folder
#   1. is refused (exit 74) naming the day file and the fix, with --day and with --all; the
#      linked file outside (with duplicate lines compact would drop) is unchanged (checksum);
#   2. with --follow-symlinks is read through the link and compacted into a real day file that
#      replaces the link (the rename is atomic); the file outside stays unchanged.
# A real day file beside it is compacted as before (the check does not refuse everything).
source "$(dirname "$0")/common.inc"
source "$ASSETGEN_SOURCE_DIR/tests/e2e/files-common.inc"

ag seed --rows 3 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv --ledger ledger
real=$(ls ledger/*.jsonl | head -1)
head -1 "$real" >>"$real"  # one duplicate line in the real day file

make_sentinel
head -2 "$real" >sentinel/other.jsonl
head -1 "$real" >>sentinel/other.jsonl  # a duplicate compact would drop
sentinel_sum=$(tree_sum sentinel)
ln -s "$T/sentinel/other.jsonl" ledger/2020-01-01.jsonl

# 1. Refused, the target untouched.
expect_exit 74 ag ledger compact --day 2020-01-01
assert_contains err.txt 'ledger/2020-01-01.jsonl: is a symbolic link below "ledger"'
assert_contains err.txt '--follow-symlinks'
assert_sentinel_untouched
[ -L ledger/2020-01-01.jsonl ] || fail "the link was replaced"

expect_exit 74 ag ledger compact --all
assert_contains err.txt 'ledger/2020-01-01.jsonl: is a symbolic link below "ledger"'
assert_sentinel_untouched

# The real day file alone compacts (its duplicate dropped).
day=$(basename "$real" .jsonl)
lines=$(count_lines "$real")
expect_exit 0 ag ledger compact --day "$day"
assert_contains out.txt "$day: dropped 1 duplicate line of $lines"
assert_eq "$(count_lines "$real")" $((lines - 1)) "lines of the real day file after compact"

# 2. Followed when asked.
expect_exit 0 ag ledger compact --day 2020-01-01 --follow-symlinks
assert_contains out.txt "2020-01-01: dropped 1 duplicate line of 3"
[ ! -L ledger/2020-01-01.jsonl ] || fail "the link is still there after compact --follow-symlinks"
assert_eq "$(count_lines ledger/2020-01-01.jsonl)" 2 "lines of the compacted day file"
assert_sentinel_untouched
echo "ok: ledger compact refuses a symlinked day file, and with --follow-symlinks replaces it by the compacted file"
