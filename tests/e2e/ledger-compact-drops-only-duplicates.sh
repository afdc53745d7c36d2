#!/usr/bin/env bash
# `ledger compact` removes exact duplicate lines and nothing else: with copies of two lines
# inserted (one in the middle, one at the end), compact --day reports 2 dropped and the day file
# is byte-identical to the original; verify is clean again. A line that shares an id but differs
# by one byte is not an exact duplicate and stays. Fails if compact keeps a copy, drops or
# reorders any other line, or changes a single byte.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv
f=$(ls ledger/*.jsonl | tail -1)
day=$(basename "$f" .jsonl)
cp "$f" original.jsonl

python3 - "$f" <<'PY'
import sys
path = sys.argv[1]
lines = open(path).read().splitlines(keepends=True)
lines.insert(7, lines[1])   # a copy of line 2 after line 7
lines.append(lines[4])      # a copy of line 5 at the end
open(path, 'w').write(''.join(lines))
PY
assert_eq "$(count_lines "$f")" 21 "lines with the copies"
expect_exit 1 ag ledger verify
assert_contains out.txt "duplicate_id"

expect_exit 0 ag ledger compact --day "$day"
assert_eq "$(cat out.txt)" "$day: dropped 2 duplicate lines of 21" "compact output"
cmp "$f" original.jsonl || fail "the compacted day file differs from the original"
expect_exit 0 ag ledger verify

# Same id, one byte different: kept (verify still reports the duplicate id).
sed -n 3p original.jsonl | sed 's/"ts":\([0-9]*\)/"ts":\11/' >near.jsonl
cat near.jsonl >>"$f"
cp "$f" with-near.jsonl
expect_exit 0 ag ledger compact --all --json
python3 -c 'import json; r=json.load(open("out.txt")); assert r["dropped"]==0 and r["days"][0]["lines"]==20, r' \
  || fail "compact --all --json: $(cat out.txt)"
cmp "$f" with-near.jsonl || fail "compact dropped a line that was not an exact duplicate"
expect_exit 1 ag ledger verify
assert_contains out.txt "duplicate_id"
echo "ok: compact drops exact duplicates only and leaves every other byte as it was"
