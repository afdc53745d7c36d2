#!/usr/bin/env bash
# `ledger verify` knows every way money can go wrong (issue 13). From a clean dry run's ledger and
# manifest, one wrong line at a time, each exits 1 with its kind at <file>:<line>: a negative cost,
# a cost past six decimals, an absurd cost, an id charged twice, a cost that disagrees with its
# tokens, a manifest image with no ledger line, an ok ledger line with no image in its job's
# manifest, and one image charged by a shard and by the unsharded run. Restored, it exits 0.
source "$(dirname "$0")/common.inc"

ag seed --rows 4 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv
job=$(ls out)
f=$(ls ledger/*.jsonl | tail -1)
m=out/$job/manifest.jsonl
cp "$f" ledger.orig
cp "$m" manifest.orig
expect_exit 0 ag ledger verify
grep -q '"output_tokens":1120' "$f" || fail "ok lines carry no token counts"  # a 1K image of gemini-3.1-flash-image

# edit FILE LINE PYTHON: rewrites line LINE (1-based) of FILE as a dict `l` changed by PYTHON
# ("drop" deletes it, "dup" appends a copy of it after the last line).
edit() { python3 - "$@" <<'PY'
import json, sys
path, n, code = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path).read().splitlines()
if code == 'drop':
    del lines[n - 1]
elif code == 'dup':
    lines.append(lines[n - 1])
else:
    l = json.loads(lines[n - 1])
    exec(code)
    text = json.dumps(l, separators=(',', ':'))
    for k, v in l.items():  # money as written by hand, not as Python prints floats
        if isinstance(v, str) and v.startswith('RAW:'):
            text = text.replace('"%s"' % v, v[4:])
    lines[n - 1] = text
open(path, 'w').write('\n'.join(lines) + '\n')
PY
}
restore() { cp ledger.orig "$f"; cp manifest.orig "$m"; }
wrong() {  # KIND WHERE FRAGMENT: a finding "<WHERE>: <KIND>: ...FRAGMENT..." and exit 1
  expect_exit 1 ag ledger verify
  grep -F -- "$2: $1: " out.txt | grep -qF -- "$3" || { cat out.txt >&2; fail "no $1 at $2 saying '$3'"; }
  restore
}
# The 1-based line of FILE whose FIELD is VALUE.
line_with() { python3 - "$@" <<'PY'
import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    if json.loads(l).get(sys.argv[2]) == sys.argv[3]:
        print(n)
        break
PY
}
field() { sed -n "$2p" "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$3'])"; }
last=$(count_lines ledger.orig)

edit "$f" 2 'l["cost"] = "RAW:-100"'
wrong bad_cost "$f:2" 'cost: "-100" is negative (the budget counts it as $100.000000, never as a credit)'

edit "$f" 2 'l["cost"] = "RAW:0.0390001"'
wrong bad_cost "$f:2" 'cost: "0.0390001" has more than 6 decimals'

edit "$f" 3 'l["cost"] = "RAW:1e13"'
wrong bad_cost "$f:3" 'cost: "1e13" is out of range'

edit "$f" 3 'l["cost"] = "RAW:50000"'
wrong bad_cost "$f:3" 'cost: $50000.000000 is absurd for one request'

edit "$f" 1 dup
wrong duplicate_id "$f:$((last + 1))" "duplicate id \"$(field ledger.orig 1 id)\" (first at $f:1)"

edit "$f" 2 'l["thoughts_tokens"] = 5000'
wrong cost_vs_tokens "$f:2" 'disagrees with its tokens (prompt '

grep -q '"status":"ok"' <(sed -n 4p ledger.orig) || fail "line 4 is not an ok line"
id=$(field ledger.orig 4 id)
edit "$f" 4 drop
wrong missing_ledger_entry "$m:$(line_with manifest.orig ledger_id "$id")" "ledger_id \"$id\" is in no ledger line"

id=$(field manifest.orig 1 ledger_id)
edit "$m" 1 drop
wrong unrecorded_image "$f:$(line_with ledger.orig id "$id")" "ok line \"$id\" has no image in $m"

edit "$f" 1 dup
edit "$f" $((last + 1)) 'l["shard"] = "0/2"; l["id"] += "/again"'
wrong shard_overlap "$f:$((last + 1))" "is charged by shard 0/2 here and unsharded at $f:1: one image paid twice"

expect_exit 0 ag ledger verify
echo "ok: verify exits 1 on each kind of money error and names its line"
