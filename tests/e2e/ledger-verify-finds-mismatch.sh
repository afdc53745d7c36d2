#!/usr/bin/env bash
# `ledger verify` checks the ledger against the job's manifest. A ledger line whose cost was
# changed by one micro-dollar gives cost_mismatch naming the job (exit 1); a deleted ok line gives
# missing_ledger_entry naming its ledger id (and so the job) plus image_mismatch for the job.
# Fails if verify compares costs with any slack, or does not cross-check manifests at all.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --rows 10 --refs-every 0 >b.csv 2>/dev/null
expect_exit 0 ag run b.csv
job=$(ls out)
f=$(ls ledger/*.jsonl | tail -1)
cp "$f" original.jsonl
expect_exit 0 ag ledger verify

# 1. One micro-dollar more on line 2.
python3 - "$f" <<'PY'
import re, sys
from decimal import Decimal
path = sys.argv[1]
lines = open(path).read().split('\n')
m = re.search(r'"cost":([0-9.]+)', lines[1])
more = Decimal(m.group(1)) + Decimal('0.000001')
lines[1] = lines[1][:m.start(1)] + str(more) + lines[1][m.end(1):]
open(path, 'w').write('\n'.join(lines))
PY
expect_exit 1 ag ledger verify
assert_contains out.txt "job $job: cost_mismatch: manifest out/$job/manifest.jsonl costs"
grep -q 'image_mismatch\|duplicate_id\|missing_ledger_entry' out.txt && fail "only the cost differs: $(cat out.txt)"

# 2. The original ledger without its fifth line (an ok line).
grep -n '' original.jsonl | sed -n 5p | grep -q '"status":"ok"' || fail "line 5 is not an ok line"
id=$(sed -n 5p original.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sed 5d original.jsonl >"$f"
expect_exit 1 ag ledger verify --json
python3 - "$job" "$id" <<'PY' || { cat out.txt >&2; fail "verify --json after deleting a line"; }
import json, sys
job, id = sys.argv[1], sys.argv[2]
r = json.load(open('out.txt'))
assert r['ok'] is False
kinds = {f['kind'] for f in r['findings']}
assert kinds == {'missing_ledger_entry', 'image_mismatch', 'cost_mismatch'}, kinds
missing = [f for f in r['findings'] if f['kind'] == 'missing_ledger_entry']
assert len(missing) == 1 and id in missing[0]['message'] and id.startswith(job + '/'), missing
assert missing[0]['where'].startswith('out/%s/manifest.jsonl:' % job), missing
assert all(f['where'] == 'job ' + job for f in r['findings'] if f['kind'] != 'missing_ledger_entry')
PY

cp original.jsonl "$f"
expect_exit 0 ag ledger verify
echo "ok: verify finds a cost changed by one micro-dollar and a deleted ledger line"
