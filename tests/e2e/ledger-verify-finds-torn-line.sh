#!/usr/bin/env bash
# A write cut short leaves a torn last line. `ledger verify` reports it as torn_line at its
# file:line and exits 1; `ledger show` and `ledger sum` still work (exit 0), count every good
# line, skip the torn one and say so on stderr as a warning. Fails if verify misses the torn
# line, or if show/sum choke on it, count it, or skip it silently.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv
f=$(ls ledger/*.jsonl | tail -1)
n=$(count_lines "$f")
assert_eq "$(cat ledger/*.jsonl | wc -l | tr -d ' ')" 19 "ledger lines"
# Cut the last line in the middle of its JSON: drop its last 30 bytes and the newline.
truncate -s $(( $(stat -c %s "$f") - 31 )) "$f"
tail -c 40 "$f" | grep -q '}$' && fail "the last line still ends its object"

expect_exit 1 ag ledger verify
assert_contains out.txt "$f:$n: torn_line: torn last line"
assert_contains err.txt "torn_line"

expect_exit 0 ag ledger show
assert_eq "$(count_lines out.txt)" 19 "show: a header and the 18 good lines"
assert_contains err.txt "warning: $f:$n: torn last line"

expect_exit 0 ag ledger show --json
python3 -c 'import json; [json.loads(l) for l in open("out.txt")]' || fail "show --json output"
assert_eq "$(count_lines out.txt)" 18 "show --json: the good lines"
assert_contains err.txt "warning: $f:$n: torn last line"

expect_exit 0 ag ledger sum --json
python3 - <<'PY' || fail "sum over a torn ledger"
import json
s = json.load(open('out.txt'))
assert s['total']['entries'] == 18, s
assert s['skippedLines'] == 1, s
PY
assert_contains err.txt "warning: $f:$n: torn last line"
echo "ok: verify reports a torn last line; show and sum skip it with a warning"
