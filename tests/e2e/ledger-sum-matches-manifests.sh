#!/usr/bin/env bash
# `ledger sum` adds money exactly. After two dry-run jobs, `ledger sum --by job --json` gives each
# job the total "cost" of its manifest to the micro-dollar (summed with Python's decimal module
# from the numbers' text, so float noise cannot hide or fake a difference), and the grand total,
# and the totals --by day and --by user, equal the sum over all manifests. Fails if sum loses,
# double-counts or rounds a line, or prints money with binary-float noise.
source "$(dirname "$0")/common.inc"

# No reference URLs in the batches: fetching refs is not what this checks (and needs a network).
ag seed --refs-every 0 >b.csv 2>/dev/null
ag seed --rows 30 --refs-every 0 >c.csv 2>/dev/null
expect_exit 0 ag run b.csv --daily-budget-usd 100
expect_exit 0 ag run c.csv --daily-budget-usd 100  # two jobs exceed the $10 default
assert_eq "$(ls out | wc -l | tr -d ' ')" 2 "job folders"

for by in job day user; do
  expect_exit 0 ag ledger sum --by "$by" --json
  cp out.txt "sum-$by.json"
done

python3 - <<'PY' || fail "ledger sum disagrees with the manifests"
import glob, json, os, re
from decimal import Decimal

def load(text):
    # Every number as Decimal, straight from its text.
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)

manifest_cost, manifest_images = {}, {}
for path in glob.glob('out/*/manifest.jsonl'):
    job = os.path.basename(os.path.dirname(path))
    lines = [load(l) for l in open(path) if l.strip()]
    manifest_cost[job] = sum((m['cost'] for m in lines), Decimal(0))
    manifest_images[job] = len(lines)
assert len(manifest_cost) == 2, manifest_cost
grand = sum(manifest_cost.values(), Decimal(0))
images = sum(manifest_images.values())
assert images == 199 + 60, images
assert grand > 0

for by in ('job', 'day', 'user'):
    raw = open('sum-%s.json' % by).read()
    # Money is printed from integer micro-dollars: at most six decimals, never 0.0389999999.
    for number in re.findall(r'"(?:costUsd|estimatedUsd)":([-0-9.eE+]+)', raw):
        assert re.fullmatch(r'-?\d+(\.\d{1,6})?', number), (by, number)
    s = load(raw)
    assert s['by'] == by, s['by']
    assert s['total']['costUsd'] == grand, (by, s['total']['costUsd'], grand)
    assert s['total']['images'] == images, (by, s['total'])
    assert sum((g['costUsd'] for g in s['groups']), Decimal(0)) == grand, by
    if by == 'job':
        got = {g['key']: g['costUsd'] for g in s['groups']}
        assert got == manifest_cost, (got, manifest_cost)
        assert {g['key']: g['images'] for g in s['groups']} == manifest_images
    if by == 'user':
        assert [g['key'] for g in s['groups']] == ['e2e'], s['groups']
PY

# The table says the same: its TOTAL line carries the grand total in dollars.
expect_exit 0 ag ledger sum --by job
total=$(python3 -c 'import glob,json
from decimal import Decimal
t=sum(json.loads(l,parse_float=Decimal)["cost"] for p in glob.glob("out/*/manifest.jsonl") for l in open(p))
print("$%.6f" % t)')
grep -E "^TOTAL +259 +259 +\\$total " out.txt >/dev/null || { cat out.txt >&2; fail "table TOTAL line, expected $total"; }
echo "ok: ledger sum by job, day and user equals the manifests to the micro-dollar"
