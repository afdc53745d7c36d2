#!/usr/bin/env bash
# `ledger verify` catches a ledger line written twice: a clean dry run verifies (exit 0, a verdict
# on stderr, nothing on stdout); after appending a copy of one ledger line, verify exits 1 and
# prints a duplicate_id finding that names both places (the copy's file:line and the original's),
# in text and in --json. Fails if verify ignores duplicate ids or misplaces them.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv
expect_exit 0 ag ledger verify
assert_eq "$(cat out.txt)" "" "findings of a clean ledger"
assert_contains err.txt "ledger verify: ok: 19 entries in "
assert_contains err.txt ", 19 manifest lines in 1 manifest"

f=$(ls ledger/*.jsonl | tail -1)
sed -n 3p "$f" >>"$f"
n=$(count_lines "$f")
expect_exit 1 ag ledger verify
assert_contains out.txt "$f:$n: duplicate_id: duplicate id \""
assert_contains out.txt "(first at $f:3)"
assert_contains err.txt "duplicate_id"
# Every stdout line is one finding: <where>: <kind>: <message>.
kinds='bad_line|torn_line|unknown_version|duplicate_id|missing_ledger_entry|image_mismatch|cost_mismatch'
grep -vE "^.+: ($kinds): " out.txt && fail "a stdout line that is not a finding"

expect_exit 1 ag ledger verify --json
python3 - "$f" "$n" "$(ls ledger/*.jsonl | wc -l)" <<'PY' || fail "verify --json"
import json, sys
f, n, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open('out.txt'))
assert r['ok'] is False, r
assert r['entries'] == 20 and r['files'] == files, r
dups = [x for x in r['findings'] if x['kind'] == 'duplicate_id']
assert len(dups) == 1, r['findings']
assert dups[0]['where'] == '%s:%s' % (f, n), dups[0]
assert '(first at %s:3)' % f in dups[0]['message'], dups[0]
PY
echo "ok: verify exits 1 on a duplicated ledger line and names both places"
